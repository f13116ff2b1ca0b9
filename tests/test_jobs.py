"""The job runner (app/jobs.py): admission, the queue and its positions, refusals with a
Retry-After, identical runs shared, finished runs replayed, cancel and kill.

Most tests drive a :class:`JobRunner` directly with a fake executor whose jobs move only
when the test says so, so every assertion is about an event or a number, never about
time; the last ones check the same promises end to end, through a real server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.cache import Event, InProcessCache
from app.executors.job import KILL_AFTER_SECONDS, JobSpec
from app.jobs import STARTUP_SECONDS, JobRunner, RunnerFull
from app.streams import Subscription
from tests.demos import SlowParams
from tests.demos import slow as SLOW_DEMO
from tests.helpers import (
    LEAVING_STEP_SECONDS,
    STEPS_AFTER_LEAVING,
    LiveServer,
    busy,
    eventually,
    health,
    in_own_loop,
    slow_steps,
    sse_events,
)

# ---- a runner whose jobs move only when the test says so ------------------------------


class FakeExecution:
    """One job handed to the fake executor: the test plays the worker."""

    def __init__(self, spec: JobSpec, on_event: Callable[[Event], None],
                 on_end: Callable[[Event | None], None]) -> None:
        self.spec, self.on_event, self.on_end = spec, on_event, on_end
        self.frames = 0
        self.cancelled = False
        self.killed: list[str] = []

    def cancel(self) -> None:
        self.cancelled = True

    def kill(self, reason: str) -> None:
        self.killed.append(reason)

    def start(self) -> None:
        self.on_event(("started", {"pid": 1, "host": "test"}))

    def frame(self, text: str = "") -> Event:
        event = ("frame", json.dumps({"step": self.frames, "text": text}))
        self.frames += 1
        self.on_event(event)
        return event

    def done(self, stopped: str | None = None) -> Event:
        event = ("done", {"result": {"steps": self.frames}, "frames": self.frames,
                          "stopped": stopped})
        self.on_end(event)
        return event


class FakeExecutor:
    def __init__(self) -> None:
        self.executions: list[FakeExecution] = []
        self.shut_down = False

    def execute(self, spec: JobSpec, on_event: Callable[[Event], None],
                on_end: Callable[[Event | None], None]) -> FakeExecution:
        self.executions.append(FakeExecution(spec, on_event, on_end))
        return self.executions[-1]

    def shutdown(self) -> None:
        self.shut_down = True


class KillTimers:
    """Records what the runner schedules with ``loop.call_later`` (only kills, here)."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.scheduled: list[tuple[float, Callable, tuple[Any, ...], asyncio.TimerHandle]] = []
        original = loop.call_later

        def call_later(delay: float, callback: Callable, *args: Any) -> asyncio.TimerHandle:
            handle = original(delay, callback, *args)
            self.scheduled.append((delay, callback, args, handle))
            return handle

        loop.call_later = call_later  # type: ignore[method-assign]

    def pending(self) -> list[tuple[float, tuple[Any, ...]]]:
        return [(delay, args) for delay, _, args, handle in self.scheduled
                if not handle.cancelled()]

    def fire_pending(self) -> None:
        """What the loop would do once their delays passed."""
        for _, callback, args, handle in self.scheduled:
            if not handle.cancelled():
                handle.cancel()
                callback(*args)


def params(seed: int = 0) -> SlowParams:
    return SlowParams(steps=10, delay=0, seed=seed)


class FakeClock:
    """The runner's clock for expected waits: it moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def with_runner(test: Callable[[JobRunner, FakeExecutor], Awaitable[None]], *,
                max_jobs: int = 1, max_queue: int = 2, job_seconds: float = 5.0,
                cache_bytes: int = 2**20) -> None:
    async def main() -> None:
        executor = FakeExecutor()
        runner = JobRunner(executor, InProcessCache(cache_bytes), max_jobs, max_queue,
                           job_seconds, max_frames=1000, clock=FakeClock())
        await test(runner, executor)

    in_own_loop(main())


async def heard(subscription: Subscription) -> list[Event]:
    """The events a client could read now."""
    events = []
    while not subscription.events.empty():
        events.append(await subscription.next_event())
    return events


# ---- admission and the queue ----------------------------------------------------------


def test_jobs_beyond_the_slots_wait_in_line_and_hear_their_position():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        first, second, third = [await runner.submit(SLOW_DEMO, params(seed)) for seed in (1, 2, 3)]
        assert [s.cache for s in (first, second, third)] == ["miss"] * 3
        assert [e.spec.params.seed for e in executor.executions] == [1]
        # Nothing has finished yet: a run is guessed at its 5 s budget.
        assert await heard(second) == [("queued", {"position": 1, "seconds": 5})]
        assert await heard(third) == [("queued", {"position": 2, "seconds": 10})]
        assert runner.stats() == {"running": 1, "queued": 2}
        runner.clock.now = 3.0
        executor.executions[0].done()  # a slot frees after 3 s: the head of the line starts
        assert [e.spec.params.seed for e in executor.executions] == [1, 2]
        # Runs of this demo now take 3 s: the second ends at about 3 s from now.
        assert await heard(third) == [("queued", {"position": 1, "seconds": 3})]
        assert runner.stats() == {"running": 1, "queued": 1}

    with_runner(test, max_jobs=1, max_queue=2)


@pytest.mark.parametrize(("max_jobs", "max_queue", "job_seconds", "retry_after"), [
    (1, 2, 5.0, 5),  # the queue has room once its head starts: when the running job ends
    (2, 0, 5.0, 5),  # no queue: once a slot frees
    (1, 2, 100.0, 10),  # before any run ended, a budget counts 10 s at most
    (1, 0, 0.01, 1),  # never less than a second
])
def test_a_full_runner_refuses_at_once_with_a_retry_after_from_the_line_ahead(
        max_jobs, max_queue, job_seconds, retry_after):
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        for seed in range(max_jobs + max_queue):
            await runner.submit(SLOW_DEMO, params(seed))
        with pytest.raises(RunnerFull) as refused:
            await runner.submit(SLOW_DEMO, params(99))
        assert refused.value.retry_after == retry_after
        # Nothing changed for anyone: the refused client holds no place.
        assert runner.stats() == {"running": max_jobs, "queued": max_queue}
        assert len(executor.executions) == max_jobs

    with_runner(test, max_jobs=max_jobs, max_queue=max_queue, job_seconds=job_seconds)


def test_retry_after_and_queue_waits_follow_how_long_runs_really_take():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        clock = runner.clock
        await runner.submit(SLOW_DEMO, params(1))
        clock.now = 2.0
        executor.executions[0].done()  # a run of this demo takes 2 s here
        running = await runner.submit(SLOW_DEMO, params(2))
        queued = [await runner.submit(SLOW_DEMO, params(s)) for s in (3, 4)]
        assert [await heard(q) for q in queued] == [[("queued", {"position": 1, "seconds": 2})],
                                                    [("queued", {"position": 2, "seconds": 4})]]
        clock.now = 3.5  # 1.5 s into the running job: 0.5 s left of its expected 2 s
        with pytest.raises(RunnerFull) as refused:
            await runner.submit(SLOW_DEMO, params(99))
        assert refused.value.retry_after == 1
        # A job running longer than expected says "any moment now", not a negative wait.
        clock.now = 60.0
        with pytest.raises(RunnerFull) as refused:
            await runner.submit(SLOW_DEMO, params(98))
        assert refused.value.retry_after == 1
        # A slower run moves the expectation part of the way (a moving average, weight 0.3).
        executor.executions[1].done()  # took 58 s: 0.7·2 + 0.3·58 = 18.8 s
        assert await heard(queued[1]) == [("queued", {"position": 1, "seconds": 19})]
        assert running.cache == "miss"

    with_runner(test, max_jobs=1, max_queue=2)


def test_a_queued_client_that_leaves_gives_up_its_place_and_the_line_moves_up():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        running, leaving, staying = [await runner.submit(SLOW_DEMO, params(s)) for s in (1, 2, 3)]
        assert await heard(staying) == [("queued", {"position": 2, "seconds": 10})]
        runner.release(leaving)
        assert await heard(staying) == [("queued", {"position": 1, "seconds": 5})]
        assert runner.stats() == {"running": 1, "queued": 1}
        executor.executions[0].done()
        assert [e.spec.params.seed for e in executor.executions] == [1, 3]  # 2 never ran

    with_runner(test, max_jobs=1, max_queue=2)


def test_may_compute_is_asked_only_when_a_request_would_start_a_computation():
    asked: list[int] = []

    def may_compute() -> None:
        asked.append(1)

    def over_the_rate() -> None:
        raise PermissionError("over the rate")

    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        first = await runner.submit(SLOW_DEMO, params(1), may_compute)
        await runner.submit(SLOW_DEMO, params(1), may_compute)  # shares the running job
        assert len(asked) == 1
        executor.executions[0].done()
        runner.release(first)
        await runner.submit(SLOW_DEMO, params(1), over_the_rate)  # a replay costs nothing
        with pytest.raises(PermissionError):
            await runner.submit(SLOW_DEMO, params(2), over_the_rate)
        assert runner.stats() == {"running": 0, "queued": 0}
        assert len(executor.executions) == 1

    with_runner(test)


# ---- identical runs: shared while computing, replayed once finished ----------------------


def test_identical_requests_share_one_job_and_a_latecomer_hears_it_from_the_start():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        first = await runner.submit(SLOW_DEMO, params())
        (job,) = executor.executions
        job.start()
        early = [job.frame(), job.frame()]
        latecomer = await runner.submit(SLOW_DEMO, params())
        assert (first.cache, latecomer.cache) == ("miss", "shared")
        assert len(executor.executions) == 1 and runner.stats()["running"] == 1
        later = [job.frame(), job.done()]
        assert await heard(first) == await heard(latecomer) == early + later

    with_runner(test)


def test_a_run_too_large_to_record_is_not_joined_midway():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        await runner.submit(SLOW_DEMO, params())
        executor.executions[0].frame("x" * 300)  # over a quarter of the 1000-byte cache
        other = await runner.submit(SLOW_DEMO, params())
        # Its start is lost to a latecomer, so the latecomer computes the run itself.
        assert other.cache == "miss" and len(executor.executions) == 2

    with_runner(test, max_jobs=2, cache_bytes=1000)


def test_a_finished_run_replays_from_the_cache_with_every_event_and_its_timing():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        first = await runner.submit(SLOW_DEMO, params())
        (job,) = executor.executions
        job.start()
        events = [job.frame(), job.frame(), job.frame(), job.done()]
        assert await heard(first) == events
        runner.release(first)
        replay = await runner.submit(SLOW_DEMO, params())
        assert replay.cache == "hit" and replay.job is None
        assert await heard(replay) == events
        offsets = replay.replay_offsets
        assert len(offsets) == len(events) and offsets == sorted(offsets)
        assert len(executor.executions) == 1  # computed once
        assert runner.stats() == {"running": 0, "queued": 0}

    with_runner(test)


@pytest.mark.parametrize("ending", ["time_budget", "frame_limit", "error", "cancelled"])
def test_only_a_complete_run_is_kept_for_replay(ending):
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        await runner.submit(SLOW_DEMO, params())
        job = executor.executions[0]
        job.start()
        job.frame()
        if ending == "error":
            job.on_end(("error", {"message": "Slow failed"}))
        elif ending == "cancelled":
            job.on_end(None)
        else:
            job.done(stopped=ending)
        again = await runner.submit(SLOW_DEMO, params())
        assert again.cache == "miss" and len(executor.executions) == 2

    with_runner(test)


# ---- cancel, kill, shutdown -------------------------------------------------------------


def test_a_job_is_cancelled_when_its_last_listener_leaves_and_killed_if_it_ignores_that():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        timers = KillTimers()
        first = await runner.submit(SLOW_DEMO, params())
        second = await runner.submit(SLOW_DEMO, params())
        (job,) = executor.executions
        job.start()
        runner.release(first)
        assert not job.cancelled  # someone still watches
        runner.release(second)
        assert job.cancelled
        assert timers.pending() == [(KILL_AFTER_SECONDS, ("did not stop when asked",))]
        timers.fire_pending()
        assert job.killed == ["did not stop when asked"]
        # The slot is the executor's until the job ends; then the next run may start.
        assert runner.stats()["running"] == 1
        job.on_end(None)
        assert runner.stats()["running"] == 0
        assert (await runner.submit(SLOW_DEMO, params())).cache == "miss"

    with_runner(test)


def test_kill_timers_follow_the_start_and_the_time_budget():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        timers = KillTimers()
        await runner.submit(SLOW_DEMO, params())
        (job,) = executor.executions
        # Until a worker begins, it may take the budget, the grace and a start-up.
        assert timers.pending() == [
            (5.0 + KILL_AFTER_SECONDS + STARTUP_SECONDS, ("did not start in time",))]
        job.start()  # from now on, the budget and the grace only
        assert timers.pending() == [
            (5.0 + KILL_AFTER_SECONDS, ("ran past its time budget of 5 s",))]
        job.frame()
        job.done()
        assert timers.pending() == [] and job.killed == []

    with_runner(test, job_seconds=5.0)


def test_shutdown_cancels_running_and_queued_jobs_and_stops_the_executor():
    async def test(runner: JobRunner, executor: FakeExecutor) -> None:
        await runner.submit(SLOW_DEMO, params(1))
        await runner.submit(SLOW_DEMO, params(2))
        runner.shutdown()
        assert [e.cancelled for e in executor.executions] == [True]
        assert runner.stats()["queued"] == 0 and executor.shut_down

    with_runner(test)


# ---- the same promises through a real server, on each executor ---------------------------


def test_full_runner_queues_then_refuses_with_retry_after(executor, test_demos):
    with LiveServer(max_jobs=1, max_queue=1, **executor) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        slow = {"steps": 2000, "delay": 0.01}
        first = http.send(http.build_request("POST", "/api/demos/test-slow/stream", json=slow),
                          stream=True)
        first_events = sse_events(first.iter_lines())  # keep a reference: the stream stays open
        assert next(first_events)[0] == "frame"
        other = {**slow, "seed": 1}  # different parameters: a second job, not a shared one
        second = http.send(http.build_request("POST", "/api/demos/test-slow/stream", json=other),
                           stream=True)
        second_events = sse_events(second.iter_lines())
        name, queued = next(second_events)
        # First in line; its wait: what is left of the running job's first guess (10 s).
        assert name == "queued" and queued["position"] == 1 and 0 <= queued["seconds"] <= 10
        assert health(http)["jobs"] == {"running": 1, "queued": 1}
        third = http.post("/api/demos/test-slow/run", json={**slow, "seed": 2})
        assert third.status_code == 429
        # Refused at once, not after waiting for a slot: both jobs are where they were.
        assert health(http)["jobs"] == {"running": 1, "queued": 1}
        assert int(third.headers["retry-after"]) >= 1
        assert http.get("/api/demos/test-slow/stream", params={"seed": 3}).status_code == 429
        # The first client leaves: the queued job starts and its client sees frames.
        first.close()
        assert next(second_events)[0] == "frame"
        assert health(http)["jobs"] == {"running": 1, "queued": 0}
        second.close()


def test_disconnect_stops_the_job_within_a_step(executor, test_demos):
    with LiveServer(max_jobs=1, max_queue=0, **executor) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        with http.stream("GET", "/api/demos/test-slow/stream",
                         params={"steps": 100000, "delay": LEAVING_STEP_SECONDS}) as response:
            events = sse_events(response.iter_lines())
            for _ in range(5):
                assert next(events)[0] == "frame"
            assert busy(http)
            left_at = slow_steps()
        eventually(lambda: not busy(http), "the job of a closed stream ended")
        stopped_at = slow_steps()
        assert stopped_at - left_at <= STEPS_AFTER_LEAVING
        time.sleep(0.3)
        assert slow_steps() == stopped_at  # the worker really stopped


def test_a_run_cancelled_while_the_demo_wraps_up_ends_without_done():
    # A demo that notices Stop through ctx.should_stop() returns normally. That must not
    # read as a finished run: its `done` would be cached and replayed, empty, to the next
    # student with the same settings (crf-tagger did this when Run restarted it).
    from app.demos.base import Demo, DemoParams, RunContext, RunGenerator, make_frame
    from app.executors.job import job_events

    def run(params: DemoParams, ctx: RunContext) -> RunGenerator:
        for step in range(1, 1000):
            yield make_frame(step, step / 1000, {})
            if step == 3:
                ctx.cancelled.set()  # Stop arrives while this step computes
            if ctx.should_stop():
                return {"steps": step}
        return {"steps": 1000}

    demo = Demo(slug="t", title="T", description="t", Params=DemoParams, charts=[], run=run)
    spec = JobSpec(demo, DemoParams(), job_seconds=60, max_frames=10_000)
    names = [name for name, _ in job_events(spec, RunContext())]
    assert names == ["started", "frame", "frame", "frame"]  # and no "done"
