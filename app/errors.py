"""One error shape for every 4xx the API answers, and the handlers that produce it.

Every error body is ``{"detail": [item, ...]}``. An item names what went wrong for
people — ``field`` (the parameter to change, "" when no one field is to blame),
``message`` (a sentence), ``bounds`` (what the field accepts) — and repeats it in
FastAPI's validation shape for tools: ``loc``, ``msg``, ``type``. A 404, a 413 or a 429
have one item; a 422 has one per bad field. /openapi.json documents exactly this.
A page that is not found, asked for by a browser, is the 404 page instead.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import N_
from app.templating import render_page

# The ``type`` of an error that is about the request as a whole, by status code.
N_("Not Found")  # Starlette's words for a path no route has, shown on the 404 page

STATUS_TYPES = {400: "json_invalid", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large", 429: "too_many_requests", 503: "unavailable"}


# What a demo route may answer besides success, and why (both /openapi.json's generic
# routes and its one path per demo say so).
DEMO_ERROR_REASONS = {400: "The body is not readable JSON", 404: "No such demo",
                      413: "Request body too large",
                      422: "A parameter is out of bounds or unknown",
                      429: "Server full or client over its rate"}


class ErrorItem(BaseModel):
    field: str = Field(description='The parameter to change; "" when none is to blame')
    message: str = Field(description="What is wrong and what would work, for people")
    bounds: dict[str, Any] = Field(description="What the field accepts (minimum, maximum, "
                                   "enum, maxLength, …); empty when not a bound")
    loc: list[str | int] = Field(description='Where the value came from, e.g. ["body", "k"]')
    msg: str = Field(description="The same as message (FastAPI's name for it)")
    type: str = Field(description="A stable, machine-readable kind, e.g. less_than_equal")


class ErrorBody(BaseModel):
    """Every 4xx answer of the API."""

    detail: list[ErrorItem]


def error_item(field: str, message: str, kind: str, bounds: dict | None = None,
               loc: list[str] | None = None, source: str = "body") -> dict[str, Any]:
    """One error: ``field``/``message``/``bounds`` for people, ``loc``/``msg``/``type``
    for tools. ``source`` is where the value came from: "body", "query" or "path"."""
    return {"field": field, "message": message, "bounds": bounds or {},
            "loc": [source, *(loc or ([field] if field else []))], "msg": message, "type": kind}


def error_body(status: int, detail: Any) -> dict[str, Any]:
    """An HTTPException's detail (a sentence, or a list of items) in the one shape."""
    if isinstance(detail, list) and all(isinstance(d, dict) and "message" in d for d in detail):
        return {"detail": detail}
    text = detail if isinstance(detail, str) and detail else HTTPStatus(status).phrase
    kind = STATUS_TYPES.get(status, "http_error")
    return {"detail": [{"field": "", "message": text, "bounds": {}, "loc": [], "msg": text,
                        "type": kind}]}


def validation_error_body(exc: RequestValidationError) -> tuple[int, dict[str, Any]]:
    """FastAPI's own request checks, in the one shape: 400 for a body that is not JSON
    (it cannot be read at all), 422 for JSON of the wrong kind (e.g. a list)."""
    items = []
    status = 422
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if part is not None]
        source = str(loc[0]) if loc else "body"
        if error.get("type") == "json_invalid":
            status = 400
            reason = (error.get("ctx") or {}).get("error", "")
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            message = f"the body is not valid JSON{where}" + (f": {reason}" if reason else "")
            items.append(error_item("", message, "json_invalid", loc=[str(p) for p in loc[1:]],
                                    source=source))
            continue
        if source == "body" and len(loc) <= 1:
            message = ('the body must be a JSON object of parameters, e.g. {"seed": 1}, '
                       "sent as application/json")
            items.append(error_item("", message, error.get("type", "dict_type"), source=source))
            continue
        field = str(loc[1]) if len(loc) > 1 else ""
        message = f"{'.'.join(str(p) for p in loc[1:])}: {error.get('msg', 'invalid')}"
        items.append(error_item(field, message, error.get("type", "value_error"),
                                loc=[str(p) for p in loc[1:]], source=source))
    if status == 400:
        items = [item for item in items if item["type"] == "json_invalid"]
    return status, {"detail": items}


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Every HTTPException in the one shape; a browser's missing page, as a page."""
    wants_html = not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )
    if wants_html and exc.status_code == 404:
        message = error_body(404, exc.detail)["detail"][0]["message"]
        return render_page(request, "404.html", {"message": message}, status_code=404)
    return JSONResponse(error_body(exc.status_code, exc.detail), exc.status_code,
                        headers=exc.headers)


async def request_error(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own request checks (a body that is not a JSON object) in the one shape."""
    status, body = validation_error_body(exc)
    return JSONResponse(body, status)


# What create_app installs: exception class → handler.
ERROR_HANDLERS = {StarletteHTTPException: http_error, RequestValidationError: request_error}
