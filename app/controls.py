"""A demo's controls, generated from its Params JSON Schema — never written by hand.

integer/number with bounds → range slider showing its value; enum → select;
boolean → checkbox; string → text box (a text area when it may hold a paragraph);
string with ``x-widget: csv`` → CSV text the student pastes or loads from a file; array
with ``x-widget: click-points`` → points the student adds by clicking a chart or typing
their coordinates. Each kind is one entry of CONTROL_KINDS
here, one macro in templates/_controls.html and one entry in static/js/runtime/controls.js.
A control another one limits (DEPENDS_ON: heads offers the divisors of d_model) carries
that as data-<hint>, which the page follows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.demos import get_demo
from app.demos.base import (
    X_ACTIVATES,
    X_CHART,
    X_DIVIDES,
    X_LABEL,
    X_LENGTH_OF,
    X_SCALE,
    X_SHOW_IF,
    X_STEP,
    X_WIDGET,
    Demo,
)
from app.i18n import gettext
from app.i18n_demos import names_itself, translate_plotly
from app.markdown import DemoOptions, LessonError
from app.params import ParamsError, parse_params
from app.templating import templates


def _resolve(prop: dict[str, Any]) -> dict[str, Any]:
    """Optional fields appear as anyOf [X, null]; the control is X's."""
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            return {**prop, **option}
    return prop


def _slider_step(prop: dict[str, Any]) -> float:
    if X_STEP in prop:
        return prop[X_STEP]
    if prop.get("type") == "integer":
        return 1
    span = prop["maximum"] - prop["minimum"]
    return float(f"{span / 100:.1g}")  # a round step: 0.01, 0.05, 0.2, ...


def _is_number(prop: dict[str, Any]) -> bool:
    return prop.get("type") in ("integer", "number")


def _is_slider(prop: dict[str, Any]) -> bool:
    return (_is_number(prop) and "minimum" in prop and "maximum" in prop
            and prop.get(X_WIDGET) != "number")


def _range(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    low, high = prop["minimum"], prop["maximum"]
    if prop.get(X_SCALE) == "log" and low > 0:
        # The slider moves over log10(value): learning rates span decades.
        return {"scale": "log", "min": round(math.log10(low), 4),
                "max": round(math.log10(high), 4), "step": 0.01,
                "position": round(math.log10(value), 4) if value else 0}
    return {"min": low, "max": high, "step": _slider_step(prop)}


def _points(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    # The boxes a student types a point's x and y into have the coordinates' bounds.
    axes = prop.get("items", {}).get("prefixItems", [{}, {}])
    return {"chart": prop.get(X_CHART, ""), "activates": prop.get(X_ACTIVATES, {}),
            "max_items": prop.get("maxItems", 1000), "json_value": json.dumps(value),
            "axes": [{"name": name, **_bounds(axis, None)}
                     for name, axis in zip("xy", axes, strict=False)]}


# A text field that may hold this many characters or more may hold a paragraph: a text
# area (several lines, wrapping) rather than a one-line box.
PARAGRAPH = 300


def _text(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    max_length = prop.get("maxLength")
    return {"max_length": max_length, "multiline": bool(max_length and max_length >= PARAGRAPH)}


def _csv(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    return {"max_length": prop.get("maxLength"), "activates": prop.get(X_ACTIVATES, {})}


def _bounds(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    """A number box's bounds, those the schema has."""
    return {name: prop[key] for name, key in (("min", "minimum"), ("max", "maximum"))
            if key in prop}


@dataclass(frozen=True)
class ControlKind:
    """One kind of control. ``name`` is also its macro in templates/_controls.html and its
    entry in static/js/runtime/controls.js's CONTROL_KINDS."""

    name: str
    applies: Callable[[dict[str, Any]], bool]  # does a (resolved) schema property get it?
    fields: Callable[[dict[str, Any], Any], dict[str, Any]]  # what its macro needs


# THE table of control kinds; a property gets the first that applies.
CONTROL_KINDS = [
    ControlKind("points", lambda prop: prop.get(X_WIDGET) == "click-points", _points),
    ControlKind("csv", lambda prop: prop.get(X_WIDGET) == "csv", _csv),
    ControlKind("select", lambda prop: "enum" in prop, lambda prop, _: {"options": prop["enum"]}),
    ControlKind("range", _is_slider, _range),
    # A box, when a slider would be too coarse (x-widget), or when a bound is missing.
    ControlKind("number", lambda prop: prop.get(X_WIDGET) == "number" or _is_number(prop),
                _bounds),
    ControlKind("checkbox", lambda prop: prop.get("type") == "boolean", lambda prop, _: {}),
    ControlKind("text", lambda prop: True, _text),
]


# Hints by which another control's value limits this one's: the page's data-<hint> → its
# schema key (static/js/runtime/controls.js DEPENDS_ON says how the page follows each).
DEPENDS_ON = {"divides": X_DIVIDES, "length-of": X_LENGTH_OF}


def control_for(name: str, prop: dict[str, Any], value: Any) -> dict[str, Any]:
    """One control's description for the template."""
    prop = _resolve(prop)
    kind = next(kind for kind in CONTROL_KINDS if kind.applies(prop))
    # A student reads words ("learning rate"), a label where the name is jargon
    # ("restarts" for n_init); the API name then stays beside it, as lessons quote it.
    # In another language the label is translated, and the name stays beside it too.
    words = name.replace("_", " ")
    label = gettext(prop.get(X_LABEL, words))
    return {
        "name": name,
        "label": label,
        "key": name if label != words and not names_itself(label, name) else None,
        "help": gettext(prop.get("description", "")),
        "value": value,
        "default": prop.get("default"),
        "show_if": prop.get(X_SHOW_IF),
        "depends": {hint: prop[key] for hint, key in DEPENDS_ON.items() if key in prop},
        "kind": kind.name,
        **kind.fields(prop, value),
    }


def controls_for(demo: Demo, values: dict[str, Any]) -> list[dict[str, Any]]:
    properties = demo.schema().get("properties", {})
    # The seed comes from the base class, hence first; it reads better last.
    names = sorted(properties, key=lambda name: name == "seed")
    return [control_for(name, properties[name], values.get(name)) for name in names]


def render_demo_block(slug: str, presets: dict[str, Any], instance: str,
                      options: DemoOptions | None = None) -> str:
    """The HTML of one demo fence: controls, buttons and chart slots."""
    options = options or DemoOptions()
    demo = get_demo(slug)
    if demo is None:
        raise LessonError(f"demo fence names an unknown demo {slug!r}")
    try:
        params = parse_params(demo, presets)
    except ParamsError as exc:
        raise LessonError(f"demo {slug}: bad preset: {exc}") from None
    values = params.model_dump(mode="json")
    unknown = sorted(set(options.hide) - set(values))
    if unknown:
        raise LessonError(f"demo {slug}: :hide: names no control {', '.join(unknown)} "
                          f"(its controls: {', '.join(values)})")
    return templates.get_template("_demo.html").render(
        demo=demo,
        title=gettext(demo.title),
        description=gettext(demo.description),
        charts=[{"id": c.id, "wide": c.wide, "title": gettext(c.title),
                 "summary": gettext(c.summary)} for c in demo.charts],
        instance=instance,
        options=options,
        controls=controls_for(demo, values),
        presets_json=json.dumps(values),
        defaults_json=json.dumps(demo.defaults()),
        charts_json=json.dumps([{"id": c.id, "layout": translate_plotly(c.layout),
                                 "traces": translate_plotly(c.traces)} for c in demo.charts]),
        metric_labels_json=json.dumps({k: gettext(v) for k, v in demo.metric_labels.items()}),
    )
