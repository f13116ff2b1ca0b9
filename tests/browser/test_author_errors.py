"""Issue 18 in a real browser: a broken lesson's page shows its mistake with the line
quoted, and in development mode reloads itself into the lesson once the author fixes
the file; the demo catalogue copies a fence; screenshots of both at 1280 and 390 px."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CSP_LISTENER, Watch
from tests.helpers import ServerProcess

pytestmark = pytest.mark.browser

FRONT = "---\ntitle: Clusters by hand\nsummary: A lesson being written.\n---\n\n"
BROKEN = FRONT + "Some words.\n\n::: nte Careful\nSquares.\n:::\n\n```demo kmeans-elbw\n```\n"
FIXED = FRONT + "Some words.\n\n::: note Careful\nSquares.\n:::\n\n```demo kmeans\nk: 2\n```\n"


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def author_server(tmp_path):
    (tmp_path / "clusters.md").write_text(BROKEN)
    with ServerProcess(lessons_dir=str(tmp_path), dev="1", max_jobs="1") as server:
        yield server, tmp_path


def expected_500(watch: Watch) -> None:
    """Chromium logs the error page's own status 500 as a console error: that one is the
    page working as designed (app/routes/pages.py says why 500); nothing else may be."""
    watch.console_errors[:] = [error for error in watch.console_errors
                               if not ("status of 500" in error and "/lessons/clusters" in error)]


def open_page(browser: Browser, watch: Watch, url: str, **context_args) -> Page:
    context = browser.new_context(base_url=url, **context_args)
    context.set_default_timeout(30_000)
    context.add_init_script(CSP_LISTENER)
    return watch.attach(context.new_page())


@pytest.mark.parametrize(("width", "theme"), [(1280, "light"), (390, "dark")])
def test_the_error_page_shows_the_mistake_then_reloads_into_the_fixed_lesson(
        browser: Browser, watch: Watch, author_server, shots: Callable, width: int,
        theme: str) -> None:
    server, folder = author_server
    page = open_page(browser, watch, server.url, viewport={"width": width, "height": 900},
                     color_scheme=theme)
    try:
        response = page.goto("/lessons/clusters")
        assert response.status == 500
        assert page.title() == "Error in lesson clusters.md line 8 · LiveGrad"
        problems = page.locator(".lesson-problem")
        expect(problems).to_have_count(2)
        expect(problems.nth(0)).to_contain_text("did you mean note?")
        expect(problems.nth(0).locator(".lesson-problem-message code").last).to_have_text("note")
        expect(problems.nth(0).locator(".offending")).to_have_text("8::: nte Careful")
        expect(problems.nth(1)).to_contain_text("did you mean kmeans-elbow?")
        assert not serious_violations(page)
        shots(page, f"author-error-page-{width}-{theme}")
        # The author fixes the file and saves: the page reloads itself into the lesson.
        (folder / "clusters.md").write_text(FIXED)
        stat = (folder / "clusters.md").stat()
        os.utime(folder / "clusters.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        expect(page.locator("h1")).to_have_text("Clusters by hand")
        expect(page.locator(".callout-note")).to_contain_text("Squares.")
        expect(page.locator('section[data-demo="kmeans"]')).to_be_visible()
    finally:
        expected_500(watch)
        watch.check()
        page.context.close()


def test_the_index_marks_a_broken_lesson(browser: Browser, watch: Watch, author_server,
                                         shots: Callable) -> None:
    server, _ = author_server
    page = open_page(browser, watch, server.url, viewport={"width": 1280, "height": 900})
    try:
        page.goto("/")
        item = page.locator('[data-broken-lesson="clusters"]')
        expect(item).to_contain_text("clusters.md line 8")
        expect(item).to_contain_text("(and 1 more)")
        shots(page, "author-index-broken-1280-light")
        item.get_by_role("link").click()
        expect(page.locator("h1")).to_have_text("Error in lesson clusters.md line 8")
    finally:
        expected_500(watch)
        watch.check()
        page.context.close()


@pytest.mark.parametrize(("width", "theme"), [(1280, "light"), (1280, "dark"), (390, "light"),
                                              (390, "dark")])
def test_the_demo_catalogue_copies_a_fence_and_reads_at_every_width(
        new_page: Callable, shots: Callable, width: int, theme: str) -> None:
    page = new_page(viewport={"width": width, "height": 900}, color_scheme=theme,
                    permissions=["clipboard-read", "clipboard-write"])
    page.goto("/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Demos").click()
    expect(page.locator("h1")).to_have_text("Demo catalogue")
    entry = page.locator("#kmeans")
    expect(entry).to_contain_text("Used in")
    # Nothing overflows sideways, the parameter tables included.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    copy = entry.locator("[data-copy-code]")
    copy.click()
    expect(copy).to_have_text("✓ Copied")
    pasted = page.evaluate("navigator.clipboard.readText()")
    assert pasted.startswith("```demo kmeans\ndataset: blobs\n") and pasted.endswith("```\n")
    if (width, theme) == (1280, "light"):
        assert not serious_violations(page)
    shots(page, f"demo-catalogue-{width}-{theme}", page.locator("#kmeans"))
    shots(page, f"demo-catalogue-fence-{width}-{theme}", entry.locator("figure.source"))
