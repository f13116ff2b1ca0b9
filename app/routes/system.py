"""The server about itself: /healthz for load balancers and teachers, /docs for API users."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import RunnerDep
from app.templating import templates

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz(runner: RunnerDep) -> dict:
    """Liveness, cheap: where jobs compute, how many workers live, run and wait."""
    return {"status": "ok", "executor": runner.executor.stats(), "jobs": runner.stats(),
            "cache": await runner.cache.stats()}


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from vendored files, so /docs works offline."""
    return templates.TemplateResponse(request, "docs.html", {})
