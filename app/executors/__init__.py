"""Where jobs compute: the executors, and the one job loop they all run.

* :mod:`app.executors.processes` — the default: worker processes on this machine;
* :mod:`app.executors.ray_cluster` — Ray tasks on a cluster (``LIVEGRAD_RAY_ADDRESS``);
* :mod:`app.executors.threads` — threads of the web process, for debugging only.

An executor has ``start()`` (on the event loop, before serving), ``execute(spec,
on_event, on_end)`` returning a handle with ``cancel()`` and ``kill(reason)``,
``stats()`` and ``shutdown()``. It calls ``on_event`` for each frame and ``on_end``
once, with the final ``done``/``error`` event or None for a cancelled job, always on
the event loop thread.
"""

from __future__ import annotations

from typing import Any

from app.cache import InProcessCache
from app.config import Settings, torch_threads_per_job


def make_executor(settings: Settings) -> Any:
    if settings.ray_address:
        from app.executors.ray_cluster import RayExecutor

        return RayExecutor(settings.ray_address, settings.max_jobs)
    threads = torch_threads_per_job(settings)
    if settings.executor == "threads":
        from app.executors.threads import ThreadPool

        return ThreadPool(settings.max_jobs, threads)
    from app.executors.processes import ProcessPool

    return ProcessPool(settings.max_jobs, threads)


def make_cache(settings: Settings) -> Any:
    max_bytes = int(settings.cache_mb * 2**20)
    if settings.ray_address:
        from app.executors.ray_cluster import ClusterCache

        return ClusterCache(settings.ray_namespace, max_bytes)
    return InProcessCache(max_bytes)
