"""A classroom against a real server process on 127.0.0.1: busy cores, pings, paths, soak.

Every loop here is bounded in requests and seconds, and talks only to loopback.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import fastapi.routing
import httpx
import pytest

from tests.helpers import HEAVY, BackgroundStream, LiveServer, ServerProcess, eventually, sse_events


def test_pages_are_served_while_every_slot_computes():
    """Every page answers while both slots compute; how fast is bench/classroom_latency.py's
    question (a ratio against the idle server), since it depends on the machine's load."""
    with ServerProcess(max_jobs=2, max_queue=4) as server, httpx.Client(
        base_url=server.url, timeout=10
    ) as http:
        url = f"{server.url}/api/demos/kmeans-elbow/stream"
        http.get("/lessons/kmeans")  # render once: the lesson cache is warm, as in class
        with BackgroundStream(url, {**HEAVY, "seed": 1}), BackgroundStream(
            url, {**HEAVY, "seed": 2}
        ):
            eventually(lambda: http.get("/healthz").json()["jobs"]["running"] == 2,
                       "both slots compute")
            for _ in range(25):
                for path in ("/lessons/kmeans", "/healthz", "/"):
                    assert http.get(path).status_code == 200
            assert http.get("/healthz").json()["jobs"]["running"] == 2  # still busy
        # Both clients left: both slots are freed (tests/test_api.py counts the steps).
        eventually(lambda: http.get("/healthz").json()["jobs"]["running"] == 0,
                   "both slots freed after their clients left")


def test_streams_carry_pings_and_anti_buffering_headers(test_demos, monkeypatch):
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.2)
    with LiveServer() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        with http.stream("GET", "/api/demos/test-slow/stream",
                         params={"steps": 2, "delay": 0.7}) as response:
            assert response.headers["x-accel-buffering"] == "no"
            assert response.headers["cache-control"] == "no-cache"
            lines = list(response.iter_lines())
    assert ": ping" in lines  # the idle stream was kept alive
    events = list(sse_events(iter(lines)))
    assert [name for name, _ in events] == ["frame", "frame", "frame", "done"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app/config.py",
        "/static/%2e%2e/app/config.py",
        "/static/..%2fapp%2fconfig.py",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/css/site.css%00.py",
        "/lessons/..%2f..%2fetc%2fpasswd",
        "/lessons/%2e%2e",
        "/lessons/kmeans%00",
        "/lessons//etc/passwd",
        "/lessons/KMEANS",
    ],
)
def test_no_path_escapes_the_content_folders(path):
    with LiveServer() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", path)  # sent exactly as written, no client normalising
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 404
    assert b"BaseSettings" not in body and b"root:" not in body


def _process_numbers(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "threads": int(values["Threads"]),
        "rss_kb": int(values["VmRSS"].split()[0]),
        "fds": len(list(Path(f"/proc/{pid}/fd").iterdir())),
    }


def test_soak_returns_to_baseline():
    """Bounded soak: 240 mixed requests; threads, files and memory end near baseline."""
    with ServerProcess(max_jobs=2, max_queue=8) as server, httpx.Client(
        base_url=server.url, timeout=30
    ) as http:
        for seed in range(3):  # warm up: imports, first renders, torch's pools
            http.post("/api/demos/kmeans/run", json={"seed": seed})
            http.get("/lessons/kmeans")
        time.sleep(0.5)
        baseline = _process_numbers(server.pid)
        for i in range(60):
            assert http.get("/lessons/kmeans").status_code == 200
            assert http.get("/healthz").status_code == 200
            # New parameters every time: real computations, not cache replays.
            run = http.post("/api/demos/kmeans/run", json={"seed": 100 + i, "n_points": 200})
            assert run.status_code == 200
            with http.stream("POST", "/api/demos/kmeans-elbow/stream",
                             json={"seed": 200 + i}) as response:  # leave after one event
                next(response.iter_lines())
        eventually(lambda: http.get("/healthz").json()["jobs"]["running"] == 0,
                   "every job of the soak ended")
        time.sleep(1.0)
        after = _process_numbers(server.pid)
    assert after["threads"] <= baseline["threads"] + 4, (baseline, after)
    assert after["fds"] <= baseline["fds"] + 10, (baseline, after)
    # The run cache may legitimately hold up to its budget (64 MB by default).
    assert after["rss_kb"] <= baseline["rss_kb"] + 120_000, (baseline, after)
