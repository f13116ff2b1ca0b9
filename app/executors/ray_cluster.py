"""The cluster executor: jobs run as Ray tasks, on any machine of a Ray cluster.

Chosen by ``LIVEGRAD_RAY_ADDRESS`` (``auto`` or the head's ``host:port``; not ``ray://``,
since Ray Client cannot stream a task's results).
Each job is one task with ``num_returns="streaming"``: its events come back one by one
through Ray's streaming generator while it computes. Stop and disconnect cancel the task
(Ray raises KeyboardInterrupt inside it); a task that ignores that, or its budget, is
force-cancelled, which kills its worker process. A worker or node that dies surfaces as
a Ray error on the next event, and the stream ends with ``error``.

Web replicas pointed at one cluster share runs through one named, detached actor
(:class:`app.cache.SharedRuns`): a run computed through one replica replays through any
other, and a run being computed through one is followed, not recomputed, by the others.

Ray is an optional extra: ``pip install -e ".[cluster]"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ray
import ray.exceptions

from app.cache import Event, SharedRuns
from app.executors.job import JobSpec, died_message

log = logging.getLogger("livegrad.executors")

CACHE_ACTOR = "run-cache"
STORE_SECONDS = 2.0  # the longest a request waits for the shared run store


def connect(address: str) -> None:
    """Join the cluster at ``address`` once per process (several apps may share it).

    ``ray.init`` on the main thread installs its own SIGTERM handler (``sys.exit``),
    which would cut uvicorn's graceful shutdown short (open streams dropped, a traceback,
    exit code 15 on ``docker stop``): the server's handlers are put back afterwards.
    """
    if ray.is_initialized():
        return
    main = threading.current_thread() is threading.main_thread()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    ray.init(address=address, namespace="livegrad", log_to_driver=False,
             logging_level=logging.WARNING)
    if main:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@ray.remote(num_returns="streaming", max_retries=0, num_cpus=1)
def run_on_ray(spec: JobSpec, threads: int):  # noqa: ANN201 (a Ray streaming task)
    """One job as a Ray task: the job's events, the first saying who computes it."""
    from app.demos.base import RunContext
    from app.executors.job import job_events

    _warm(threads)
    yield from job_events(spec, RunContext())


@ray.remote(num_cpus=1, max_retries=0)
def warm_up(threads: int) -> int:
    """Import torch and the demos in a worker before any student waits for them."""
    _warm(threads)
    return os.getpid()


_warmed: list[int] = []


def _warm(threads: int) -> None:
    if not _warmed:
        from app.demos import registry
        from app.executors.job import warm_up_torch

        registry()
        warm_up_torch(threads)
        _warmed.append(threads)


class RayExecution:
    def __init__(self, generator: Any, title: str) -> None:
        self.generator = generator
        self.title = title
        self.cancelled = False
        self.killed_for: str | None = None
        self.pid: int | None = None

    def cancel(self) -> None:
        self.cancelled = True
        with contextlib.suppress(Exception):  # the task may have just finished
            ray.cancel(self.generator)

    def kill(self, reason: str) -> None:
        self.killed_for = reason
        with contextlib.suppress(Exception):
            ray.cancel(self.generator, force=True)


class RayExecutor:
    """Runs jobs as Ray tasks; at most ``size`` at once from this web replica."""

    name = "ray"

    # One torch thread per task, as each task asks Ray for one CPU: Ray then never puts
    # more torch threads on a node than it has cores.
    def __init__(self, address: str, size: int, threads: int = 1) -> None:
        self.address, self.size, self.threads = address, size, threads
        self._consumers = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ray-job")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lost = 0
        self._cluster: dict[str, Any] = {}
        self._closed = threading.Event()

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        connect(self.address)
        threading.Thread(target=self._watch_cluster, name="ray-nodes", daemon=True).start()
        # Start (and warm) as many workers as this replica may use at once.
        ray.get([warm_up.remote(self.threads) for _ in range(self.size)])

    def execute(self, spec: JobSpec, on_event: Callable[[Event], None],
                on_end: Callable[[Event | None], None]) -> RayExecution:
        execution = RayExecution(run_on_ray.remote(spec, self.threads), spec.demo.title)
        self._consumers.submit(self._consume, execution, on_event, on_end)
        return execution

    def _consume(self, execution: RayExecution, on_event: Callable[[Event], None],
                 on_end: Callable[[Event | None], None]) -> None:
        loop = self.loop
        assert loop is not None
        final: Event | None = None
        try:
            for ref in execution.generator:
                event = ray.get(ref)
                if event[0] == "started":
                    execution.pid = event[1]["pid"]
                if event[0] in ("done", "error"):
                    final = event
                else:
                    loop.call_soon_threadsafe(on_event, event)
        except (ray.exceptions.RayError, KeyboardInterrupt) as exc:
            if not execution.cancelled or execution.killed_for:
                self.lost += 1
                log.warning("ray task for %s ended: %r", execution.title, exc)
                final = ("error", {"message": died_message(
                    execution.title, None, execution.killed_for)})
        except RuntimeError:  # the loop closed: the server stopped
            return
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(on_end, final)

    def stats(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.size, **self._cluster,
                "tasks_lost": self.lost}

    def _watch_cluster(self) -> None:
        """Ask the cluster about its nodes every few seconds, off the event loop:
        /healthz must stay cheap, and each question is a round trip to the head."""
        while True:
            with contextlib.suppress(Exception):
                nodes = [node for node in ray.nodes() if node.get("Alive")]
                self._cluster = {"nodes_alive": len(nodes), "cluster_cpus": sum(
                    node.get("Resources", {}).get("CPU", 0) for node in nodes)}
            if self._closed.wait(2.0):
                return

    def shutdown(self) -> None:
        self._closed.set()
        self._consumers.shutdown(wait=False, cancel_futures=True)


class ClusterCache:
    """The run store as one named actor on the cluster (:class:`app.cache.SharedRuns`),
    shared by every replica: finished runs replay anywhere, and a run being computed
    through one replica is followed, not recomputed, through the others.

    The first replica to start creates it (with its own size); later ones find it by
    name. ``namespace`` separates classes sharing one cluster (and tests from each other).
    """

    shared = True

    def __init__(self, namespace: str, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        # Ray restarts the store if its process dies (empty: finished runs are lost, not
        # the service); until then, and while it is slow, every question has a default.
        self.actor = ray.remote(num_cpus=0)(SharedRuns).options(
            name=CACHE_ACTOR, namespace=namespace, lifetime="detached", get_if_exists=True,
            max_restarts=-1,
            # On the head, which the cluster cannot lose anyway: not on a worker node that
            # a teacher may scale away or that may run out of memory.
            resources={"node:__internal_head__": 0.001},
        ).remote(max_bytes)

    async def _ask(self, method: str, *args: Any, default: Any) -> Any:
        try:
            return await asyncio.wait_for(getattr(self.actor, method).remote(*args),
                                          STORE_SECONDS)
        except Exception as exc:  # timeout, a dead or restarting store
            log.warning("the shared run store did not answer %s: %r", method, exc)
            return default

    def _tell(self, method: str, *args: Any) -> None:
        with contextlib.suppress(Exception):  # fire and forget (calls say their order)
            getattr(self.actor, method).remote(*args)

    async def claim(self, key: str, owner: str, lease: float) -> tuple[str, Any]:
        # Without an answer, compute here: a class keeps working, only unshared.
        return await self._ask("claim", key, owner, lease, default=("claimed", None))

    def append(self, key: str, owner: str, start: int, events: list[Event]) -> None:
        self._tell("append", key, owner, start, events)

    def touch(self, owner: str, keys: list[str]) -> None:
        self._tell("touch", owner, keys)

    def finish(self, key: str, owner: str, recording: Any, total: int) -> None:
        self._tell("finish", key, owner, recording, total)

    async def follow(self, key: str, start: int, follower: str) -> tuple[list[Event], str]:
        return await self._ask("follow", key, start, follower, default=([], "running"))

    async def watchers(self, key: str) -> int:
        return await self._ask("watchers", key, default=0)

    async def stats(self) -> dict[str, Any]:
        return await self._ask("stats", default={"error": "the shared run store did not answer"})
