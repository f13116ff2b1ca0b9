"""The job runner: the one place torch work runs, always off the event loop.

At most ``max_jobs`` jobs compute at once (one worker thread each), at most
``max_queue`` wait for a slot, each job has a time budget, and a cancelled job
stops within one step. A job reports to its client through an asyncio queue of
``(event, payload)`` pairs: ``queued``, ``frame``, ``done``, ``error``.
Bookkeeping (who runs, who waits) happens only on the event loop thread, so it
needs no locks; worker threads hand results back with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(eq=False)
class Job:
    demo: Demo
    params: DemoParams
    id: int = field(default_factory=lambda: next(_job_ids))
    state: str = "queued"  # queued → running → finished
    ctx: RunContext = field(default_factory=RunContext)
    events: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)

    def cancel(self) -> None:
        """Ask the job to stop; the worker notices within one step."""
        self.ctx.cancelled.set()


def encode_frame(frame: dict[str, Any]) -> str:
    """Serialise a frame strictly: NaN or infinity in a frame is a demo bug, not data."""
    return json.dumps(frame, allow_nan=False, separators=(",", ":"))


class JobRunner:
    """Admits, queues, runs and cancels demo jobs."""

    def __init__(
        self, max_jobs: int, max_queue: int, job_seconds: float, max_frames: int
    ) -> None:
        self.max_jobs = max_jobs
        self.max_queue = max_queue
        self.job_seconds = job_seconds
        self.max_frames = max_frames
        self._executor = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="job")
        self._running: set[Job] = set()
        self._waiting: deque[Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None

    def stats(self) -> dict[str, int]:
        return {"running": len(self._running), "queued": len(self._waiting)}

    # -- admission (event loop thread) -------------------------------------------------

    def submit(self, demo: Demo, params: DemoParams) -> Job:
        """Start a job now, or queue it, or raise RunnerFull at once."""
        self._loop = asyncio.get_running_loop()
        if len(self._running) >= self.max_jobs and len(self._waiting) >= self.max_queue:
            raise RunnerFull(retry_after=self._retry_after())
        job = Job(demo=demo, params=params)
        if len(self._running) < self.max_jobs:
            self._start(job)
        else:
            self._waiting.append(job)
            job.events.put_nowait(("queued", {"position": len(self._waiting)}))
        return job

    def release(self, job: Job) -> None:
        """The client is gone (or pressed Stop): cancel the job and free its place."""
        job.cancel()
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
        job.ctx.deadline = time.monotonic() + self.job_seconds
        self._running.add(job)
        self._executor.submit(self._compute, job, self._loop)

    def _finished(self, job: Job) -> None:
        job.state = "finished"
        self._running.discard(job)
        while self._waiting and len(self._running) < self.max_jobs:
            self._start(self._waiting.popleft())
        self._announce_positions()

    def _announce_positions(self) -> None:
        for position, waiting in enumerate(self._waiting, start=1):
            waiting.events.put_nowait(("queued", {"position": position}))

    # -- computation (worker thread) ---------------------------------------------------

    def _compute(self, job: Job, loop: asyncio.AbstractEventLoop) -> None:
        def post(event: str, payload: Any) -> None:
            loop.call_soon_threadsafe(job.events.put_nowait, (event, payload))

        started = time.monotonic()
        try:
            outcome = self._drive(job, post)
            if outcome is not None:
                outcome["seconds"] = round(time.monotonic() - started, 3)
                post("done", outcome)
        except Exception as exc:  # a demo bug must end the stream, not hang it
            log.exception("demo %s failed", job.demo.slug)
            post("error", {"message": f"{job.demo.title} failed: {type(exc).__name__}: {exc}"})
        finally:
            loop.call_soon_threadsafe(self._finished, job)

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
