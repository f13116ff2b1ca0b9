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
from app.errors import error_item


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
            errors.append(error_item(name, message, error["type"], loc=loc))
            continue
        if not loc:  # a check across fields; its message starts with the field it blames
            text = error["msg"].removeprefix("Value error, ")
            blamed = text.split(":", 1)[0]
            name = blamed if blamed in properties else ""
            errors.append(error_item(name, text, error["type"]))
            continue
        bounds = field_bounds(properties.get(name, {}))
        accepts = describe_bounds(bounds)
        text = error["msg"].removeprefix("Value error, ")  # a validator's own sentence
        if text.startswith(f"{name}:"):
            text = text[len(name) + 1 :].strip()
        if accepts and error["type"] != "value_error":  # a validator's sentence says it all
            text += f" (accepts {accepts})"
        message = f"{'.'.join(loc)}: {text}"
        got = error.get("input")
        if isinstance(got, int | float | str | bool) and len(str(got)) < 60:
            message += f"; got {json.dumps(got)}"
        errors.append(error_item(name, message, error["type"], bounds, loc))
    return errors


def parse_params(demo: Demo, data: Any) -> DemoParams:
    """Validate input against the demo's Params, raising ParamsError that names fields."""
    if not isinstance(data, Mapping):
        raise ParamsError([error_item("", "parameters must be a JSON object", "dict_type")])
    try:
        # JSON mode: strict about types, yet lists are welcome where tuples are declared.
        return demo.Params.model_validate_json(json.dumps(dict(data)))
    except (TypeError, ValueError) as exc:
        if not isinstance(exc, ValidationError):  # not JSON-encodable (lesson presets)
            raise ParamsError([error_item("", f"parameters are not JSON: {exc}", "json")]) from None
        raise ParamsError(_errors_from(exc, demo)) from None


def _from_text(raw: str, kind: str | None) -> Any:
    """A query string's text as the type the field wants; unchanged if it does not parse."""
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean" and raw.lower() in ("true", "false", "1", "0", "on", "off"):
            return raw.lower() in ("true", "1", "on")
        if kind in ("array", "object"):
            return json.loads(raw)  # lists (like clicked points) travel as JSON text
    except ValueError:
        pass
    return raw  # validation will name the field and say what it accepts


def from_query(demo: Demo, query: Mapping[str, str]) -> dict[str, Any]:
    """Query strings carry text; convert each value by its field's JSON Schema type."""
    properties = demo.schema().get("properties", {})
    values: dict[str, Any] = {}
    for key, raw in query.items():
        prop = properties.get(key, {})
        kind = prop.get("type") or next(
            (o.get("type") for o in prop.get("anyOf", []) if o.get("type") != "null"), None
        )
        values[key] = _from_text(raw, kind)
    return values
