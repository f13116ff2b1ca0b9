"""Jobs in threads of the web process itself: for debugging a demo (a breakpoint in
``run`` stops the server you are talking to) and for tests that patch a demo in place.

Not for a class: threads share one GIL, so two jobs run slower than one (DESIGN.md),
and a thread cannot be killed, so a job stuck inside one long operation keeps its slot
until that operation returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.demos.base import RunContext
from app.executors.job import Event, JobSpec, job_events, warm_up_torch

log = logging.getLogger("livegrad.executors")


class ThreadExecution:
    def __init__(self) -> None:
        self.ctx = RunContext()
        self.pid = None

    def cancel(self) -> None:
        self.ctx.cancelled.set()

    def kill(self, reason: str) -> None:
        log.warning("a job %s, but a thread cannot be killed", reason)
        self.ctx.cancelled.set()


class ThreadPool:
    name = "threads"

    def __init__(self, size: int, threads: int) -> None:
        self.size, self.threads = size, threads
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="job")
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        warm_up_torch(self.threads)

    def execute(self, spec: JobSpec, on_event: Callable[[Event], None],
                on_end: Callable[[Event | None], None]) -> ThreadExecution:
        execution = ThreadExecution()
        self._pool.submit(self._compute, spec, execution, on_event, on_end)
        return execution

    def _compute(self, spec: JobSpec, execution: ThreadExecution,
                 on_event: Callable[[Event], None], on_end: Callable[[Event | None], None]
                 ) -> None:
        loop = self.loop
        assert loop is not None
        final: Event | None = None
        try:
            for event in job_events(spec, execution.ctx):
                if event[0] in ("done", "error"):
                    final = event
                else:
                    loop.call_soon_threadsafe(on_event, event)
        except RuntimeError:  # the loop closed mid-run: the server stopped
            execution.ctx.cancelled.set()
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(on_end, final)

    def stats(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.size, "workers_alive": self.size,
                "worker_restarts": 0}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
