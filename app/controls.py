"""A demo's controls, generated from its Params JSON Schema — never written by hand.

integer/number with bounds → range slider showing its value; enum → select;
boolean → checkbox; string → text box; array with ``x-widget: click-points`` →
points the student adds by clicking a chart.
"""

from __future__ import annotations

import json
import math
from typing import Any

from app.demos import get_demo
from app.demos.base import (
    X_ACTIVATES,
    X_CHART,
    X_LABEL,
    X_SCALE,
    X_SHOW_IF,
    X_STEP,
    X_WIDGET,
    Demo,
)
from app.markdown import LessonError
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


def control_for(name: str, prop: dict[str, Any], value: Any) -> dict[str, Any]:
    """One control's description for the template."""
    prop = _resolve(prop)
    control = {
        "name": name,
        "label": prop.get(X_LABEL, name),
        "help": prop.get("description", ""),
        "value": value,
        "default": prop.get("default"),
        "show_if": prop.get(X_SHOW_IF),
    }
    kind = prop.get("type")
    if prop.get(X_WIDGET) == "click-points":
        control.update(
            kind="points",
            chart=prop.get(X_CHART, ""),
            activates=prop.get(X_ACTIVATES, {}),
            max_items=prop.get("maxItems", 1000),
            json_value=json.dumps(value),
        )
    elif "enum" in prop:
        control.update(kind="select", options=prop["enum"])
    elif prop.get(X_WIDGET) == "number":  # a box, when a slider would be too coarse
        control.update(kind="number", min=prop.get("minimum"), max=prop.get("maximum"))
    elif kind == "boolean":
        control.update(kind="checkbox")
    elif kind in ("integer", "number") and "minimum" in prop and "maximum" in prop:
        low, high = prop["minimum"], prop["maximum"]
        if prop.get(X_SCALE) == "log" and low > 0:
            # The slider moves over log10(value): learning rates span decades.
            control.update(kind="range", scale="log", min=round(math.log10(low), 4),
                           max=round(math.log10(high), 4), step=0.01,
                           position=round(math.log10(value), 4) if value else 0)
        else:
            control.update(kind="range", min=low, max=high, step=_slider_step(prop))
    elif kind in ("integer", "number"):
        control.update(kind="number")
    else:
        control.update(kind="text", max_length=prop.get("maxLength"))
    return control


def controls_for(demo: Demo, values: dict[str, Any]) -> list[dict[str, Any]]:
    properties = demo.schema().get("properties", {})
    # The seed comes from the base class, hence first; it reads better last.
    names = sorted(properties, key=lambda name: name == "seed")
    return [control_for(name, properties[name], values.get(name)) for name in names]


def render_demo_block(slug: str, presets: dict[str, Any], instance: str) -> str:
    """The HTML of one demo fence: controls, buttons and chart slots."""
    demo = get_demo(slug)
    if demo is None:
        raise LessonError(f"demo fence names an unknown demo {slug!r}")
    try:
        params = parse_params(demo, presets)
    except ParamsError as exc:
        raise LessonError(f"demo {slug}: bad preset: {exc}") from None
    values = params.model_dump(mode="json")
    return templates.get_template("_demo.html").render(
        demo=demo,
        instance=instance,
        controls=controls_for(demo, values),
        presets_json=json.dumps(values),
        defaults_json=json.dumps(demo.defaults()),
        charts_json=json.dumps([{"id": c.id, "layout": c.layout, "traces": c.traces}
                                for c in demo.charts]),
        metric_labels_json=json.dumps(demo.metric_labels),
    )
