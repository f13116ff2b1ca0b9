"""Where jobs compute: never in the web process; faults end a stream, not a server.

Each test runs against the local worker pool and against a real Ray cluster on
127.0.0.1 (the ``executor`` fixture). Workers are killed for real (SIGKILL), and a demo
stuck inside one long step is cut off at its budget plus a grace.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.config import Settings
from tests.helpers import HEAVY, LiveServer, ServerProcess, eventually, health, sse_events

SLOW = {"steps": 100000, "delay": 0.01}  # about 17 minutes if nobody stops it


def zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def a_short_run_works(http: httpx.Client) -> None:
    run = http.post("/api/demos/test-slow/run", json={"steps": 3, "delay": 0, "seed": 99})
    assert run.status_code == 200, run.text
    assert run.json()["result"] == {"steps": 3}


def test_jobs_compute_outside_the_web_process(executor, test_demos):
    with LiveServer(max_jobs=1, **executor) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        with http.stream("POST", "/api/demos/test-slow/stream",
                         json={"steps": 3, "delay": 0}) as response:
            frames = [data for event, data in sse_events(response.iter_lines())
                      if event == "frame"]
        pids = {frame["metrics"]["pid"] for frame in frames}
        assert len(frames) == 4 and len(pids) == 1 and os.getpid() not in pids
        assert health(http)["executor"]["executor"] == ("ray" if executor else "processes")
        if executor:  # the cluster's nodes, as /healthz reports them
            eventually(lambda: health(http)["executor"].get("nodes_alive") == 1, "one node")
            assert health(http)["executor"]["cluster_cpus"] == 2


def test_a_worker_killed_mid_run_ends_the_stream_with_an_error_and_is_replaced(
        executor, test_demos):
    with LiveServer(max_jobs=1, max_queue=0, **executor) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        with http.stream("POST", "/api/demos/test-slow/stream", json=SLOW) as response:
            events = sse_events(response.iter_lines())
            event, first = next(events)
            assert event == "frame"
            os.kill(first["metrics"]["pid"], signal.SIGKILL)
            rest = list(events)  # the stream ends by itself: it does not hang
        assert rest[-1][0] == "error"
        message = rest[-1][1]["message"]
        assert message.startswith("Slow stopped") and "Try again" in message
        assert health(http)["jobs"] == {"running": 0, "queued": 0}  # the slot is free
        a_short_run_works(http)
        if not executor:  # the pool: a fresh worker took the dead one's place
            eventually(lambda: health(http)["executor"]["workers_alive"] == 1, "a new worker")
            assert health(http)["executor"]["worker_restarts"] == 1


def test_a_job_stuck_in_one_step_is_killed_after_its_budget(executor, test_demos):
    with LiveServer(max_jobs=1, max_queue=0, job_seconds=0.5, **executor) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        events = []
        with http.stream("POST", "/api/demos/test-stuck/stream", json={}) as response:
            events = list(sse_events(response.iter_lines()))
        assert [name for name, _ in events] == ["frame", "error"]
        assert "ran past its time budget of 0.5 s" in events[-1][1]["message"]
        assert health(http)["jobs"] == {"running": 0, "queued": 0}
        a_short_run_works(http)


def test_a_stuck_job_whose_student_left_is_killed_and_frees_its_slot(executor, test_demos):
    with LiveServer(max_jobs=1, max_queue=0, job_seconds=600, **executor) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        with http.stream("POST", "/api/demos/test-stuck/stream", json={}) as response:
            assert next(sse_events(response.iter_lines()))[0] == "frame"
        # Stop was asked and ignored; a few seconds later the worker is killed instead.
        eventually(lambda: health(http)["jobs"]["running"] == 0, "the stuck job ended")
        a_short_run_works(http)


def test_replicas_on_one_cluster_share_finished_runs(ray_cluster):
    body = {"dataset": "moons", "k": 3, "seed": 21}
    settings = {"ray_address": ray_cluster, "ray_namespace": "test-replicas", "max_jobs": 1}
    with ServerProcess(**settings) as a, ServerProcess(**settings) as b:
        computed = httpx.post(f"{a.url}/api/demos/kmeans/run", json=body, timeout=60)
        replayed = httpx.post(f"{b.url}/api/demos/kmeans/run", json=body, timeout=60)
        assert computed.headers["x-cache"] == "miss" and replayed.headers["x-cache"] == "hit"
        assert replayed.json()["result"] == computed.json()["result"]
        assert httpx.get(f"{b.url}/healthz").json()["cache"]["hits"] >= 1
    # Stopped as docker stop does (SIGTERM): a graceful shutdown, not Ray's sys.exit(15).
    assert a.process.returncode == b.process.returncode == -signal.SIGTERM


def test_a_run_computing_through_one_replica_is_followed_not_recomputed_by_another(
        ray_cluster):
    body = {**HEAVY, "seed": 8}  # many seconds of work: still computing when B is asked
    settings = {"ray_address": ray_cluster, "ray_namespace": "test-follow", "max_jobs": 1,
                "job_seconds": 6}
    with ServerProcess(**settings) as a, ServerProcess(**settings) as b:
        with httpx.stream("POST", f"{a.url}/api/demos/kmeans-elbow/stream", json=body,
                          timeout=60) as computing:
            events = sse_events(computing.iter_lines())
            assert next(events)[0] == "frame"
            followed = httpx.post(f"{b.url}/api/demos/kmeans-elbow/run", json=body,
                                  timeout=60)
            assert followed.headers.get("x-cache") == "shared", (followed.status_code,
                                                                 followed.text)
            assert httpx.get(f"{b.url}/healthz").json()["jobs"]["running"] == 0
            original = [data for name, data in events if name == "done"][0]
        assert followed.json() == original  # the same run: frames, result, its seconds


@pytest.mark.parametrize("address", ["ray://head:10001", "http://head:8265", "head"])
def test_a_ray_address_that_cannot_stream_is_refused_at_start(address):
    with pytest.raises(ValidationError, match="ray_address"):
        Settings(ray_address=address)
    assert Settings(ray_address="10.0.0.5:6379").ray_address == "10.0.0.5:6379"


def test_workers_outlive_a_killed_forkserver_and_health_stays_true(test_demos):
    from multiprocessing import forkserver

    with LiveServer(max_jobs=2, max_queue=0) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        a_short_run_works(http)
        pid = forkserver._forkserver._forkserver_pid
        os.kill(pid, signal.SIGKILL)
        eventually(lambda: zombie(pid), "the forkserver died")  # multiprocessing reaps it
        assert health(http)["executor"]["workers_alive"] == 2  # they still are
        a_short_run_works(http)
        with http.stream("POST", "/api/demos/test-slow/stream", json=SLOW) as response:
            events = sse_events(response.iter_lines())
            os.kill(next(events)[1]["metrics"]["pid"], signal.SIGKILL)
            message = list(events)[-1][1]["message"]
        # Its exit status went with the forkserver: "lost", not a made-up "code 255".
        assert message == ("Slow stopped: the process computing it was lost. Try again or "
                           "use smaller settings.")
        # Its replacement needs a new forkserver; meanwhile pages and health answer.
        eventually(lambda: health(http)["executor"]["workers_alive"] == 2, "a new worker")
        a_short_run_works(http)
