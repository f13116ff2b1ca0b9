"""Demo `autograd-graph`: type an expression, see the graph autograd records, run backward.

The expression is parsed by the whitelist parser of :mod:`app.ml.expression` (never
``eval``), evaluated by torch (float64) and by the lesson's scalar engine, and drawn
left to right: leaves (x, y, z, constants) on the left, the output on the right.
Frames then reveal each node's gradient in reverse topological order — the order in
which the backward pass finishes them. Non-finite numbers (1/0, log of a negative)
are part of the answer: JSON has no inf/NaN, so they travel as the strings "inf",
"-inf" and "nan".
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from app.demos.base import Demo, DemoParams, RunContext, RunGenerator, control, figure, make_frame
from app.demos.charts import layout, line, markers, plain_chart
from app.ml.differentiate import (
    Differentiated,
    backward_order,
    differentiate,
    graph_layout,
    graph_record,
)
from app.ml.expression import MAX_LENGTH, VARIABLES, parse_expression
from app.ml.tokens import visible_symbols

Number = Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
MAX_BACKWARD_FRAMES = 40
PENDING, CURRENT, DONE, UNTRACKED = "#c9ced6", "#f28e2b", "#76b7e8", "#eeeeee"


class Params(DemoParams):
    expression: str = Field(
        "sin(x)*y + x**2/y", max_length=MAX_LENGTH,
        description="An expression in x, y, z: numbers, + - * / **, parentheses and "
        "sin cos tan exp log sqrt tanh sigmoid relu abs")
    x: Number = Field(1.3, description="Value of x", json_schema_extra=control(step=0.05))
    y: Number = Field(-0.7, description="Value of y", json_schema_extra=control(step=0.05))
    z: Number = Field(0.45, description="Value of z", json_schema_extra=control(step=0.05))

    @field_validator("expression")
    @classmethod
    def _visible(cls, text: str) -> str:
        # A zero-width space pasted inside "x*y" is no "unexpected character" to the
        # student, who cannot see it: drop invisible characters as the tokeniser does.
        visible = visible_symbols(text)
        if visible != text and not visible.strip():
            raise ValueError("expression: has no visible character (only spaces or "
                             "invisible characters); type something like sin(x)*y + x**2/y")
        return visible

    @model_validator(mode="after")
    def _parse(self) -> Params:
        parse_expression(self.expression)  # raises "expression: ... at position N"
        return self



def short(number: float) -> str:
    return f"{number:.4g}"  # inf, -inf and nan print as such


def graph_figure(d: Differentiated, revealed: set[int], current: set[int]) -> dict[str, Any]:
    """Edges as line segments, nodes as labelled squares coloured by backward progress."""
    order, pos = d.order, graph_layout(d.order)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    hot_x: list[float | None] = []
    hot_y: list[float | None] = []
    for node in order:
        for parent in dict.fromkeys(node.parents):  # x*x: one edge is enough
            xs, ys = (hot_x, hot_y) if id(node) in current else (edge_x, edge_y)
            xs += [pos[id(parent)][0], pos[id(node)][0], None]
            ys += [pos[id(parent)][1], pos[id(node)][1], None]
    colours, labels, hovers = [], [], []
    for node in order:
        tracked = d.torch_grad[id(node)] is not None
        shown = id(node) in revealed and tracked
        grad = f"∂ {short(node.grad)}" if shown else ("∂ —" if not tracked else "∂ ?")
        name = node.label if node.op != "const" else "const"
        labels.append(f"<b>{name}</b><br>{short(node.data)}<br>{grad}")
        colours.append(UNTRACKED if not tracked else CURRENT if id(node) in current
                       else DONE if shown else PENDING)
        hovers.append(f"{name}: value {node.data} (torch {d.torch_value[id(node)]})"
                      + (f"<br>d output / d node = {node.grad} (torch "
                         f"{d.torch_grad[id(node)]})" if shown else "")
                      + ("<br>a constant: torch tracks no gradient" if not tracked else ""))
    columns = max(p[0] for p in pos.values())
    rows = max(abs(p[1]) for p in pos.values())
    # Big boxes with three lines of text while they fit; small dots (hover for numbers)
    # when a long expression makes many columns.
    size = max(12.0, min(62.0, 640 / (columns + 1)))
    labels = labels if size >= 50 else [""] * len(labels)
    return figure([
        line("data flow", edge_x, edge_y, line={"color": "#8a94a6", "width": 1.5},
             hoverinfo="skip"),
        line("gradient now", hot_x, hot_y, line={"color": CURRENT, "width": 4},
             hoverinfo="skip"),
        markers("nodes", [pos[id(n)][0] for n in order], [pos[id(n)][1] for n in order],
                mode="markers+text", text=labels, textposition="middle center",
                hovertext=hovers, hoverinfo="text", textfont={"size": 11, "color": "#111"},
                marker={"symbol": "square", "size": size, "color": colours,
                        "line": {"width": 1, "color": "#555"}}),
    ], layout(x={"visible": False, "range": [-0.6, columns + 0.6], "fixedrange": True},
              y={"visible": False, "range": [-rows - 0.7, rows + 0.7], "fixedrange": True},
              showlegend=False, height=max(320, 110 * (2 * rows + 1.4))))


def constant_note(d: Differentiated) -> str | None:
    """A sentence when the expression has no x, y or z: all its gradients are 0 by fiat."""
    if any(node.op in VARIABLES for node in d.order):
        return None
    return ("the expression uses none of x, y, z: it is a constant, so there is nothing "
            "to differentiate and every gradient is 0")


def with_note(graph: dict[str, Any], note: str | None) -> dict[str, Any]:
    """The graph with the note written across its top (inside the plot: no title margin)."""
    if note:
        graph["layout"]["annotations"] = [{
            "text": "⚠ a constant: no x, y or z to differentiate", "showarrow": False,
            "xref": "paper", "yref": "paper", "x": 0.5, "y": 1, "yanchor": "top",
            "font": {"size": 13}}]
    return graph


def metrics_of(d: Differentiated) -> dict[str, Any]:
    note = constant_note(d)
    return {"value": d.root.data, **{f"grad_{n}": g for n, g in d.gradients.items()},
            "engines_differ_by": d.max_abs_diff, **({"note": note} if note else {})}


def run(params: Params, ctx: RunContext) -> RunGenerator:
    d = differentiate(params.expression, {"x": params.x, "y": params.y, "z": params.z})
    note = constant_note(d)
    yield make_frame(0, 0.0, {"graph": with_note(graph_figure(d, set(), set()), note)},
                     {"value": d.root.data, "pass": "forward"})
    backward = backward_order(d)
    per_frame = max(1, math.ceil(len(backward) / MAX_BACKWARD_FRAMES))
    revealed: set[int] = set()
    chunks = [backward[i:i + per_frame] for i in range(0, len(backward), per_frame)]
    for step, chunk in enumerate(chunks, start=1):
        if ctx.should_stop():
            break
        current = {id(n) for n in chunk}
        revealed |= current
        yield make_frame(step, step / (len(chunks) + 1),
                         {"graph": graph_figure(d, revealed, current)},
                         {"pass": "backward", "node": chunk[-1].label})
    yield make_frame(len(chunks) + 1, 1.0,
                     {"graph": with_note(graph_figure(d, revealed, set()), note)}, metrics_of(d))
    return {
        "expression": params.expression,
        "value": d.root.data,
        "gradients": dict(d.gradients),
        "engine": {"value": d.root.data, "gradients": dict(d.gradients)},
        "torch": {"value": d.torch_value[id(d.root)], "gradients": dict(d.torch_gradients)},
        "max_abs_diff": d.max_abs_diff,
        "note": note,
        **graph_record(d),
    }


CHARTS = [
    plain_chart("graph", "The computation graph (leaves left, output right)",
                margin={"l": 10, "r": 10, "t": 10, "b": 10},
                summary="Nodes of the expression with their operation, value and gradient; "
                "edges follow the data from the inputs to the output."),
]

demo = Demo(
    slug="autograd-graph",
    title="The graph behind a gradient",
    description="Type an expression in x, y and z. The server builds its computation graph "
    "in torch and in the lesson's scalar engine, then runs the backward pass node by node "
    "(orange: the node being finished; blue: done; grey: a constant torch does not "
    "track). Infinite or undefined results are shown as inf / nan, as torch computes them.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.35,
    metric_labels={"grad_x": "∂f/∂x", "grad_y": "∂f/∂y", "grad_z": "∂f/∂z",
                   "engines_differ_by": "engines differ by"},
)
