"""HTML pages: the lesson index, a lesson (or its mistakes), the demo catalogue, and in
development mode the stream that tells a lesson page its file changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from app.catalogue import catalogue
from app.deps import LessonsDep
from app.errors import error_item
from app.i18n import lang_path, t, use_language
from app.language import request_language
from app.lessons import LessonLibrary, change_events
from app.markdown import LessonError
from app.templating import render_page

router = APIRouter(include_in_schema=False)


def dev_mode(request: Request) -> bool:
    return request.app.state.settings.dev


DevDep = Annotated[bool, Depends(dev_mode)]


def reload_url(library: LessonLibrary, slug: str, dev: bool, lang: str) -> str | None:
    """Where a lesson page in development mode hears that its file (or its translation)
    changed."""
    if not dev:
        return None
    return lang_path(f"/lessons/{slug}/changes", lang) + f"?since={library.version(slug, lang)}"


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request, library: LessonsDep, q: str = "", tag: str = "") -> HTMLResponse:
    lang = request_language(request)
    return render_page(
        request,
        "index.html",
        {
            "hits": library.search(q, tag, lang),
            "tags": library.tags(),
            "query": q,
            "active_tag": tag.strip().lower(),
            "total": len(library.all(lang)),
            "broken": library.broken(lang),
        },
    )


@router.api_route("/lessons/{slug}", methods=["GET", "HEAD"],  # HEAD: link checkers
                  response_class=HTMLResponse)
def lesson_page(request: Request, library: LessonsDep, dev: DevDep, slug: str,
                copy: str = "") -> HTMLResponse:
    """A lesson; ``?copy=teacher`` is the teacher's copy, which prints its solutions."""
    lang = request_language(request)
    try:
        lesson = library.get(slug, lang)
    except LessonError as exc:
        # The author's mistakes, on the page the author is looking at, in every mode.
        # 500: the lesson the link promises cannot be served, and a status that says so
        # makes link checkers, smoke tests and `curl -f` fail, and keeps caches and
        # search engines from keeping the error page as the lesson. No traceback.
        return render_page(
            request, "lesson_error.html",
            {"error": exc, "slug": slug, "reload_url": reload_url(library, slug, dev, lang)},
            status_code=500, headers={"cache-control": "no-store"})
    if lesson is None:
        with use_language(lang):
            message = t("no lesson named {slug}", slug=repr(slug))
        raise HTTPException(404, [error_item("slug", message, "not_found", source="path")])
    previous, following = library.neighbours(slug, lang)
    return render_page(
        request,
        "lesson.html",
        {"lesson": lesson, "previous": previous, "next": following,
         "reload_url": reload_url(library, slug, dev, lang), "teacher_copy": copy == "teacher"},
    )


@router.get("/lessons/{slug}/changes")
def lesson_changes(request: Request, library: LessonsDep, dev: DevDep, slug: str,
                   since: Annotated[str, Query(max_length=64)]) -> StreamingResponse:
    """Development mode: an event stream that sends ``changed`` once the lesson's file
    is no longer at version ``since``, then ends (the page reloads)."""
    if not dev:
        raise HTTPException(404, [error_item("slug", "live reload is on only with "
                                             "LIVEGRAD_DEV=1", "not_found", source="path")])
    events = change_events(library, slug, since, lang=request_language(request))
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"cache-control": "no-store"})


@router.api_route("/demos", methods=["GET", "HEAD"], response_class=HTMLResponse)
def demo_catalogue(request: Request, library: LessonsDep) -> HTMLResponse:
    lang = request_language(request)
    with use_language(lang):  # the entries' labels and bounds are words too
        entries = catalogue(library.all(lang))
    return render_page(request, "catalogue.html", {"entries": entries})
