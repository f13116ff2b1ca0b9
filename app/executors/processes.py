"""The embedded executor: a pool of worker processes on this machine.

Workers are forked from a forkserver that has already imported torch and every demo,
so a worker starts in a fraction of a second, shares those pages with its siblings, and
a dead one is replaced at once. Each worker runs one job at a time and sends its events
back through a pipe; the parent reads each pipe in a thread of its own and hands the
events to the event loop. A worker that dies (killed, out of memory, a crash in C code)
closes its pipe: its job ends with an ``error`` event and a fresh worker takes its place.

Why processes rather than threads: torch's many small operations hold the GIL between
kernels, so two jobs in two threads ran at 0.87× the throughput of one (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle

from app.executors.job import Event, JobSpec, died_message, job_events, warm_up_torch

log = logging.getLogger("livegrad.executors")

# Imported once by the forkserver, so every worker forked from it starts with them.
PRELOAD = ["torch", "torch._dynamo", "app.demos", "app.executors.job"]
_job_ids = itertools.count(1)


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def worker_main(conn: Connection, threads: int) -> None:
    """A worker process: run the jobs the parent sends, one at a time, until told to exit.

    A listener thread reads the pipe, so a ``cancel`` reaches a job while it computes.
    Messages in: ``("run", id, pickled JobSpec)``, ``("cancel", id)``, ``("exit",)``.
    Out: ``(id, event)`` for each event, then ``(id, None)`` at the end.
    """
    from app.demos import registry
    from app.demos.base import RunContext

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server to handle
    # Workers fill every core; the web process beside them must still answer at once
    # (a lesson page's p95 with two busy workers: 30 ms at equal priority, 10-19 ms here).
    os.nice(10)
    registry()
    warm_up_torch(threads)
    jobs: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
    lock = threading.Lock()
    cancelled: set[int] = set()
    current: dict[int, RunContext] = {}

    def listen() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the server is gone: so is this worker
                os._exit(0)
            if message[0] == "run":
                jobs.put(message)
            elif message[0] == "cancel":
                with lock:
                    cancelled.add(message[1])
                    if message[1] in current:
                        current[message[1]].cancelled.set()
            else:
                jobs.put(None)
                return

    threading.Thread(target=listen, name="listen", daemon=True).start()
    while (message := jobs.get()) is not None:
        _, job_id, payload = message
        ctx = RunContext()
        with lock:
            current[job_id] = ctx
            if job_id in cancelled:
                ctx.cancelled.set()
        try:
            spec: JobSpec = cloudpickle.loads(payload)
            for event in job_events(spec, ctx):
                conn.send((job_id, event))
        except Exception as exc:  # e.g. a demo the worker cannot import
            log.exception("job %s could not run", job_id)
            conn.send((job_id, ("error", {"message": f"the job could not run: {exc}"})))
        finally:
            with lock:
                del current[job_id]
                cancelled.discard(job_id)
        conn.send((job_id, None))


class Execution:
    """A job handed to a worker: the runner may cancel it, or kill its worker."""

    def __init__(self, pool: ProcessPool, worker: Worker | None, spec: JobSpec,
                 on_event: Callable[[Event], None], on_end: Callable[[Event | None], None]):
        self.id = next(_job_ids)
        self.pool, self.worker, self.spec = pool, worker, spec
        self.on_event, self.on_end = on_event, on_end
        self.cancelled = False
        self.final: Event | None = None

    def cancel(self) -> None:
        self.cancelled = True
        if self.worker is not None:  # else it waits for a worker: _assign passes it on
            self.worker.send(("cancel", self.id))

    def kill(self, reason: str) -> None:
        """The job ignored its budget or a cancel: end its worker; a new one replaces it."""
        if self.worker is not None:
            self.worker.kill(reason)
        elif self in self.pool.waiting:  # never started: nothing to kill, just end it
            self.pool.waiting.remove(self)
            self.on_end(None if self.cancelled else ("error", {"message": died_message(
                self.spec.demo.title, None, reason)}))


class Worker:
    def __init__(self, pool: ProcessPool) -> None:
        self.pool = pool
        parent_end, child_end = multiprocessing.Pipe()
        self.conn = parent_end
        self.process = pool.context.Process(
            target=worker_main, args=(child_end, pool.threads), name="livegrad-worker",
            daemon=True)
        self.process.start()
        child_end.close()  # the child holds the only other end: its death closes the pipe
        self.execution: Execution | None = None
        self.alive = True  # until its pipe closes: the one sign that holds without the
        # forkserver (a worker outlives a killed forkserver; is_alive() then says no)
        self.killed_for: str | None = None
        self.send_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="worker-pipe", daemon=True)
        self.reader.start()

    def send(self, message: tuple) -> None:
        with self.send_lock, contextlib.suppress(OSError):  # a dead worker reads nothing
            self.conn.send(message)

    def kill(self, reason: str) -> None:
        self.killed_for = reason
        with contextlib.suppress(OSError):
            self.process.kill()

    def _read(self) -> None:
        loop = self.pool.loop
        try:
            while True:
                message = self.conn.recv()
                loop.call_soon_threadsafe(self.pool.received, self, message)
        except (EOFError, OSError):
            pass
        except RuntimeError:  # the event loop is closed: the server has stopped
            return
        self.alive = False
        self.process.join(timeout=5)
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped
            loop.call_soon_threadsafe(self.pool.died, self)


class ProcessPool:
    """``size`` worker processes, each computing one job at a time with ``threads``
    torch threads. Callbacks run on the event loop that called :meth:`start`."""

    name = "processes"

    def __init__(self, size: int, threads: int) -> None:
        self.size, self.threads = size, threads
        self.context = _context()
        self.workers: list[Worker] = []
        self.waiting: list[Execution] = []  # jobs for which no worker was free (rare)
        self.closing = False
        self.restarts = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.workers = [Worker(self) for _ in range(self.size)]

    def execute(self, spec: JobSpec, on_event: Callable[[Event], None],
                on_end: Callable[[Event | None], None]) -> Execution:
        free = next((w for w in self.workers if w.execution is None and w.killed_for is None),
                    None)
        execution = Execution(self, free, spec, on_event, on_end)
        if free is None:  # a worker is being replaced: the job waits for it
            self.waiting.append(execution)
        else:
            self._assign(execution, free)
        return execution

    def _assign(self, execution: Execution, worker: Worker) -> None:
        execution.worker = worker
        worker.execution = execution
        worker.send(("run", execution.id, cloudpickle.dumps(execution.spec)))
        if execution.cancelled:
            worker.send(("cancel", execution.id))

    def received(self, worker: Worker, message: tuple) -> None:
        job_id, event = message
        execution = worker.execution
        if execution is None or execution.id != job_id:
            return
        if event is None:
            worker.execution = None
            execution.on_end(execution.final)
            self._next(worker)
        elif event[0] in ("done", "error"):
            execution.final = event
        else:
            execution.on_event(event)

    def died(self, worker: Worker) -> None:
        if worker not in self.workers:
            return
        execution = worker.execution
        self.workers.remove(worker)
        # 255: the forkserver that reports a worker's exit status is itself gone.
        exitcode = None if worker.process.exitcode == 255 else worker.process.exitcode
        if not self.closing:
            log.warning("worker %s exited with %s", worker.process.pid, exitcode)
            self.restarts += 1
            # Off the event loop: if the forkserver died too, starting it again imports
            # torch for seconds, and pages and streams must not wait for that.
            self.loop.run_in_executor(None, self._replace)
        if execution is not None:
            message = died_message(execution.spec.demo.title, exitcode, worker.killed_for)
            execution.on_end(None if execution.cancelled else ("error", {"message": message}))

    def _replace(self) -> None:
        """A new worker, started in a thread; it joins the pool on the event loop."""
        try:
            worker = Worker(self)
        except Exception:
            log.exception("could not start a replacement worker")
            return
        try:
            self.loop.call_soon_threadsafe(self._joined, worker)
        except RuntimeError:  # the server stopped meanwhile
            worker.kill("was not needed")

    def _joined(self, worker: Worker) -> None:
        if self.closing:
            worker.send(("exit",))
            return
        self.workers.append(worker)
        self._next(worker)

    def _next(self, worker: Worker) -> None:
        if self.waiting and worker.execution is None:
            self._assign(self.waiting.pop(0), worker)

    def stats(self) -> dict[str, Any]:
        alive = sum(w.alive for w in self.workers)
        return {"executor": self.name, "workers": self.size, "workers_alive": alive,
                "worker_restarts": self.restarts}

    def shutdown(self) -> None:
        self.closing = True
        for worker in self.workers:
            worker.send(("exit",))
        for worker in self.workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
