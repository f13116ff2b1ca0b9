"""Classroom promises built into the platform: cache, shared runs, fairness, body limit."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.demos import registry
from app.jobs import run_key
from app.pacing import FramePacer
from tests.helpers import (
    FakeClock,
    LiveServer,
    SlowParams,
    eventually,
    make_client,
    read_stream,
    slow_steps,
    sse_events,
)

BODY = {"dataset": "moons", "k": 2, "seed": 5}


def test_identical_run_replays_from_the_cache_and_says_so(executor):
    with make_client(**executor) as client:
        first = client.post("/api/demos/kmeans/run", json=BODY)
        second = client.post("/api/demos/kmeans/run", json=BODY)
        assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
        assert first.json()["result"] == second.json()["result"]
        assert first.json()["frames"] == second.json()["frames"]
        with client.stream("POST", "/api/demos/kmeans/stream", json=BODY) as response:
            assert response.headers["x-cache"] == "hit"
            replayed = list(sse_events(response.iter_lines()))
        with make_client(cache_mb=0) as uncached:
            computed = read_stream(uncached, "/api/demos/kmeans/stream",
                                   params={k: str(v) for k, v in BODY.items()})
        assert replayed[:-1] == computed[:-1]  # the very same frames
        other = client.post("/api/demos/kmeans/run", json={**BODY, "seed": 6})
        assert other.headers["x-cache"] == "miss"
        assert client.get("/healthz").json()["cache"]["hits"] >= 2


def test_cache_is_bounded_by_memory():
    with make_client(cache_mb=0.05) as client:  # ~52 kB: room for very few runs
        for seed in range(8):
            client.post("/api/demos/kmeans/run", json={**BODY, "seed": seed})
        cache = client.get("/healthz").json()["cache"]
        assert cache["bytes"] <= 0.05 * 2**20
        assert cache["entries"] < 8


def test_identical_requests_arriving_together_compute_once(executor, test_demos):
    with LiveServer(max_jobs=2, max_queue=4, **executor) as server:
        body = {"steps": 30, "delay": 0.02}
        answers = []

        def ask():
            answers.append(httpx.post(f"{server.url}/api/demos/test-slow/run", json=body,
                                      timeout=30))

        before = slow_steps()
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status_code for a in answers] == [200] * 4, [a.text[:300] for a in answers]
        caches = sorted(a.headers["x-cache"] for a in answers)
        # One computes; the others join it while it runs (or, arriving after its end, replay it).
        assert caches.count("miss") == 1 and set(caches) - {"miss"} <= {"shared", "hit"}
        assert slow_steps() - before == 30  # one computation of 30 steps
        assert len({a.json()["frames"] for a in answers}) == 1


def test_rate_limit_per_client_and_trusted_proxy_only(test_demos):
    with make_client(rate_per_minute=2) as client:
        ok = [client.post("/api/demos/kmeans/run", json={**BODY, "seed": s}) for s in (1, 2)]
        assert [r.status_code for r in ok] == [200, 200]
        refused = client.post("/api/demos/kmeans/run", json={**BODY, "seed": 3})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        # A cached answer costs nothing and is never refused.
        assert client.post("/api/demos/kmeans/run", json={**BODY, "seed": 1}).status_code == 200
    with make_client(rate_per_minute=1) as client:
        # The peer is not a trusted proxy: a forged X-Forwarded-For changes nothing.
        for seed, status in ((1, 200), (2, 429)):
            response = client.post("/api/demos/kmeans/run", json={**BODY, "seed": seed},
                                   headers={"x-forwarded-for": f"203.0.113.{seed}"})
            assert response.status_code == status


def test_runs_refused_because_the_class_is_full_do_not_count_against_the_rate(executor,
                                                                             test_demos):
    with LiveServer(max_jobs=1, max_queue=0, rate_per_minute=3, **executor) as server, httpx.Client(
        base_url=server.url, timeout=60
    ) as http:
        slow = {"steps": 100000, "delay": 0.01}
        with http.stream("POST", "/api/demos/test-slow/stream", json=slow) as response:
            events = sse_events(response.iter_lines())  # kept: dropping it closes the stream
            assert next(events)[0] == "frame"  # start 1 of 3
            for seed in (1, 2):  # the one slot is busy: refused, nothing started
                busy = http.post("/api/demos/test-slow/run", json={**slow, "seed": seed})
                assert busy.status_code == 429
                assert "every slot is busy" in busy.json()["detail"][0]["message"]
        eventually(lambda: http.get("/healthz").json()["jobs"]["running"] == 0, "slot freed")
        for seed in (3, 4):  # starts 2 and 3 of 3
            run = http.post("/api/demos/test-slow/run", json={"steps": 2, "delay": 0, "seed": seed})
            assert run.status_code == 200, run.text
        over = http.post("/api/demos/test-slow/run", json={"steps": 2, "delay": 0, "seed": 5})
        assert over.status_code == 429
        assert "new runs a minute per client" in over.json()["detail"][0]["message"]


def test_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy():
    from starlette.requests import Request

    from app.limits import ClientKeys

    def request(peer, forwarded=None):
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return Request({"type": "http", "client": (peer, 1), "headers": headers})

    keys = ClientKeys("10.0.0.0/8")
    assert keys.of(request("10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    assert keys.of(request("10.1.2.3", "1.1.1.1, 198.51.100.7, 10.9.9.9")) == "198.51.100.7"
    assert keys.of(request("198.51.100.9", "1.2.3.4")) == "198.51.100.9"


def test_request_body_over_the_limit_is_413():
    with make_client(max_body_bytes=2048) as client:
        big = {"dataset": "custom", "points": [[0.5, 0.5]] * 400}
        response = client.post("/api/demos/kmeans/run", json=big)
        assert response.status_code == 413
        assert "2048" in response.json()["detail"][0]["message"]
        assert client.post("/api/demos/kmeans/run", json=BODY).status_code == 200
        chunked = client.post("/api/demos/kmeans/run", content=iter([b"{" + b" " * 4000 + b"}"]),
                              headers={"content-type": "application/json"})
        assert chunked.status_code == 413


def test_a_replayed_stream_keeps_the_pace_of_the_original_run(test_demos):
    with make_client() as client:
        clock = client.app.state.clock = FakeClock()  # streams pace frames by this clock
        body = {"steps": 10, "delay": 0.05}  # a little "training": frames come apart
        url = "/api/demos/test-slow/stream"
        with client.stream("POST", url, json=body) as response:
            original = list(sse_events(response.iter_lines()))
        assert clock.sleeps == []  # computed live: frames go out as they come
        runner = client.app.state.runner
        key = run_key(registry()["test-slow"], SlowParams(**body))
        offsets = runner.cache.runs.get(key).offsets
        with client.stream("POST", url, json=body) as response:
            assert response.headers["x-cache"] == "hit"
            replayed = list(sse_events(response.iter_lines()))
        assert replayed[:-1] == original[:-1]
        # The replay waited until each frame's time in the original run: its last frame
        # went out as long after the start as the original's did (curves grow, not jump).
        last_frame = len(original) - 2
        assert sum(clock.sleeps) == pytest.approx(offsets[last_frame])
        assert len(clock.sleeps) >= 10 and offsets[last_frame] > offsets[0]
        clock.sleeps.clear()
        run = client.post("/api/demos/test-slow/run", json=body)
        assert run.headers["x-cache"] == "hit" and clock.sleeps == []  # the result: at once


def test_frame_pacer_waits_for_the_later_of_the_demo_pace_and_the_recording():
    clock = FakeClock()
    pacer = FramePacer(clock, frame_seconds=0.1, offsets=[0.0, 0.05, 0.5, 0.52])
    released = []
    # Its own thread and loop: Playwright's session may hold a running loop on this one.
    with ThreadPoolExecutor(1) as thread:
        for index in range(5):
            thread.submit(asyncio.run, pacer.wait_for_turn(index)).result()
            released.append(round(clock.now(), 9))
    # 0.1 s apart at least (the demo's pace), never before the recorded offset.
    assert released == [0.0, 0.1, 0.5, 0.6, 0.7]


def test_slow_readers_hold_bounded_memory_and_the_furthest_behind_is_cut_off():
    from app.cache import event_size
    from app.streams import FELL_BEHIND, StreamBuffers

    frame = ("frame", "x" * 100_000)  # 100 kB
    buffers = StreamBuffers(max_bytes=2_000_000)
    shared_run, own_run = object(), object()
    # Thirty readers of one run share its events: they hold one run's worth, not thirty.
    class_ = [buffers.subscription(None, "hit", source=shared_run) for _ in range(30)]
    for _ in range(15):
        for reader in class_:
            reader.put(frame)
    assert buffers.held() == 15 * event_size(frame)  # about 1.5 MB
    assert not any(reader.cut_off for reader in class_)
    # One stalled reader of a run of its own pushes the total past 2 MB: it alone is cut.
    stalled = buffers.subscription(None, "miss", source=own_run)
    for _ in range(20):
        stalled.put(frame)
    assert stalled.cut_off and not any(reader.cut_off for reader in class_)
    assert buffers.held() <= 2_000_000
    assert stalled.events.qsize() == 1  # what it had queued is gone; one message is left
    assert stalled.events.get_nowait() == ("error", {"message": FELL_BEHIND})
    # A reader that keeps up frees what it read.
    reader = class_[0]
    with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever runs in this one
        for _ in range(15):
            thread.submit(asyncio.run, reader.next_event()).result()
    assert reader.backlog == 0


def test_the_cluster_store_never_sends_a_replica_to_follow_its_own_run():
    from app.cache import SharedRuns

    async def claims() -> list[str]:
        store = SharedRuns(max_bytes=2**20)
        return [(await store.claim("k", owner, lease=20))[0] for owner in ("a", "a", "b")]

    with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever runs in this one
        assert thread.submit(asyncio.run, claims()).result() == ["claimed", "claimed",
                                                                  "computing"]


def test_the_cluster_store_keeps_a_runs_events_in_order_whatever_order_calls_arrive_in():
    # Ray does not promise that an async actor runs one caller's calls in order: the
    # owner's last batch (with "done") can arrive after its finish(). A follower must
    # still get every event, in order, and the run must end "done", not "gone".
    from app.cache import Recording, SharedRuns

    events = [("frame", f"f{i}") for i in range(5)] + [("done", {"stopped": None})]

    async def scrambled() -> list:
        store = SharedRuns(max_bytes=2**20)
        await store.claim("k", "a", lease=20)
        seen = []
        await store.append("k", "a", 3, events[3:5])  # arrives before 0..2
        seen.append(await store.follow("k", 0, "b", wait=0))
        await store.append("k", "a", 0, events[0:3])
        await store.finish("k", "a", Recording(events, 100, [0.0] * 6), 6)  # before "done"
        seen.append(await store.follow("k", 0, "b", wait=0))
        await store.append("k", "a", 5, events[5:])
        seen.append(await store.follow("k", 0, "b", wait=0))
        cached, recording = await store.claim("k", "c", lease=20)
        return [*seen, (cached, recording.events)]

    with ThreadPoolExecutor(1) as thread:
        early, before_done, after_done, replay = thread.submit(asyncio.run,
                                                               scrambled()).result()
    assert early == ([], "running")  # events 3 and 4 wait for 0..2
    assert before_done == (events[:5], "running")  # finished, but "done" is still coming
    assert after_done == (events, "done")
    assert replay == ("cached", events)


def test_a_claim_given_back_ends_the_run_for_its_followers():
    from app.cache import SharedRuns

    async def given_back() -> tuple:
        store = SharedRuns(max_bytes=2**20)
        await store.claim("k", "a", lease=20)
        await store.append("k", "a", 0, [("queued", {"position": 1})])
        await store.finish("k", "a", None, 1)
        return await store.follow("k", 0, "b", wait=0), await store.claim("k", "b", lease=20)

    with ThreadPoolExecutor(1) as thread:
        followed, claimed = thread.submit(asyncio.run, given_back()).result()
    assert followed == ([("queued", {"position": 1})], "gone")
    assert claimed == ("claimed", None)  # nobody computes it: the next asker may
