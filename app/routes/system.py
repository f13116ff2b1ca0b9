"""The server about itself: /healthz for load balancers, /status and /api/status for
teachers, /docs for API users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import DemosDep, RefusalsDep, RunnerDep
from app.status import WINDOWS_MINUTES, server_status
from app.templating import render_page, templates

router = APIRouter()

STATUS_REFRESH_SECONDS = 5  # the page reloads itself this often


@router.get("/healthz", tags=["health"])
async def healthz(runner: RunnerDep) -> dict:
    """Liveness, cheap: where jobs compute, how many workers live, run and wait."""
    return {"status": "ok", "executor": runner.executor.stats(), "jobs": runner.stats(),
            "cache": await runner.cache.stats()}


@router.get("/api/status", tags=["health"])
async def api_status(runner: RunnerDep, refusals: RefusalsDep, demos: DemosDep) -> dict[str, Any]:
    """What /status shows, as JSON: ``jobs`` (running of ``slots``, queued of
    ``queue_size``), ``cache`` (hits, misses, ``hit_rate`` 0–1 or null, entries,
    ``megabytes``), ``workers`` (the executor's own report), ``refusals`` (429s and 422s
    by cause in ``last_5_minutes`` and ``last_15_minutes``), ``slowest_demos`` (mean run
    ``seconds`` measured here, slowest first)."""
    return await server_status(runner, refusals, {slug: d.title for slug, d in demos.items()})


@router.api_route("/status", methods=["GET", "HEAD"], include_in_schema=False,
                  response_class=HTMLResponse)
async def status_page(request: Request, runner: RunnerDep, refusals: RefusalsDep,
                      demos: DemosDep) -> HTMLResponse:
    """The same numbers, large, for a projector; the page reloads every few seconds."""
    status = await server_status(runner, refusals, {slug: d.title for slug, d in demos.items()})
    return render_page(
        request, "status.html",
        {"status": status, "windows": WINDOWS_MINUTES, "refresh": STATUS_REFRESH_SECONDS},
        headers={"cache-control": "no-store"})


@router.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from vendored files, so /docs works offline."""
    return templates.TemplateResponse(request, "docs.html", {})
