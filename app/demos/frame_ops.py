"""Frame ops: what a frame asks the page to do to one chart.

A frame's ``charts`` maps a chart id to an op built here. THE table of ops is
:data:`FRAME_OPS` (name → the keys an op of that name carries); the page's table,
``FRAME_OPS`` in static/js/runtime/ops.js, draws each. A new op is one builder and one
entry here and one entry there; tests/test_contract.py checks that the two tables name
the same ops and that every demo's frames use only these, with their keys.
"""

from __future__ import annotations

from typing import Any

FRAME_OPS: dict[str, tuple[str, ...]] = {
    "react": ("data", "layout"),  # redraw the chart whole (Plotly.react)
    "extend": ("traces", "x", "y", "max_points"),  # append points (Plotly.extendTraces)
    "animate": ("data", "frames", "layout", "frame_ms"),  # draw, then play frames
}


def figure(data: list[dict[str, Any]], layout: dict[str, Any] | None = None) -> dict[str, Any]:
    """An op that redraws a chart whole (``Plotly.react``)."""
    return {"op": "react", "data": data, "layout": layout or {}}


def extend(
    traces: list[int], x: list[list[float]], y: list[list[float]], max_points: int = 2000
) -> dict[str, Any]:
    """An op that appends points to existing traces, keeping at most ``max_points``."""
    return {"op": "extend", "traces": traces, "x": x, "y": y, "max_points": max_points}


def animation(
    data: list[dict[str, Any]],
    frames: list[list[dict[str, Any]]],
    layout: dict[str, Any] | None = None,
    frame_ms: int = 20,
) -> dict[str, Any]:
    """An op that draws ``data`` then plays ``frames`` (each a list of traces) in the page."""
    return {"op": "animate", "data": data, "frames": frames, "layout": layout or {},
            "frame_ms": frame_ms}


def op_problems(op: Any) -> list[str]:
    """What is wrong with ``op`` as a frame op: an unknown name or missing keys (none: [])."""
    name = op.get("op") if isinstance(op, dict) else None
    if name not in FRAME_OPS:
        return [f"unknown op {name!r}"]
    missing = [key for key in FRAME_OPS[name] if key not in op]
    return [f"{name} op lacks {', '.join(missing)}"] if missing else []
