"""HTML pages: the lesson index and a lesson."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, q: str = "", tag: str = "") -> HTMLResponse:
    library = request.app.state.lessons
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "hits": library.search(q, tag),
            "tags": library.tags(),
            "query": q,
            "active_tag": tag,
            "total": len(library.all()),
        },
    )


@router.get("/lessons/{slug}", response_class=HTMLResponse)
def lesson_page(request: Request, slug: str) -> HTMLResponse:
    library = request.app.state.lessons
    lesson = library.get(slug)
    if lesson is None:
        raise HTTPException(404, f"no lesson named {slug!r}")
    previous, following = library.neighbours(slug)
    return templates.TemplateResponse(
        request,
        "lesson.html",
        {"lesson": lesson, "previous": previous, "next": following},
    )
