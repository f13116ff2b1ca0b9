"""JSON and Server-Sent-Events routes. Thin: validation and jobs live below."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

from app.demos import get_demo, registry
from app.demos.base import Demo
from app.errors import ErrorBody, error_item
from app.jobs import JobRunner, RunnerFull
from app.pacing import Clock, FramePacer
from app.params import ParamsError, from_query, parse_params
from app.streams import Subscription

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")


# What a demo route may answer besides success (documented in /openapi.json).
DEMO_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not readable JSON"},
    404: {"model": ErrorBody, "description": "No such demo"},
    413: {"model": ErrorBody, "description": "Request body too large"},
    422: {"model": ErrorBody, "description": "A parameter is out of bounds or unknown"},
    429: {"model": ErrorBody, "description": "Server full or client over its rate"},
}


class RunResponse(BaseModel):
    result: dict[str, Any]
    frames: int
    seconds: float
    stopped: str | None = None


def runner_of(request: Request) -> JobRunner:
    return request.app.state.runner


def clock_of(request: Request) -> Clock:
    return request.app.state.clock


def demo_of(slug: str) -> Demo:
    demo = get_demo(slug)
    if demo is None:
        message = f"no demo named {slug!r}; see /api/demos"
        raise HTTPException(404, [error_item("slug", message, "not_found", source="path")])
    return demo


DemoDep = Annotated[Demo, Depends(demo_of)]
RunnerDep = Annotated[JobRunner, Depends(runner_of)]
ClockDep = Annotated[Clock, Depends(clock_of)]


def refusal(request: Request, exc: ParamsError) -> HTTPException:
    """A 422 whose items say where each bad value came from (query string or body)."""
    source = "query" if request.method == "GET" else "body"
    for error in exc.errors:
        error["loc"] = [source, *error["loc"][1:]]
    return HTTPException(422, exc.errors)


async def submit(request: Request, response: Response, demo: Demo, raw: Any) -> Subscription:
    """Validate, check the client's rate, admit: or answer 422 / 429 before any work."""
    try:
        params = parse_params(demo, raw)
    except ParamsError as exc:
        raise refusal(request, exc) from None
    runner: JobRunner = request.app.state.runner
    limiter = request.app.state.rate_limiter
    client = request.app.state.client_keys.of(request)

    def may_compute() -> None:  # replays and shared runs cost nothing, so never refused
        if wait := limiter.wait(client):
            raise HTTPException(429, "you started many runs in the last minute; wait a little",
                                headers={"Retry-After": str(wait)})

    try:
        subscription = await runner.submit(demo, params, may_compute)
    except RunnerFull as exc:
        raise HTTPException(
            429, str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    if subscription.cache == "miss":
        limiter.record(client)
    response.headers["X-Cache"] = subscription.cache
    return subscription


@router.get("/lessons")
def list_lessons(request: Request, q: str = "", tag: str = "") -> list[dict[str, Any]]:
    hits = request.app.state.lessons.search(q, tag)
    return [hit["lesson"].summary_json() for hit in hits]


@router.get("/demos")
def list_demos() -> list[dict[str, Any]]:
    return [demo.describe() for demo in registry().values()]


@router.get("/demos/{slug}", responses={404: DEMO_ERRORS[404]})
def describe_demo(demo: DemoDep) -> dict[str, Any]:
    return demo.describe()


@router.post("/demos/{slug}/run", response_model=RunResponse, responses={
    **DEMO_ERRORS, 500: {"model": ErrorBody, "description": "The demo itself failed while "
                         "running (a bug in the demo)"}})
async def run_demo(
    request: Request,
    response: Response,
    demo: DemoDep,
    runner: RunnerDep,
    params: Annotated[dict[str, Any], Body()] = None,
) -> dict[str, Any]:
    """Run a demo to the end and answer its result (frames are counted, not returned).

    ``X-Cache: hit`` says the answer was replayed or shared, ``miss`` that it was computed.
    A client that gives up before the end frees its slot at once, as closing a stream does.
    """
    subscription = await submit(request, response, demo, params if params is not None else {})
    try:
        return await unless_client_leaves(request, final_payload(subscription))
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


async def job_events(
    subscription: Subscription, runner: JobRunner, demo: Demo, clock: Clock
) -> AsyncIterator[ServerSentEvent]:
    """A job's events as SSE; frames are paced by the demo's ``frame_seconds``,
    and a replay from the cache by the timing of the run it replays."""
    pacer = FramePacer(clock, demo.frame_seconds, subscription.replay_offsets)
    try:
        for index in itertools.count():
            event, payload = await subscription.next_event()
            if event == "frame":
                await pacer.wait_for_turn(index)
                yield ServerSentEvent(raw_data=payload, event="frame")
                continue
            yield ServerSentEvent(data=payload, event=event)
            if event in ("done", "error"):
                return
    finally:
        runner.release(subscription)  # the client left, pressed Stop, or the run ended


async def stream_job_from_query(
    request: Request, response: Response, demo: DemoDep
) -> Subscription:
    try:
        raw = from_query(demo, request.query_params)
    except ParamsError as exc:  # e.g. a parameter given twice
        raise refusal(request, exc) from None
    return await submit(request, response, demo, raw)


async def stream_job_from_body(
    request: Request,
    response: Response,
    demo: DemoDep,
    params: Annotated[dict[str, Any], Body()] = None,
) -> Subscription:
    return await submit(request, response, demo, params if params is not None else {})


StreamFromQuery = Annotated[Subscription, Depends(stream_job_from_query)]
StreamFromBody = Annotated[Subscription, Depends(stream_job_from_body)]


@router.get("/demos/{slug}/stream", response_class=EventSourceResponse, responses=DEMO_ERRORS)
async def stream_demo(
    demo: DemoDep, runner: RunnerDep, clock: ClockDep, job: StreamFromQuery
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``queued``, ``frame``…, then ``done`` (with ``result``) or ``error``.

    Parameters go in the query string (lists as JSON text), e.g. ``?k=3&dataset=moons``.
    """
    async for event in job_events(job, runner, demo, clock):
        yield event


@router.post("/demos/{slug}/stream", response_class=EventSourceResponse, responses=DEMO_ERRORS)
async def stream_demo_post(
    demo: DemoDep, runner: RunnerDep, clock: ClockDep, job: StreamFromBody
) -> AsyncIterator[ServerSentEvent]:
    """The same stream with parameters as a JSON body (no URL length limit)."""
    async for event in job_events(job, runner, demo, clock):
        yield event
