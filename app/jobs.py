"""The job runner: admission, queue, sharing, caching and cancelling of demo jobs.

At most ``max_jobs`` jobs compute at once, at most ``max_queue`` wait for a slot, each
has a time budget, and a job nobody listens to any more stops within one step. Where a
job computes is the executor's business (app/executors/): worker processes on this
machine by default, Ray tasks on a cluster, never torch in this process. Clients hold a
:class:`app.streams.Subscription`: an asyncio queue of ``(event, payload)`` pairs — ``queued``,
``frame``, ``done``, ``error``. Identical requests share one job (:class:`app.job.Job`:
what it has said so far, who listens, following another replica's run), and finished
runs replay from the classroom cache. All bookkeeping happens on the event loop thread,
so it needs no locks; executors hand events back there.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from app.cache import Event, Recording
from app.demos.base import Demo, DemoParams
from app.executors.job import KILL_AFTER_SECONDS, JobSpec
from app.i18n import N_
from app.job import Job, run_key
from app.streams import StreamBuffers, Subscription

# Time a worker may take to begin a job handed to it (a Ray cluster may first start a
# worker process and import torch), on top of the job's budget.
STARTUP_SECONDS = 30.0


HEARTBEAT_SECONDS = 5.0  # how often a replica tells the cluster store it is alive


# Before a demo has finished a run here, its run is guessed at its time budget, but at
# most this long: most runs end long before their budget.
FIRST_GUESS_SECONDS = 10.0
# How much the newest finished run moves a demo's expected duration (a moving average).
DURATION_WEIGHT = 0.3


class RunnerFull(Exception):
    """Every slot is busy and the queue is full: the client should retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(N_("every slot is busy and the queue is full"))
        self.retry_after = retry_after


class JobRunner:
    """Admits, queues, runs (through ``executor``), shares, caches and cancels jobs."""

    def __init__(self, executor: Any, cache: Any, max_jobs: int, max_queue: int,
                 job_seconds: float, max_frames: int, stream_buffer_bytes: int = 2**28,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.executor = executor
        self.clock = clock  # for the expected waits only (tests pass a fake one)
        self._durations: dict[str, float] = {}  # demo slug → seconds its runs take here
        self.measured_runs: dict[str, int] = {}  # demo slug → whole runs measured (/status)
        self.buffers = StreamBuffers(stream_buffer_bytes)
        self.cache = cache  # a run store: app.cache.InProcessCache or the cluster's
        self.replica = uuid.uuid4().hex  # this server, among replicas sharing a store
        self.max_jobs = max_jobs
        self.max_queue = max_queue
        self.job_seconds = job_seconds
        self.max_frames = max_frames
        self._running: set[Job] = set()
        self._waiting: deque[Job] = deque()
        self._inflight: dict[str, Job] = {}
        self._beating: asyncio.Task | None = None
        if cache.shared:
            self._beating = asyncio.ensure_future(self._heartbeat())

    def stats(self) -> dict[str, int]:
        return {"running": len(self._running), "queued": len(self._waiting)}

    # -- admission (event loop thread) -------------------------------------------------

    async def submit(self, demo: Demo, params: DemoParams,
                     may_compute: Callable[[], None] = lambda: None) -> Subscription:
        """Join an identical job, replay, follow another replica, or start or queue a job.

        ``may_compute`` is called only when this request would start a computation, and
        may raise to refuse it (a client over its rate); a full runner raises RunnerFull.
        """
        key = run_key(demo, params)
        shared = self._inflight.get(key)
        if shared is not None and shared.recording:
            return shared.subscribe("shared", self.buffers)
        status, recording = await self.cache.claim(key, self.replica, self._lease())
        if status == "cached":
            replay = self.buffers.subscription(None, "hit", source=recording,
                                               replay_offsets=recording.offsets)
            for event in recording.events:
                replay.put(event)
            return replay
        # From here on nothing awaits: admission is atomic on the event loop.
        shared = self._inflight.get(key)  # started here while the store answered
        if shared is not None and shared.recording:
            return shared.subscribe("shared", self.buffers)
        job = Job(demo, params, key, record_limit=self.cache.max_bytes // 4)
        if status == "computing":  # by another replica: follow it, costing no slot
            self._inflight[key] = job
            job.state, job.started = "running", time.monotonic()
            job.follower = asyncio.ensure_future(self._follow(job))
            return job.subscribe("shared", self.buffers)
        try:
            may_compute()
            if len(self._running) >= self.max_jobs and len(self._waiting) >= self.max_queue:
                raise RunnerFull(retry_after=self._retry_after())
        except BaseException:
            self.cache.finish(key, self.replica, None, 0)  # give the claim back
            raise
        self._inflight[key] = job
        subscription = job.subscribe("miss", self.buffers)
        if len(self._running) < self.max_jobs:
            self._start(job)
        else:
            self._waiting.append(job)
            _, starts = self.expected_starts()
            self._publish(job, ("queued", {"position": len(self._waiting),
                                           "seconds": math.ceil(starts[-1])}))
        return subscription

    def _lease(self) -> float:
        # How long other replicas wait without news before they give up on our run:
        # a few heartbeats (queued and running runs are touched every HEARTBEAT_SECONDS).
        return 4 * HEARTBEAT_SECONDS

    async def _heartbeat(self) -> None:
        """Tell the cluster store, every few seconds, which runs this replica still owns."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            owned = [key for key, job in self._inflight.items() if job.follower is None]
            if owned:
                self.cache.touch(self.replica, owned)

    async def _follow(self, job: Job) -> None:
        """Relay a run another replica computes (:meth:`Job.follow`), then forget it."""
        try:
            await job.follow(self.cache, self.replica, self._lease())
        finally:
            if self._inflight.get(job.key) is job:
                del self._inflight[job.key]

    def release(self, subscription: Subscription) -> None:
        """A client left (or pressed Stop); a job nobody listens to is cancelled."""
        self.buffers.forget(subscription)
        job = subscription.job
        if job is None or subscription not in job.subscribers:
            return
        job.subscribers.remove(subscription)
        if job.subscribers or job.state == "finished":
            return
        if job.follower is not None:  # nobody here watches another replica's run
            job.cancelled = True
            job.follower.cancel()
        elif self.cache.shared and job.state == "running":
            # Students on other replicas may be following this run: stop only without them.
            asyncio.ensure_future(self._cancel_when_unwatched(job))
            return
        else:
            self._cancel(job)
        self._forget(job)

    def _forget(self, job: Job) -> None:
        if self._inflight.get(job.key) is job:
            del self._inflight[job.key]
        if job.state == "queued" and job in self._waiting:
            self._waiting.remove(job)
            job.state = "finished"
            self.cache.finish(job.key, self.replica, None, job.sent)
            self._announce_positions()

    async def _cancel_when_unwatched(self, job: Job) -> None:
        with contextlib.suppress(Exception):  # an unreachable store: stop the job anyway
            while job.state != "finished" and not job.subscribers:
                if await self.cache.watchers(job.key) == 0:
                    break
                await asyncio.sleep(1.0)
        if job.state != "finished" and not job.subscribers:
            self._cancel(job)
            self._forget(job)

    def _cancel(self, job: Job) -> None:
        """Ask the job to stop; one that has not stopped soon after is killed."""
        job.cancelled = True
        if job.execution is None:
            return
        job.execution.cancel()
        self._kill_at(job, KILL_AFTER_SECONDS, "did not stop when asked")

    def _kill_at(self, job: Job, delay: float, reason: str) -> None:
        if job.kill_timer is not None:
            if job.kill_timer.when() <= asyncio.get_running_loop().time() + delay:
                return  # an earlier kill is already set
            job.kill_timer.cancel()
        job.kill_timer = asyncio.get_running_loop().call_later(
            delay, job.execution.kill, reason)

    # -- how long a newcomer waits ------------------------------------------------------

    def _expected_seconds(self, job: Job) -> float:
        """How long ``job`` computes: the moving average of its demo's runs here, or, before
        one has finished, its time budget up to FIRST_GUESS_SECONDS."""
        return self._durations.get(job.demo.slug, min(self.job_seconds, FIRST_GUESS_SECONDS))

    def expected_starts(self) -> tuple[list[float], list[float]]:
        """Seconds from now until each slot frees (soonest first, with the queue ignored),
        and until each queued job starts (in queue order): the slots played forward with
        each job's expected duration."""
        now = self.clock()
        slots = [max(0.0, self._expected_seconds(job) - (now - job.began_at))
                 for job in self._running]
        slots += [0.0] * max(0, self.max_jobs - len(slots))
        heapq.heapify(slots)
        frees = sorted(slots)
        starts = []
        for job in self._waiting:
            start = heapq.heappop(slots)
            starts.append(start)
            heapq.heappush(slots, start + self._expected_seconds(job))
        return frees, starts

    def _retry_after(self) -> int:
        # A full queue has room again once its first job starts (with no queue: once a
        # slot frees): the wait the slots' expected durations give, within 1 s to 60 s.
        frees, starts = self.expected_starts()
        first = starts[0] if starts else frees[0]
        return max(1, min(60, math.ceil(first)))

    def durations(self) -> dict[str, float]:
        """Each demo's expected run time here, in seconds (those measured so far)."""
        return dict(self._durations)

    def _measured(self, job: Job) -> None:
        """A run ended whole: its duration updates its demo's expected duration."""
        seconds = self.clock() - job.began_at
        old = self._durations.get(job.demo.slug)
        self._durations[job.demo.slug] = seconds if old is None else (
            (1 - DURATION_WEIGHT) * old + DURATION_WEIGHT * seconds)
        self.measured_runs[job.demo.slug] = self.measured_runs.get(job.demo.slug, 0) + 1

    def _start(self, job: Job) -> None:
        job.state = "running"
        job.started = time.monotonic()
        job.began_at = self.clock()
        self._running.add(job)
        spec = JobSpec(job.demo, job.params, self.job_seconds, self.max_frames)
        job.execution = self.executor.execute(
            spec, lambda event: self._publish(job, event), lambda final: self._end(job, final))
        # A worker that never begins (frozen, or stuck starting up) is killed too.
        self._kill_at(job, self.job_seconds + KILL_AFTER_SECONDS + STARTUP_SECONDS,
                      "did not start in time")

    def _publish(self, job: Job, event: Event) -> None:
        if event[0] == "started":  # a worker has begun: the budget runs from now
            # The demo's own budget check ends it at job_seconds (+ a grace for demos
            # that forget); one stuck inside a single operation is killed after that.
            if not job.cancelled:
                if job.kill_timer is not None:
                    job.kill_timer.cancel()
                    job.kill_timer = None
                self._kill_at(job, self.job_seconds + KILL_AFTER_SECONDS,
                              f"ran past its time budget of {self.job_seconds:g} s")
            return
        job.publish(event)
        if self.cache.shared:  # other replicas may follow: batch events to the store
            if not job.outbox:
                asyncio.get_running_loop().call_later(0.05, self._flush, job)
            job.outbox.append(event)

    def _flush(self, job: Job) -> None:
        if job.outbox:
            self.cache.append(job.key, self.replica, job.sent, job.outbox)
            job.sent += len(job.outbox)
            job.outbox = []

    def _end(self, job: Job, final: Event | None) -> None:
        # The last event and the bookkeeping happen together, so a client that reacts
        # to "done" at once already finds the run in the cache.
        if final is not None:
            if final[0] == "done":
                job.outcome = final[1]
                if final[1].get("stopped") is None and job.follower is None:
                    self._measured(job)
            self._publish(job, final)
        self._flush(job)
        job.state = "finished"
        if job.kill_timer is not None:
            job.kill_timer.cancel()
        self._running.discard(job)
        if self._inflight.get(job.key) is job:
            del self._inflight[job.key]
        # Only complete, unhurried runs are the deterministic answer worth replaying.
        keep = job.outcome and job.outcome.get("stopped") is None and job.recording
        self.cache.finish(job.key, self.replica, Recording(
            job.recorded, job.recorded_bytes, job.recorded_at) if keep else None, job.sent)
        while self._waiting and len(self._running) < self.max_jobs:
            self._start(self._waiting.popleft())
        self._announce_positions()

    def _announce_positions(self) -> None:
        _, starts = self.expected_starts()
        for position, (waiting, start) in enumerate(zip(self._waiting, starts, strict=True),
                                                    start=1):
            self._publish(waiting, ("queued", {"position": position,
                                               "seconds": math.ceil(start)}))

    def shutdown(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
        for job in list(self._running) + list(self._waiting) + list(self._inflight.values()):
            job.cancelled = True
            if job.follower is not None:
                job.follower.cancel()
            if job.execution is not None:
                with contextlib.suppress(Exception):
                    job.execution.cancel()
        self._waiting.clear()
        self.executor.shutdown()
