"""HTML pages: the lesson index and a lesson."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.deps import LessonsDep
from app.errors import error_item
from app.markdown import LessonError
from app.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, library: LessonsDep, q: str = "", tag: str = "") -> HTMLResponse:
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
def lesson_page(request: Request, library: LessonsDep, slug: str) -> HTMLResponse:
    try:
        lesson = library.get(slug)
    except LessonError as exc:  # the author's mistake, shown where the author will look
        page = templates.get_template("404.html").render(
            request=request, title="This lesson has a mistake", message=str(exc))
        return HTMLResponse(page, status_code=500)
    if lesson is None:
        message = f"no lesson named {slug!r}"
        raise HTTPException(404, [error_item("slug", message, "not_found", source="path")])
    previous, following = library.neighbours(slug)
    return templates.TemplateResponse(
        request,
        "lesson.html",
        {"lesson": lesson, "previous": previous, "next": following},
    )
