"""Demo `jacobian`: a Jacobian built one backward pass (one row) at a time, and a VJP.

Each frame adds one row ``e_iᵀ J`` of the Jacobian — exactly one backward pass with a
one-hot vector — to the heatmap. The last frame shows the vector–Jacobian product
``vᵀJ`` for the vector the student picked, computed by a single backward pass, next
to the same product read off the full Jacobian. Every number is checked against
``torch.autograd.functional.jacobian``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch.autograd.functional import jacobian as torch_jacobian

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    category_axis,
    figure,
    make_frame,
    rounded,
)
from app.ml.jacobian import (
    linear_jacobian,
    softmax_jacobian,
    tanh_jacobian,
    vector_jacobian_product,
)

FORMULAS = {"softmax": softmax_jacobian, "tanh": tanh_jacobian}


class Params(DemoParams):
    function: Literal["linear", "softmax", "tanh"] = Field(
        "linear", description="y = W x (random W), y = softmax(x), or y = tanh(x) elementwise")
    n_inputs: int = Field(4, ge=2, le=8, description="Size of the input x")
    n_outputs: int = Field(3, ge=2, le=8, description="Size of the output y (for y = W x)",
                           json_schema_extra={"x-show-if": {"function": "linear"}})
    vector: Literal["one-hot", "ones", "random"] = Field(
        "one-hot", description="The vector v in the product vᵀJ")
    index: int = Field(1, ge=1, le=8, description="Which output the one-hot v picks "
                       "(clamped to the number of outputs)",
                       json_schema_extra={"x-show-if": {"vector": "one-hot"}})


def problem(params: Params) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """The function, the point x and its closed-form Jacobian, all seeded."""
    g = torch.Generator().manual_seed(params.seed)
    x = torch.randn(params.n_inputs, generator=g, dtype=torch.float64)
    if params.function == "linear":
        weight = torch.randn(params.n_outputs, params.n_inputs, generator=g, dtype=torch.float64)
        return (lambda v: weight @ v), x, linear_jacobian(weight)
    f = (lambda v: torch.softmax(v, 0)) if params.function == "softmax" else torch.tanh
    return f, x, FORMULAS[params.function](x)


def heatmap(rows: torch.Tensor, m: int, n: int) -> dict[str, Any]:
    # Plotly draws the first row at the bottom: list rows last-first so y1 is on top.
    z = [[round(float(rows[i, j]), 4) if i < rows.shape[0] else None for j in range(n)]
         for i in reversed(range(m))]
    return {"type": "heatmap", "z": z, "x": [f"x{j + 1}" for j in range(n)],
            "y": [f"y{i + 1}" for i in reversed(range(m))], "colorscale": "RdBu",
            "zmid": 0, "reversescale": True,
            "text": [[("" if v is None else f"{v:.3g}") for v in row] for row in z],
            "texttemplate": "%{text}", "hovertemplate": "∂%{y}/∂%{x} = %{z}<extra></extra>"}


def run(params: Params, ctx: RunContext) -> RunGenerator:
    f, x, formula = problem(params)
    m, n = formula.shape
    inputs, outputs = [f"x{j + 1}" for j in range(n)], [f"y{i + 1}" for i in range(m)]
    layout: dict[str, Any] = {"xaxis": category_axis(inputs), "yaxis": category_axis(outputs)}
    rows: list[torch.Tensor] = []
    for i in range(m):  # one backward pass per row, with v = e_i
        if ctx.should_stop():
            break
        one_hot = torch.zeros(m, dtype=torch.float64)
        one_hot[i] = 1.0
        rows.append(vector_jacobian_product(f, x, one_hot))
        yield make_frame(i + 1, (i + 1) / (m + 1),
                         {"jacobian": figure([heatmap(torch.stack(rows), m, n)], layout)},
                         {"backward passes": i + 1})
    built = torch.stack(rows) if len(rows) == m else formula
    reference = torch_jacobian(f, x)
    g = torch.Generator().manual_seed(params.seed + 1)
    if params.vector == "one-hot":
        v = torch.zeros(m, dtype=torch.float64)
        v[min(params.index, m) - 1] = 1.0
    elif params.vector == "ones":
        v = torch.ones(m, dtype=torch.float64)
    else:
        v = torch.randn(m, generator=g, dtype=torch.float64)
    vjp = vector_jacobian_product(f, x, v)
    from_matrix = v @ reference
    error = max(float((built - reference).abs().max()), float((formula - reference).abs().max()),
                float((vjp - from_matrix).abs().max()))
    labels = inputs
    yield make_frame(m + 1, 1.0, {
        "jacobian": figure([heatmap(built, m, n)], layout),
        "vjp": figure([
            {"type": "bar", "name": "vᵀJ by one backward pass", "x": labels,
             "y": rounded(vjp.tolist(), 6)},
            {"type": "bar", "name": "vᵀJ from torch's full Jacobian", "x": labels,
             "y": rounded(from_matrix.tolist(), 6)}],
            {"barmode": "group", "xaxis": category_axis(labels),
             "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}}),
    }, {"v": "[" + ", ".join(f"{a:.2g}" for a in v.tolist()) + "]",
        "max difference vs torch": error})
    return {"jacobian": built.tolist(), "torch_jacobian": reference.tolist(),
            "x": x.tolist(), "v": v.tolist(), "vjp": vjp.tolist(),
            "max_abs_diff": error, "backward_passes": m}


CHARTS = [
    Chart("jacobian", "The Jacobian J[i, j] = ∂y_i/∂x_j, one row per backward pass", {},
          "Heatmap of the Jacobian, filled one row per backward pass."),
    Chart("vjp", "A vector–Jacobian product vᵀJ", {"barmode": "group"},
          "Bar chart of the vector-Jacobian product computed two ways."),
]

demo = Demo(
    slug="jacobian",
    title="Jacobians and vector–Jacobian products",
    description="Reverse mode computes vᵀJ with one backward pass. Asking for every "
    "one-hot v in turn builds the Jacobian row by row; the result is checked against "
    "torch.autograd.functional.jacobian.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.3,
)
