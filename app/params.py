"""Turn raw input (JSON body, query string, lesson preset) into a demo's Params.

Errors come back as a list of ``{"field", "message", "bounds", ...}`` that name the
field and what it accepts, so a 422 tells the student exactly what to change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.demos.base import Demo, DemoParams


class ParamsError(ValueError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def field_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """What a field accepts, read from its JSON Schema."""
    bounds = {}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"):
        if key in schema:
            bounds[key] = schema[key]
    if "const" in schema:
        bounds["enum"] = [schema["const"]]
    for key in ("maxItems", "maxLength"):
        if key in schema:
            bounds[key] = schema[key]
    return bounds


def describe_bounds(bounds: dict[str, Any]) -> str:
    if "enum" in bounds:
        return "one of " + ", ".join(json.dumps(v) for v in bounds["enum"])
    low = bounds.get("minimum", bounds.get("exclusiveMinimum"))
    high = bounds.get("maximum", bounds.get("exclusiveMaximum"))
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if "maxItems" in bounds:
        return f"at most {bounds['maxItems']} items"
    if "maxLength" in bounds:
        return f"at most {bounds['maxLength']} characters"
    return ""


def _errors_from(exc: ValidationError, demo: Demo) -> list[dict[str, Any]]:
    properties = demo.schema().get("properties", {})
    errors = []
    for error in exc.errors(include_url=False, include_context=False):
        loc = [str(part) for part in error["loc"]]
        name = loc[0] if loc else ""
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(properties))
            message = f"{name}: unknown parameter for {demo.slug}; known: {allowed}"
            errors.append({"field": name, "message": message, "bounds": {}, "loc": loc})
            continue
        bounds = field_bounds(properties.get(name, {}))
        accepts = describe_bounds(bounds)
        where = ".".join(loc) if loc else "parameters"
        message = f"{where}: {error['msg']}" + (f" (accepts {accepts})" if accepts else "")
        got = error.get("input")
        if isinstance(got, int | float | str | bool) and len(str(got)) < 60:
            message += f"; got {json.dumps(got)}"
        errors.append({"field": name, "message": message, "bounds": bounds, "loc": loc})
    return errors


def parse_params(demo: Demo, data: Any) -> DemoParams:
    """Validate input against the demo's Params, raising ParamsError that names fields."""
    if not isinstance(data, Mapping):
        raise ParamsError([{"field": "", "message": "parameters must be a JSON object",
                            "bounds": {}, "loc": []}])
    try:
        return demo.Params.model_validate(dict(data))
    except ValidationError as exc:
        raise ParamsError(_errors_from(exc, demo)) from None


def from_query(demo: Demo, query: Mapping[str, str]) -> dict[str, Any]:
    """Query strings carry text; lists (like clicked points) travel as JSON text."""
    properties = demo.schema().get("properties", {})
    values: dict[str, Any] = {}
    for key, raw in query.items():
        kind = properties.get(key, {}).get("type")
        if kind in ("array", "object"):
            try:
                values[key] = json.loads(raw)
            except ValueError:
                values[key] = raw  # validation will name the field
        else:
            values[key] = raw
    return values
