"""Test helpers shared by test modules: test-only demos, clients, SSE parsing, a live server.

Kept out of conftest.py so that every test imports one and the same module.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi.testclient import TestClient

from app.config import ROOT, Settings
from app.demos.base import Demo, RunContext
from app.main import create_app
from app.params import parse_params
from tests.demos import TEST_DEMOS, SlowParams, slow_steps  # noqa: F401 (re-exported)

LESSONS = ROOT / "lessons"


# ---- test-only demos live in tests/demos.py, importable by worker processes ----------

# ---- time: a fake clock, and waiting for something without a timing claim -------------


class FakeClock:
    """Stands in for app.pacing.Clock: time moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)  # still a point where other tasks may run


T = TypeVar("T")


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a fresh event loop in a thread of its own:
    Playwright's session may hold a running loop on the test's thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


# How long a test waits for something that should happen at once before calling it
# hung. A guard against a stuck suite, not a claim about speed: claims about "within
# one step" are made with counts, and timing goals live in bench/.
HUNG_SECONDS = 60.0


def eventually(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds; fail only if it never does (a hung server)."""
    deadline = time.monotonic() + HUNG_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


# ---- running a demo in-process, to the end --------------------------------------------


def extreme_params(demo: Demo, which: str) -> dict[str, Any]:
    """Every numeric field at its minimum or maximum; choices keep their defaults."""
    values = demo.defaults()
    for name, prop in demo.schema()["properties"].items():
        if prop.get("type") in ("integer", "number"):
            values[name] = prop["minimum" if which == "min" else "maximum"]
    return values


def run_to_done(demo: Demo, values: dict[str, Any],
                seconds: float | None = None) -> tuple[list[dict], dict]:
    """All frames of a run and its result (raises ParamsError); with no time budget, or
    stopped after ``seconds`` as the server's job budget stops it."""
    params = parse_params(demo, values)
    generator = demo.run(params, RunContext() if seconds is None else
                         RunContext(deadline=time.monotonic() + seconds))
    frames = []
    while True:
        try:
            frames.append(next(generator))
        except StopIteration as stop:
            return frames, stop.value


# ---- apps and clients ---------------------------------------------------------------


def make_client(**settings) -> TestClient:
    return TestClient(create_app(Settings(**settings)))


def result_of(client: TestClient, slug: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/demos/{slug}/run, which must succeed: the run's result."""
    response = client.post(f"/api/demos/{slug}/run", json=body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def refused(client: TestClient, slug: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/demos/{slug}/run, which must be a 422 with one item: that item."""
    response = client.post(f"/api/demos/{slug}/run", json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    return error


def health(http: httpx.Client | TestClient) -> dict[str, Any]:
    return http.get("/healthz").json()


def busy(http: httpx.Client | TestClient) -> bool:
    """Some job is computing."""
    return health(http)["jobs"]["running"] > 0


# A worker notices a departed client before its next step. The slow demo's steps take
# LEAVING_STEP_SECONDS in the tests that leave, so a job that kept going would count
# hundreds more; a loaded machine (the web process noticing late) still stays well within.
LEAVING_STEP_SECONDS = 0.05
STEPS_AFTER_LEAVING = 50


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, object]]:
    """Parse ``text/event-stream`` lines into (event, decoded JSON data)."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def read_stream(client: TestClient, url: str, **kwargs) -> list[tuple[str, object]]:
    with client.stream("GET", url, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(sse_events(response.iter_lines()))


# ---- a real server in a thread (same process, so test demos are visible) -------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, **settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(Settings(**settings)), host="127.0.0.1",
                                port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ServerProcess:
    """The real server in its own process, as a classroom would run it."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **{f"LIVEGRAD_{k.upper()}": str(v) for k, v in env.items()}}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("server did not start")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---- a classroom's load: clients keeping every slot busy ------------------------------

# Heavy enough to keep a core busy for many seconds: 12 values of k, 10 restarts each.
HEAVY = {"dataset": "uniform", "n_points": 2000, "k_max": 12, "n_init": 10}


class BackgroundStream:
    """Reads a stream in a thread until told to stop (then the client disconnects)."""

    def __init__(self, url: str, body: dict) -> None:
        self.url, self.body = url, body
        self.stop = threading.Event()
        self.frames = 0
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        with httpx.Client(timeout=60) as client, client.stream(
            "POST", self.url, json=self.body
        ) as response:
            for event, _ in sse_events(response.iter_lines()):
                self.frames += event == "frame"
                if self.stop.is_set() or event in ("done", "error"):
                    return

    def __enter__(self) -> BackgroundStream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)
