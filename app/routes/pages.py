"""HTML pages: the lesson index, a lesson (or its mistakes), the demo catalogue, and in
development mode the stream that tells a lesson page its file changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from app.catalogue import catalogue
from app.deps import LessonsDep
from app.errors import error_item
from app.lessons import LessonLibrary, change_events
from app.markdown import LessonError
from app.templating import templates

router = APIRouter(include_in_schema=False)


def dev_mode(request: Request) -> bool:
    return request.app.state.settings.dev


DevDep = Annotated[bool, Depends(dev_mode)]


def reload_url(library: LessonLibrary, slug: str, dev: bool) -> str | None:
    """Where a lesson page in development mode hears that its file changed."""
    return f"/lessons/{slug}/changes?since={library.version(slug)}" if dev else None


@router.get("/", response_class=HTMLResponse)
def index(request: Request, library: LessonsDep, q: str = "", tag: str = "") -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "hits": library.search(q, tag),
            "tags": library.tags(),
            "query": q,
            "active_tag": tag.strip().lower(),
            "total": len(library.all()),
            "broken": library.broken(),
        },
    )


@router.get("/lessons/{slug}", response_class=HTMLResponse)
def lesson_page(request: Request, library: LessonsDep, dev: DevDep, slug: str,
                copy: str = "") -> HTMLResponse:
    """A lesson; ``?copy=teacher`` is the teacher's copy, which prints its solutions."""
    try:
        lesson = library.get(slug)
    except LessonError as exc:
        # The author's mistakes, on the page the author is looking at, in every mode.
        # 500: the lesson the link promises cannot be served, and a status that says so
        # makes link checkers, smoke tests and `curl -f` fail, and keeps caches and
        # search engines from keeping the error page as the lesson. No traceback.
        return templates.TemplateResponse(
            request, "lesson_error.html",
            {"error": exc, "slug": slug, "reload_url": reload_url(library, slug, dev)},
            status_code=500, headers={"cache-control": "no-store"})
    if lesson is None:
        message = f"no lesson named {slug!r}"
        raise HTTPException(404, [error_item("slug", message, "not_found", source="path")])
    previous, following = library.neighbours(slug)
    return templates.TemplateResponse(
        request,
        "lesson.html",
        {"lesson": lesson, "previous": previous, "next": following,
         "reload_url": reload_url(library, slug, dev), "teacher_copy": copy == "teacher"},
    )


@router.get("/lessons/{slug}/changes")
def lesson_changes(library: LessonsDep, dev: DevDep, slug: str,
                   since: Annotated[str, Query(max_length=64)]) -> StreamingResponse:
    """Development mode: an event stream that sends ``changed`` once the lesson's file
    is no longer at version ``since``, then ends (the page reloads)."""
    if not dev:
        raise HTTPException(404, [error_item("slug", "live reload is on only with "
                                             "LIVEGRAD_DEV=1", "not_found", source="path")])
    return StreamingResponse(change_events(library, slug, since), media_type="text/event-stream",
                             headers={"cache-control": "no-store"})


@router.get("/demos", response_class=HTMLResponse)
def demo_catalogue(request: Request, library: LessonsDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "catalogue.html",
                                      {"entries": catalogue(library.all())})
