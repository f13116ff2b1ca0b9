"""What route handlers take, as typed dependencies (``Annotated`` aliases).

create_app() puts the server's long-lived objects on ``app.state`` (tests may swap one,
e.g. the clock); handlers never read ``app.state`` themselves but declare what they need:
``runner: RunnerDep``, ``lessons: LessonsDep``, ``job: JobFromBody``... A demo job is
admitted here, before the handler runs: parameters validated (422), the client's rate
checked (429), the runner asked for a slot (429 when full), ``X-Cache`` set.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, HTTPException, Request, Response

from app.demos import get_demo, registry
from app.demos.base import Demo
from app.errors import error_item
from app.i18n import gettext, t, translate_text, use_language
from app.i18n_demos import localised_error
from app.jobs import JobRunner, RunnerFull
from app.language import request_language
from app.lessons import LessonLibrary
from app.limits import RateLimiter
from app.pacing import Clock
from app.params import ParamsError, from_query, parse_params
from app.status import RATE_LIMIT, RUNNER_FULL, Refusals
from app.streams import Subscription


def runner_of(request: Request) -> JobRunner:
    return request.app.state.runner


def clock_of(request: Request) -> Clock:
    return request.app.state.clock


def lessons_of(request: Request) -> LessonLibrary:
    return request.app.state.lessons


def rate_limiter_of(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


def refusals_of(request: Request) -> Refusals:
    return request.app.state.refusals


def client_of(request: Request) -> str:
    """Who is asking: the browser (its signed cookie), else the client's address
    (X-Forwarded-For only from trusted proxies). See app/identity.py."""
    return request.app.state.clients.of(request)


def demo_named(slug: str) -> Demo:
    demo = get_demo(slug)
    if demo is None:
        message = f"no demo named {slug!r}; see /api/demos"
        raise HTTPException(404, [error_item("slug", message, "not_found", source="path")])
    return demo


RunnerDep = Annotated[JobRunner, Depends(runner_of)]
ClockDep = Annotated[Clock, Depends(clock_of)]
LessonsDep = Annotated[LessonLibrary, Depends(lessons_of)]
RateLimiterDep = Annotated[RateLimiter, Depends(rate_limiter_of)]
RefusalsDep = Annotated[Refusals, Depends(refusals_of)]
ClientDep = Annotated[str, Depends(client_of)]
DemosDep = Annotated[dict[str, Demo], Depends(registry)]
DemoDep = Annotated[Demo, Depends(demo_named)]


def who_of(client: str) -> str:
    """Whom the rate limit counts: this browser (its cookie) or this client (its address)."""
    return gettext("browser") if client.startswith("browser") else gettext("client")


def refusal(request: Request, exc: ParamsError, demo: Demo) -> HTTPException:
    """A 422 whose items say where each bad value came from (query string or body), in
    the language the request's Accept-Language names (the page's runtime sends its own)."""
    source = "query" if request.method == "GET" else "body"
    for error in exc.errors:
        error["loc"] = [source, *error["loc"][1:]]
    with use_language(request_language(request)):
        return HTTPException(422, [localised_error(error, demo) for error in exc.errors])


async def admit(request: Request, response: Response, demo: Demo, raw: Any, runner: JobRunner,
                limiter: RateLimiter, client: str) -> Subscription:
    """Validate, check the client's rate, admit: or answer 422 / 429 before any work.

    Each refusal is noted in ``app.state.refusals`` (its cause) for the /status page."""
    refusals = refusals_of(request)
    try:
        params = parse_params(demo, raw)
    except ParamsError as exc:
        refusals.note_invalid(demo.slug, exc.errors)
        raise refusal(request, exc, demo) from None

    lang = request_language(request)

    def may_compute() -> None:  # replays and shared runs cost nothing, so never refused
        if wait := limiter.wait(client):
            refusals.note(429, RATE_LIMIT)
            with use_language(lang):
                message = (t("the server starts at most 1 new run a minute per {who}; this "
                             "one can start another in {wait} s", who=who_of(client),
                             wait=wait) if limiter.per_minute == 1 else
                           t("the server starts at most {n} new runs a minute per {who}; this "
                             "one can start another in {wait} s", n=limiter.per_minute,
                             who=who_of(client), wait=wait))
            raise HTTPException(429, message, headers={"Retry-After": str(wait)})

    try:
        subscription = await runner.submit(demo, params, may_compute)
    except RunnerFull as exc:
        refusals.note(429, RUNNER_FULL)
        with use_language(lang):
            message = t("{reason}; try again in about {seconds} s",
                        reason=translate_text(str(exc)), seconds=exc.retry_after)
        raise HTTPException(
            429, message,
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    if subscription.cache == "miss":
        limiter.record(client)
    response.headers["X-Cache"] = subscription.cache
    return subscription


async def job_from_query(request: Request, response: Response, demo: DemoDep,
                         runner: RunnerDep, limiter: RateLimiterDep, client: ClientDep
                         ) -> Subscription:
    """A job whose parameters come in the query string (lists as JSON text)."""
    try:
        raw = from_query(demo, request.query_params)
    except ParamsError as exc:  # e.g. a parameter given twice
        raise refusal(request, exc, demo) from None
    return await admit(request, response, demo, raw, runner, limiter, client)


async def job_from_body(request: Request, response: Response, demo: DemoDep,
                        runner: RunnerDep, limiter: RateLimiterDep, client: ClientDep,
                        params: Annotated[dict[str, Any], Body()] = None) -> Subscription:
    """A job whose parameters come as a JSON body (none: every default)."""
    raw = params if params is not None else {}
    return await admit(request, response, demo, raw, runner, limiter, client)


JobFromQuery = Annotated[Subscription, Depends(job_from_query)]
JobFromBody = Annotated[Subscription, Depends(job_from_body)]
