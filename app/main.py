"""create_app(): the FastAPI application. ``uvicorn app.main:app`` serves it.

It only assembles: the server's long-lived objects (on ``app.state``, handed to handlers
by app/deps.py), middleware, static files, one router per area, error handlers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from app import cache_file
from app.assets import STATIC
from app.cache import InProcessCache
from app.config import Settings, get_settings
from app.errors import ERROR_HANDLERS
from app.executors import make_cache, make_executor
from app.identity import BrowserCookie, BrowserIds, ClientIdentity
from app.jobs import JobRunner
from app.language import LanguageRouting
from app.lessons import LessonLibrary
from app.limits import ClientKeys, RateLimiter
from app.openapi import build_openapi
from app.pacing import Clock
from app.routes import api, pages, system
from app.security import BodySizeLimit, SecurityHeaders
from app.static_files import ClassroomStaticFiles
from app.status import Refusals

log = logging.getLogger("livegrad")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Torch runs in the executor's workers, never here: they start (and import and
        # warm up torch) before the server accepts its first request.
        executor = make_executor(settings)
        executor.start()
        cache = make_cache(settings)
        kept = settings.cache_file if isinstance(cache, InProcessCache) else None
        if kept:  # runs a teacher prepared before a restart (app/cache_file.py)
            cache_file.load(cache.runs, kept)
        elif settings.cache_file:
            log.warning("LIVEGRAD_CACHE_FILE is not used with a Ray cluster: its shared "
                        "store outlives the restart of any replica already")
        app.state.runner = JobRunner(
            executor, cache, settings.max_jobs, settings.max_queue,
            settings.job_seconds, settings.max_frames,
            stream_buffer_bytes=int(settings.stream_buffer_mb * 2**20),
        )
        yield
        app.state.runner.shutdown()
        if kept:
            try:
                cache_file.save(cache.runs, kept)
            except OSError as exc:
                log.error("could not write the cache file %s: %s", kept, exc)

    app = FastAPI(
        title="LiveGrad",
        summary="Deep-learning lessons with live PyTorch demos.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # app/routes/system.py serves it from vendored files: offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = Clock()  # streams pace frames by it; tests swap in a fake
    app.state.lessons = LessonLibrary(settings.lessons_dir)
    browser_ids = BrowserIds(settings.secret)
    app.state.clients = ClientIdentity(browser_ids, ClientKeys(settings.trusted_proxies))
    app.state.rate_limiter = RateLimiter(settings.rate_per_minute)
    app.state.refusals = Refusals()  # the 429s and 422s /status counts; tests fake its clock
    app.add_middleware(LanguageRouting)  # innermost: /zh/... becomes the page's path
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # pages; streams are never gzipped
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BrowserCookie, ids=browser_ids)
    app.mount("/static", ClassroomStaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(system.router)
    for exception, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(exception, handler)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
