"""Real-browser fixtures: the app served by uvicorn in a subprocess, Chromium via Playwright.

Every page watches for console errors, page errors, CSP violations and requests to
any other host (those are aborted: LiveGrad must work offline). A test fails at
teardown if any of them happened.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push({
    directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
    line: e.lineNumber, sample: e.sample,
  });
});
"""


# ---- the server -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LIVEGRAD_MAX_JOBS": "2"}
    log_path = ROOT / "test-artifacts" / "browser-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy within 30 s; see {log_path}")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


# ---- the browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@dataclass
class Watch:
    """What went wrong in one page: filled by listeners, checked at teardown."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

        def route(r) -> None:
            host = urlsplit(r.request.url).hostname
            scheme = urlsplit(r.request.url).scheme
            if scheme in ("http", "https", "ws", "wss") and host not in LOCAL_HOSTS:
                self.outside_requests.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        page.route("**/*", route)
        self.pages.append(page)
        return page

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # A refused run (422 bad parameter, 429 busy) is shown in the demo's status line;
        # Chromium also logs it, but that is the page working as designed.
        if re.match(r"Failed to load resource: .* status of 4\d\d", message.text) and \
                "/api/demos/" in url:
            return
        self.console_errors.append(f"{message.text} @ {url}:{message.location.get('lineNumber')}")

    def csp_violations(self) -> list:
        found = []
        for page in self.pages:
            if page.is_closed():
                continue
            try:
                found += page.evaluate("window.__cspViolations || []")
            except Exception:  # the page is navigating or gone: nothing to read
                pass
        return found

    def check(self) -> None:
        problems = {
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "CSP violations": self.csp_violations(),
            "requests to other hosts": self.outside_requests,
        }
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, f"the browser reported problems: {bad}"


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def new_page(
    browser: Browser, server_url: str, watch: Watch
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (keyword args go to new_context), fully watched."""
    contexts: list[BrowserContext] = []

    def make(**context_args) -> Page:
        context = browser.new_context(base_url=server_url, **context_args)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        return watch.attach(context.new_page())

    yield make
    # Read CSP violations before closing, then fail the test if anything went wrong.
    try:
        watch.check()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)


@pytest.fixture(scope="session")
def shots() -> Callable[..., Path]:
    """shots(page, name[, element]): a PNG in test-artifacts/screenshots/.

    Short pages are captured full page. A lesson page is ~27 000 px tall with a dozen
    responsive Plotly charts: a full-page capture resizes the viewport, every chart
    relayouts, and one shot takes 12-18 s. There we capture the viewport instead, after
    scrolling `element` (a demo, a heading) to the top.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page: Page, name: str, element: Locator | None = None) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        if element is not None:
            element.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
        full = page.evaluate("document.documentElement.scrollHeight") <= 4000
        page.screenshot(path=str(path), full_page=full and element is None)
        return path

    return shoot
