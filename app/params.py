"""Turn raw input (JSON body, query string, lesson preset) into a demo's Params.

Errors come back as a list of ``{"field", "message", "bounds", ...}`` that name the
field and what it accepts, so a 422 tells the student exactly what to change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.demos.base import Demo, DemoParams
from app.errors import error_item
from app.i18n import t


class ParamsError(ValueError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def field_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """What a field accepts, read from its JSON Schema."""
    bounds: dict[str, Any] = {"enum": [True, False]} if schema.get("type") == "boolean" else {}
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
    """What a field accepts, in words of the current language (app/i18n.py)."""
    if "enum" in bounds:
        return t("one of {values}", values=", ".join(json.dumps(v, ensure_ascii=False)
                                                       for v in bounds["enum"]))
    low = bounds.get("minimum", bounds.get("exclusiveMinimum"))
    high = bounds.get("maximum", bounds.get("exclusiveMaximum"))
    if low is not None and high is not None:
        return t("between {low} and {high}", low=low, high=high)
    if "maxItems" in bounds:
        return t("at most {n} items", n=bounds["maxItems"])
    if "maxLength" in bounds:
        return t("at most {n} characters", n=bounds["maxLength"])
    return ""


def schema_at(schema: dict[str, Any], loc: list[str]) -> dict[str, Any]:
    """The JSON Schema of the value at ``loc`` (["points", "0", "1"] → one coordinate),
    so an error deep inside a list states that value's own bounds."""
    defs = schema.get("$defs", {})
    node = schema
    for part in loc:
        node = defs.get(node.get("$ref", "").rsplit("/", 1)[-1], node)
        node = next((o for o in node.get("anyOf", []) if o.get("type") != "null"), node)
        if part.isdigit():
            prefix = node.get("prefixItems", [])
            node = prefix[int(part)] if int(part) < len(prefix) else node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return defs.get(node.get("$ref", "").rsplit("/", 1)[-1], node)


# A body with thousands of mistakes gets the first few, not a reply larger than itself.
MAX_ERRORS = 10


def _errors_from(exc: ValidationError, demo: Demo) -> list[dict[str, Any]]:
    schema = demo.schema()
    properties = schema.get("properties", {})
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
        bounds = field_bounds(schema_at(schema, loc))
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
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS + 1
        errors = errors[: MAX_ERRORS - 1] + [error_item(
            "", f"… and {more} more mistakes like these", "too_many_errors")]
    return errors


# Deeper than any parameter needs (clicked points are lists of pairs: depth 2), and far
# below where Python's JSON encoder and pydantic's parser give up.
MAX_NESTING = 16


def _not_text(value: str) -> bool:
    """A lone surrogate: valid in a JSON string escape, yet not a character."""
    return any("\ud800" <= char <= "\udfff" for char in value)


def check_plain_values(data: Mapping[str, Any]) -> None:
    """Refuse, naming the parameter, values no parameter could hold: nested deeper than
    :data:`MAX_NESTING`, or text with lone surrogates. Walks without recursion."""
    errors = []
    for name, value in data.items():
        if isinstance(name, str) and _not_text(name):
            errors.append(error_item("", "a parameter name holds a lone surrogate (half of a "
                                     "UTF-16 pair), which is not text", "string_unicode"))
            continue
        stack = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if depth > MAX_NESTING:
                errors.append(error_item(str(name), f"{name}: nested more than {MAX_NESTING} "
                                         "levels deep", "too_deep"))
                break
            if isinstance(item, str) and _not_text(item):
                errors.append(error_item(str(name), f"{name}: holds a lone surrogate (half of "
                                         "a UTF-16 pair), which is not text", "string_unicode"))
                break
            if isinstance(item, Mapping):
                stack.extend((part, depth + 1) for pair in item.items() for part in pair)
            elif isinstance(item, list | tuple):
                stack.extend((part, depth + 1) for part in item)
    if errors:
        raise ParamsError(errors[:MAX_ERRORS])


def parse_params(demo: Demo, data: Any) -> DemoParams:
    """Validate input against the demo's Params, raising ParamsError that names fields."""
    if not isinstance(data, Mapping):
        raise ParamsError([error_item("", "parameters must be a JSON object", "dict_type")])
    check_plain_values(data)
    try:
        # JSON mode: strict about types, yet lists are welcome where tuples are declared.
        return demo.Params.model_validate_json(json.dumps(dict(data)))
    except (TypeError, ValueError) as exc:
        if not isinstance(exc, ValidationError):  # not JSON-encodable (lesson presets)
            raise ParamsError([error_item("", f"parameters are not JSON: {exc}", "json")]) from None
        raise ParamsError(_errors_from(exc, demo)) from None


# Numbers in a query string are read as JSON writes them (ASCII digits, no "_", no
# "NaN"), so the query and the body accept the same values.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _from_text(raw: str, kind: str | None) -> Any:
    """A query string's text as the type the field wants; unchanged if it does not parse."""
    text = raw.strip()
    try:
        if kind == "integer" and _INTEGER.fullmatch(text):
            return int(text)
        if kind == "number" and _NUMBER.fullmatch(text):
            return float(text)
        if kind == "boolean" and raw.lower() in ("true", "false", "1", "0", "on", "off"):
            return raw.lower() in ("true", "1", "on")
        if kind in ("array", "object"):
            return json.loads(raw)  # lists (like clicked points) travel as JSON text
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
        pass
    return raw  # validation will name the field and say what it accepts


def from_query(demo: Demo, query: Mapping[str, str]) -> dict[str, Any]:
    """Query strings carry text; convert each value by its field's JSON Schema type.

    A parameter given twice (``?k=2&k=9``) is refused rather than one silently winning.
    """
    properties = demo.schema().get("properties", {})
    getlist = getattr(query, "getlist", None)
    repeated = [key for key in query if getlist is not None and len(getlist(key)) > 1]
    if repeated:
        raise ParamsError([error_item(key, f"{key}: given {len(getlist(key))} times in the "
                                      "query string; give it once", "repeated", loc=[key])
                           for key in repeated[:MAX_ERRORS]])
    values: dict[str, Any] = {}
    for key, raw in query.items():
        prop = properties.get(key, {})
        kind = prop.get("type") or next(
            (o.get("type") for o in prop.get("anyOf", []) if o.get("type") != "null"), None
        )
        values[key] = _from_text(raw, kind)
    return values
