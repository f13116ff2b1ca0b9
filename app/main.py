"""create_app(): the FastAPI application. ``uvicorn app.main:app`` serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.assets import STATIC
from app.config import Settings, get_settings
from app.errors import error_body, validation_error_body
from app.executors import make_cache, make_executor
from app.jobs import JobRunner
from app.lessons import LessonLibrary
from app.limits import ClientKeys, RateLimiter
from app.openapi import build_openapi
from app.pacing import Clock
from app.routes import api, pages
from app.security import BodySizeLimit, SecurityHeaders
from app.static_files import ClassroomStaticFiles
from app.templating import templates


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Torch runs in the executor's workers, never here: they start (and import and
        # warm up torch) before the server accepts its first request.
        executor = make_executor(settings)
        executor.start()
        app.state.runner = JobRunner(
            executor, make_cache(settings), settings.max_jobs, settings.max_queue,
            settings.job_seconds, settings.max_frames,
            stream_buffer_bytes=int(settings.stream_buffer_mb * 2**20),
        )
        yield
        app.state.runner.shutdown()

    app = FastAPI(
        title="LiveGrad",
        summary="Deep-learning lessons with live PyTorch demos.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored files: /docs works offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = Clock()  # streams pace frames by it; tests swap in a fake
    app.state.lessons = LessonLibrary(settings.lessons_dir)
    app.state.client_keys = ClientKeys(settings.trusted_proxies)
    app.state.rate_limiter = RateLimiter(settings.rate_per_minute)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # pages; streams are never gzipped
    app.add_middleware(SecurityHeaders)
    app.mount("/static", ClassroomStaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)

    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> dict:
        """Liveness, cheap: where jobs compute, how many workers live, run and wait."""
        runner = request.app.state.runner
        return {"status": "ok", "executor": runner.executor.stats(), "jobs": runner.stats(),
                "cache": await runner.cache.stats()}

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "docs.html", {})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        wants_html = not request.url.path.startswith("/api") and "text/html" in request.headers.get(
            "accept", ""
        )
        if wants_html and exc.status_code == 404:
            message = error_body(404, exc.detail)["detail"][0]["message"]
            page = templates.get_template("404.html").render(request=request, message=message)
            return HTMLResponse(page, status_code=404)
        return JSONResponse(error_body(exc.status_code, exc.detail), exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        status, body = validation_error_body(exc)
        return JSONResponse(body, status)

    return app


app = create_app()
