"""JSON and Server-Sent-Events routes. Thin: admission is in app/deps.py, jobs in
app/jobs.py, frame pacing in app/pacing.py; a handler here shapes the answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing
from typing import Annotated, Any, TypeVar

import nbformat
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

from app.config import torch_threads_per_job
from app.demos.base import Demo
from app.deps import (
    ClockDep,
    DemoDep,
    DemosDep,
    JobFromBody,
    JobFromQuery,
    LessonsDep,
    RunnerDep,
    refusal,
)
from app.errors import DEMO_ERROR_REASONS, ErrorBody, error_item
from app.i18n import DEFAULT_LANGUAGE, lang_path, translate_text, use_language
from app.i18n_demos import translate_frame
from app.jobs import JobRunner
from app.language import request_language
from app.markdown import LessonError
from app.notebook import MEDIA_TYPE, LessonLink, build_notebook
from app.pacing import Clock, Pace, paced_events
from app.params import ParamsError, from_query, parse_params
from app.streams import Subscription

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")


# What a demo route may answer besides success (documented in /openapi.json).
DEMO_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": reason}
    for status, reason in DEMO_ERROR_REASONS.items()
}


class RunResponse(BaseModel):
    result: dict[str, Any]
    frames: int
    seconds: float
    stopped: str | None = None


@router.get("/lessons")
def list_lessons(lessons: LessonsDep, q: str = "", tag: str = "") -> list[dict[str, Any]]:
    return [hit["lesson"].summary_json() for hit in lessons.search(q, tag)]


@router.get("/lessons/{slug}", responses={404: {"model": ErrorBody, "description":
                                               "No lesson by that name, or it has a mistake"}})
def describe_lesson(lessons: LessonsDep, slug: str) -> dict[str, Any]:
    """A lesson's title and summary, its demo instances in page order (``id``, ``demo``,
    ``title``, ``caption``, ``presets``: the values the page sends, ``hide``, ``autorun``,
    ``share_url``: a relative link that opens the page at that instance with those values)
    and its exercises (``number``, ``title``, ``has_solution``). 404 for an unknown lesson
    and for one with an authoring mistake (its page shows the mistake)."""
    try:
        lesson = lessons.get(slug)
    except LessonError:
        lesson, why = None, f"lesson {slug!r} has a mistake; its page /lessons/{slug} shows it"
    else:
        why = f"no lesson named {slug!r}; see /api/lessons"
    if lesson is None:
        raise HTTPException(404, [error_item("slug", why, "not_found", source="path")])
    return lesson.describe()


@router.get("/demos")
def list_demos(demos: DemosDep) -> list[dict[str, Any]]:
    return [demo.describe() for demo in demos.values()]


@router.get("/demos/{slug}", responses={404: DEMO_ERRORS[404]})
def describe_demo(demo: DemoDep) -> dict[str, Any]:
    return demo.describe()


@router.post("/demos/{slug}/run", response_model=RunResponse, responses={
    **DEMO_ERRORS, 500: {"model": ErrorBody, "description": "The demo itself failed while "
                         "running (a bug in the demo)"}})
async def run_demo(request: Request, runner: RunnerDep, job: JobFromBody) -> dict[str, Any]:
    """Run a demo to the end and answer its result (frames are counted, not returned).

    ``X-Cache: miss`` says this request computed the answer, ``shared`` that it joined an
    identical run still computing, ``hit`` that a finished run was replayed.
    A client that gives up before the end frees its slot at once, as closing a stream does.
    """
    try:
        return await unless_client_leaves(request, final_payload(job))
    finally:
        runner.release(job)


@router.get("/demos/{slug}/stream", response_class=EventSourceResponse, responses=DEMO_ERRORS)
async def stream_demo(
    request: Request, demo: DemoDep, runner: RunnerDep, clock: ClockDep, job: JobFromQuery
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``queued``, ``frame``…, then ``done`` (with ``result``) or ``error``.

    Parameters go in the query string (lists as JSON text), e.g. ``?k=3&dataset=moons``.
    Chart words and metric names come in the language ``Accept-Language`` names.
    """
    async for event in job_events(job, runner, demo, clock, lang=request_language(request)):
        yield event


@router.post("/demos/{slug}/stream", response_class=EventSourceResponse, responses=DEMO_ERRORS)
async def stream_demo_post(
    request: Request, demo: DemoDep, runner: RunnerDep, clock: ClockDep, job: JobFromBody,
    pace: Annotated[Pace, Query(description=(
        "recorded: frames at the demo's pace and a replay at its run's timing; none: "
        "every event as soon as it exists (a replay arrives at once)"))] = "recorded",
) -> AsyncIterator[ServerSentEvent]:
    """The same stream with parameters as a JSON body (no URL length limit)."""
    async for event in job_events(job, runner, demo, clock, pace, request_language(request)):
        yield event


@router.get("/demos/{slug}/notebook", response_class=Response, responses={
    200: {"description": "A Jupyter notebook (nbformat 4) that re-runs the demo offline "
          "with these parameters", "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}},
    404: DEMO_ERRORS[404], 422: DEMO_ERRORS[422]})
def demo_notebook(request: Request, demo: DemoDep, lessons: LessonsDep) -> Response:
    """The "Open as notebook" download: an ``.ipynb`` that re-runs this demo without LiveGrad.

    Parameters go in the query string exactly as for ``GET /stream`` (lists as JSON text)
    and are refused the same way (422 naming the field); nothing is computed here.
    """
    try:
        params = parse_params(demo, from_query(demo, request.query_params))
    except ParamsError as exc:
        raise refusal(request, exc, demo) from None
    # The lessons it comes from, in the language of the page that asked (their /zh/ pages).
    lang = request_language(request)
    shown_in = [LessonLink(lesson.title,
                           str(request.base_url).rstrip("/") + lang_path(f"/lessons/{lesson.slug}",
                                                                         lang))
                for lesson in lessons.all(lang) if demo.slug in lesson.demos]
    threads = torch_threads_per_job(request.app.state.settings)  # as a job computes
    notebook = build_notebook(demo, params, threads, shown_in)
    return Response(nbformat.writes(notebook), media_type=MEDIA_TYPE,
                    headers={"Content-Disposition":
                             f'attachment; filename="livegrad-{demo.slug}.ipynb"'})


# ---- shaping a job's events into an answer ------------------------------------------


async def job_events(
    subscription: Subscription, runner: JobRunner, demo: Demo, clock: Clock,
    pace: Pace = "recorded", lang: str = DEFAULT_LANGUAGE,
) -> AsyncIterator[ServerSentEvent]:
    """A job's paced events as SSE (frames are JSON text already); the job is released
    when the client leaves, presses Stop, or the run ends. In another language than
    English, each frame's words are translated on the way out (app/i18n_demos.py): a
    cached run serves every language."""
    try:
        async with aclosing(paced_events(subscription, clock, demo.frame_seconds, pace)) as events:
            async for event, payload in events:
                if event == "frame":
                    if lang != DEFAULT_LANGUAGE:
                        with use_language(lang):
                            payload = json.dumps(translate_frame(json.loads(payload), demo),
                                                 ensure_ascii=False, separators=(",", ":"))
                    yield ServerSentEvent(raw_data=payload, event="frame")
                else:
                    if event == "error" and lang != DEFAULT_LANGUAGE and isinstance(payload, dict):
                        with use_language(lang):
                            message = translate_text(payload.get("message", ""))
                            payload = {**payload, "message": message}
                    yield ServerSentEvent(data=payload, event=event)
    finally:
        runner.release(subscription)


async def final_payload(subscription: Subscription) -> dict[str, Any]:
    """Wait for the job's ``done`` payload; an ``error`` event becomes a 500."""
    while True:
        event, payload = await subscription.next_event()
        if event == "done":
            return payload
        if event == "error":
            raise HTTPException(500, payload["message"])


async def unless_client_leaves(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``, but cancel it as soon as the client disconnects.

    A plain (non-streaming) route is not told when its client goes away, so watch the
    ASGI ``receive`` channel: once the body is read, its next message is the disconnect.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(disconnected(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
    if task in done:
        return task.result()
    # Nobody is left to read an answer (the caller releases the job); 499 is nginx's
    # "client closed request", and it keeps a departure out of the server's error log.
    raise HTTPException(499, "the client closed the request")


async def disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
