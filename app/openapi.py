"""The OpenAPI document, with one concrete path per demo.

The routes are generic (``/api/demos/{slug}/run``), but each demo's parameters are a
different schema. Listing ``/api/demos/kmeans/run`` and friends with their real
request schema makes /docs useful to API users and lets schema-driven testers
(schemathesis) generate valid and invalid parameters for every demo.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.demos import registry
from app.demos.base import Demo
from app.errors import DEMO_ERROR_REASONS
from app.notebook import MEDIA_TYPE

ERROR = {"$ref": "#/components/schemas/ErrorBody"}
SSE_EVENT = {"type": "object", "properties": {
    "event": {"type": "string", "enum": ["queued", "frame", "done", "error"]},
    "data": {"type": "string", "description": "JSON text"},
}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors() -> dict[str, Any]:
    return {str(status): {"description": reason + ("; see Retry-After" if status == 429 else ""),
                          **_json(ERROR)}
            for status, reason in DEMO_ERROR_REASONS.items()}


def _query_parameters(params_schema: dict[str, Any],
                      defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Every parameter as a query field; lists (clicked points) travel as JSON text.
    Each carries its default as its ``example``, so Swagger's "Try it out" sends a valid
    value (its own guess for a list of pairs is ``[[null, null]]``)."""
    out = []
    for name, prop in params_schema.get("properties", {}).items():
        field = {k: v for k, v in prop.items() if not k.startswith("x-") and k != "title"}
        parameter = {"name": name, "in": "query", "required": False,
                     "description": prop.get("description", "")}
        if prop.get("type") in ("array", "object"):
            parameter["content"] = {"application/json": {"schema": field,
                                                         "example": defaults[name]}}
        else:
            parameter["schema"] = field
            parameter["example"] = defaults[name]
        out.append(parameter)
    return out


def _demo_paths(demo: Demo, params_ref: dict[str, Any], params_schema: dict) -> dict[str, Any]:
    defaults = demo.defaults()  # valid by construction: every example "Try it out" sends
    body = {"required": False, "content": {"application/json": {
        "schema": params_ref, "example": defaults}}}
    query = _query_parameters(params_schema, defaults)
    events = {"200": {"description": "Server-Sent Events: queued, frame, done, error",
                      "content": {"text/event-stream": {"schema": SSE_EVENT}}},
              **_errors()}
    tag = [f"demo: {demo.slug}"]
    return {
        f"/api/demos/{demo.slug}/run": {"post": {
            "tags": tag, "summary": f"Run {demo.title} to the end",
            "operationId": f"run_{demo.slug}", "requestBody": body,
            "responses": {"200": {"description": "The run's result",
                                  **_json({"$ref": "#/components/schemas/RunResponse"})},
                          **_errors(),
                          "500": {"description": "The demo itself failed while running (a bug "
                                  "in the demo; streams end with an error event instead)",
                                  **_json(ERROR)}},
        }},
        f"/api/demos/{demo.slug}/stream": {
            "get": {"tags": tag, "summary": f"Stream {demo.title}",
                    "operationId": f"stream_{demo.slug}",
                    "parameters": query, "responses": events},
            "post": {"tags": tag, "summary": f"Stream {demo.title} (JSON body)",
                     "operationId": f"stream_post_{demo.slug}", "requestBody": body,
                     "responses": events},
        },
        f"/api/demos/{demo.slug}/notebook": {"get": {
            "tags": tag, "summary": f"{demo.title} as a Jupyter notebook",
            "description": "An .ipynb that re-runs the demo offline with these parameters "
                           "(query string as for the stream); nothing is computed here.",
            "operationId": f"notebook_{demo.slug}", "parameters": query,
            "responses": {"200": {"description": "A Jupyter notebook (nbformat 4)",
                                  "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}},
                          **{status: response for status, response in _errors().items()
                             if status in ("404", "422")}},
        }},
    }


def _errors_are_json(schema: dict[str, Any]) -> None:
    """Stream routes answer errors as JSON before any event; say so, not text/event-stream."""
    for path, operations in schema["paths"].items():
        if not path.endswith("/stream"):
            continue
        for operation in operations.values():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if status == "200":
                    response["content"] = {"text/event-stream": {"schema": SSE_EVENT}}
                elif "text/event-stream" in content:
                    response["content"] = {"application/json": content["text/event-stream"]}


def _one_error_shape(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape on every route; ours is ErrorBody everywhere
    (see app/errors.py), so say so and drop FastAPI's models."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("4"):
                    response["content"] = _json(ERROR)["content"]
    components = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _one_error_shape(schema)
    _errors_are_json(schema)
    for demo in registry().values():
        name = "Params_" + demo.slug.replace("-", "_")
        params_schema = demo.Params.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(params_schema.pop("$defs", {}))
        components[name] = {**params_schema, "examples": [demo.defaults()]}
        schema["paths"].update(
            _demo_paths(demo, {"$ref": f"#/components/schemas/{name}"}, params_schema)
        )
    app.openapi_schema = schema
    return schema
