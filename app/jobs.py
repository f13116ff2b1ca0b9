"""The job runner: the one place torch work runs, always off the event loop.

At most ``max_jobs`` jobs compute at once (one worker thread each), at most
``max_queue`` wait for a slot, each job has a time budget, and a job nobody
listens to any more stops within one step. Clients hold a :class:`Subscription`:
an asyncio queue of ``(event, payload)`` pairs — ``queued``, ``frame``, ``done``,
``error``. Identical requests share one job, and finished runs replay from the
classroom cache. Bookkeeping happens only on the event loop thread, so it needs
no locks; worker threads hand events back with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import torch

from app.cache import Event, RunCache, event_size
from app.demos.base import Demo, DemoParams, RunContext

log = logging.getLogger("livegrad.jobs")

# A job whose demo ignores ctx.should_stop() is cut off this long after its budget.
GRACE_SECONDS = 2.0
_job_ids = itertools.count(1)


class RunnerFull(Exception):
    """Every slot is busy and the queue is full: the client should retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy; try again shortly")
        self.retry_after = retry_after


def warm_up_torch() -> None:
    """One tiny Adam step, so the first student's run does not pay torch's one-off costs.

    torch's optimizers import ``torch._dynamo`` on their first step: about a second on a
    small machine, which would otherwise land inside the first demo anyone runs.
    """
    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(layer.parameters(), fused=True)
    layer(torch.zeros(1, 2)).sum().backward()
    optimizer.step()


def run_key(demo: Demo, params: DemoParams) -> str:
    """Same demo and parameters, same run: the key of the cache and of shared jobs."""
    return f"{demo.slug}:{params.model_dump_json()}"


def encode_frame(frame: dict[str, Any]) -> str:
    """Serialise a frame strictly. Demos' frames already carry inf/NaN as strings (the
    contract's ``finite`` in app/demos/base.py), so a float one here is a platform bug."""
    return json.dumps(frame, allow_nan=False, separators=(",", ":"))


@dataclass(eq=False)
class Job:
    demo: Demo
    params: DemoParams
    key: str
    record_limit: int
    id: int = field(default_factory=lambda: next(_job_ids))
    state: str = "queued"  # queued → running → finished
    ctx: RunContext = field(default_factory=RunContext)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    subscribers: list[Subscription] = field(default_factory=list)
    recorded: list[Event] = field(default_factory=list)
    recorded_at: list[float] = field(default_factory=list)  # seconds since the start
    recorded_bytes: int = 0
    started: float = 0.0
    last_queued: Event | None = None
    outcome: dict[str, Any] | None = None

    @property
    def recording(self) -> bool:
        return self.recorded_bytes <= self.record_limit

    def subscribe(self, cache: str) -> Subscription:
        """A new listener: it first receives everything the job has said so far."""
        subscription = Subscription(self, cache)
        for event in self.recorded:
            subscription.deliver(event)
        if self.state == "queued" and self.last_queued:
            subscription.deliver(self.last_queued)
        self.subscribers.append(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        if event[0] == "queued":
            self.last_queued = event
        elif self.recording:
            self.recorded.append(event)
            self.recorded_at.append(time.monotonic() - self.started)
            self.recorded_bytes += event_size(event)
        for subscription in self.subscribers:
            subscription.deliver(event)

    def cancel(self) -> None:
        """Ask the job to stop; the worker notices within one step."""
        self.ctx.cancelled.set()


@dataclass(eq=False)
class Subscription:
    job: Job | None  # None: a replay from the cache
    cache: str  # "hit" (cache or shared job) or "miss" (this request computes)
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    # A replay from the cache: when each event happened in the original run, so a
    # stream shows training at the speed it trained (the result arrives at once).
    replay_offsets: list[float] | None = None

    def deliver(self, event: Event) -> None:
        """Queue an event for this client, from whichever loop the job reports on."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.events.put_nowait(event)
        else:  # test clients may give each request its own loop
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.events.put_nowait, event)


class JobRunner:
    """Admits, queues, runs, shares, caches and cancels demo jobs."""

    def __init__(self, max_jobs: int, max_queue: int, job_seconds: float, max_frames: int,
                 cache_bytes: int = 64 * 2**20) -> None:
        self.max_jobs = max_jobs
        self.max_queue = max_queue
        self.job_seconds = job_seconds
        self.max_frames = max_frames
        self.cache = RunCache(cache_bytes)
        self._executor = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="job")
        self._running: set[Job] = set()
        self._waiting: deque[Job] = deque()
        self._inflight: dict[str, Job] = {}

    def stats(self) -> dict[str, int]:
        return {"running": len(self._running), "queued": len(self._waiting)}

    def would_compute(self, demo: Demo, params: DemoParams) -> bool:
        """False when the answer is already cached or being computed for someone."""
        key = run_key(demo, params)
        return key not in self._inflight and key not in self.cache

    # -- admission (event loop thread) -------------------------------------------------

    def submit(self, demo: Demo, params: DemoParams) -> Subscription:
        """Replay, join an identical job, start a new one, queue it, or raise RunnerFull."""
        key = run_key(demo, params)
        recording = self.cache.get(key)
        if recording is not None:
            replay = Subscription(None, "hit", replay_offsets=recording.offsets)
            for event in recording.events:
                replay.events.put_nowait(event)
            return replay
        shared = self._inflight.get(key)
        if shared is not None and shared.recording:
            return shared.subscribe("hit")
        if len(self._running) >= self.max_jobs and len(self._waiting) >= self.max_queue:
            raise RunnerFull(retry_after=self._retry_after())
        job = Job(demo, params, key, record_limit=self.cache.max_bytes // 4)
        self._inflight[key] = job
        subscription = job.subscribe("miss")
        if len(self._running) < self.max_jobs:
            self._start(job)
        else:
            self._waiting.append(job)
            job.publish(("queued", {"position": len(self._waiting)}))
        return subscription

    def release(self, subscription: Subscription) -> None:
        """A client left (or pressed Stop); a job nobody listens to is cancelled."""
        job = subscription.job
        if job is None or subscription not in job.subscribers:
            return
        job.subscribers.remove(subscription)
        if job.subscribers or job.state == "finished":
            return
        job.cancel()
        if self._inflight.get(job.key) is job:
            del self._inflight[job.key]
        if job.state == "queued" and job in self._waiting:
            self._waiting.remove(job)
            job.state = "finished"
            self._announce_positions()

    def _retry_after(self) -> int:
        # A rough wait: the queue ahead divided among the slots, in job budgets.
        per_slot = (len(self._waiting) + 1) / self.max_jobs
        return max(1, min(60, math.ceil(per_slot * min(self.job_seconds, 10.0))))

    def _start(self, job: Job) -> None:
        job.state = "running"
        job.started = time.monotonic()
        job.ctx.deadline = job.started + self.job_seconds
        self._running.add(job)
        self._executor.submit(self._compute, job, job.loop)

    def _finished(self, job: Job) -> None:
        job.state = "finished"
        self._running.discard(job)
        if self._inflight.get(job.key) is job:
            del self._inflight[job.key]
        # Only complete, unhurried runs are the deterministic answer worth replaying.
        if job.outcome and job.outcome.get("stopped") is None and job.recording:
            self.cache.put(job.key, job.recorded, job.recorded_bytes, job.recorded_at)
        while self._waiting and len(self._running) < self.max_jobs:
            self._start(self._waiting.popleft())
        self._announce_positions()

    def _announce_positions(self) -> None:
        for position, waiting in enumerate(self._waiting, start=1):
            waiting.publish(("queued", {"position": position}))

    # -- computation (worker thread) ---------------------------------------------------

    def _compute(self, job: Job, loop: asyncio.AbstractEventLoop) -> None:
        def post(event: str, payload: Any) -> None:
            try:
                loop.call_soon_threadsafe(job.publish, (event, payload))
            except RuntimeError:  # the server shut down mid-run: nobody is listening
                job.cancel()

        started = time.monotonic()
        final: Event | None = None
        try:
            outcome = self._drive(job, post)
            if outcome is not None:
                outcome["seconds"] = round(time.monotonic() - started, 3)
                job.outcome = outcome
                final = ("done", outcome)
        except Exception as exc:  # a demo bug must end the stream, not hang it
            log.exception("demo %s failed", job.demo.slug)
            final = ("error", {"message": f"{job.demo.title} failed: {type(exc).__name__}: {exc}"})
        finally:
            # One callback: the last event and the bookkeeping happen together, so a
            # client that reacts to "done" at once already finds the run in the cache.
            with contextlib.suppress(RuntimeError):  # the loop is gone at shutdown
                loop.call_soon_threadsafe(self._end, job, final)

    def _end(self, job: Job, final: Event | None) -> None:
        if final is not None:
            job.publish(final)
        self._finished(job)

    def _drive(self, job: Job, post: Any) -> dict[str, Any] | None:
        """Step the demo's generator; return the ``done`` payload, or None if cancelled."""
        generator = job.demo.run(job.params, job.ctx)
        frames = 0
        stopped = None
        result: dict[str, Any] = {}
        try:
            while True:
                if job.ctx.cancelled.is_set():
                    return None
                if frames >= self.max_frames:
                    stopped = "frame_limit"
                    break
                if time.monotonic() > job.ctx.deadline + GRACE_SECONDS:
                    stopped = "time_budget"
                    break
                try:
                    frame = next(generator)
                except StopIteration as stop:
                    result = stop.value or {}
                    break
                frames += 1
                post("frame", encode_frame(frame))
        finally:
            generator.close()
        if stopped is None and time.monotonic() >= job.ctx.deadline:
            stopped = "time_budget"  # the demo saw should_stop() and wrapped up early
        json.dumps(result, allow_nan=False)  # fail loudly on a non-finite result
        return {"result": result, "frames": frames, "stopped": stopped}

    def shutdown(self) -> None:
        for job in list(self._running) + list(self._waiting):
            job.cancel()
        self._waiting.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
