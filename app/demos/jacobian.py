"""Demo `jacobian`: a Jacobian built one backward pass (one row) at a time, and a VJP.

Each frame adds one row ``e_iᵀ J`` of the Jacobian — exactly one backward pass with a
one-hot vector — to the heatmap. The last frame shows the vector–Jacobian product
``vᵀJ`` for the vector the student picked, computed by a single backward pass, next
to the same product read off the full Jacobian. Every number is checked against
``torch.autograd.functional.jacobian``.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch.autograd.functional import jacobian as torch_jacobian

from app.demos.base import Demo, DemoParams, RunContext, RunGenerator, control, figure, make_frame
from app.demos.charts import bar_chart, bars, category_axis, heatmap, heatmap_chart
from app.ml.jacobian import example, jacobian_rows, vector_jacobian_product

VJP = "vᵀJ by one backward pass"
FROM_MATRIX = "vᵀJ from torch's full Jacobian"
LEGEND_ABOVE = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}  # the bars keep room


class Params(DemoParams):
    function: Literal["linear", "softmax", "tanh"] = Field(
        "linear", description="y = W x (random W), y = softmax(x), or y = tanh(x) elementwise")
    n_inputs: int = Field(4, ge=2, le=8, description="Size of the input x")
    n_outputs: int = Field(3, ge=2, le=8, description="Size of the output y (for y = W x)",
                           json_schema_extra=control(show_if={"function": "linear"}))
    vector: Literal["one-hot", "ones", "random"] = Field(
        "one-hot", description="The vector v in the product vᵀJ")
    index: int = Field(1, ge=1, le=8, description="Which output the one-hot v picks "
                       "(clamped to the number of outputs)",
                       json_schema_extra=control(show_if={"vector": "one-hot"}))


def jacobian_map(rows: torch.Tensor, m: int, n: int) -> dict:
    """The m × n map with the rows computed so far (the rest blank), each cell labelled."""
    # Plotly draws the first row at the bottom: list rows last-first so y1 is on top.
    z = [[float(rows[i, j]) if i < rows.shape[0] else None for j in range(n)]
         for i in reversed(range(m))]
    return heatmap(z, [f"x{j + 1}" for j in range(n)], [f"y{i + 1}" for i in reversed(range(m))],
                   colorscale="RdBu", reverse=True, zmid=0,
                   text=[[("" if v is None else f"{v:.3g}") for v in row] for row in z],
                   texttemplate="%{text}", hover="∂%{y}/∂%{x} = %{z}<extra></extra>")


def chosen_vector(params: Params, m: int) -> torch.Tensor:
    """The student's v [m]: a one-hot (index clamped to m), all ones, or seeded noise."""
    if params.vector == "one-hot":
        v = torch.zeros(m, dtype=torch.float64)
        v[min(params.index, m) - 1] = 1.0
        return v
    if params.vector == "ones":
        return torch.ones(m, dtype=torch.float64)
    g = torch.Generator().manual_seed(params.seed + 1)
    return torch.randn(m, generator=g, dtype=torch.float64)


def run(params: Params, ctx: RunContext) -> RunGenerator:
    f, x, formula = example(params.function, params.n_inputs, params.n_outputs,
                            torch.Generator().manual_seed(params.seed))
    m, n = formula.shape
    inputs, outputs = [f"x{j + 1}" for j in range(n)], [f"y{i + 1}" for i in range(m)]
    axes = {"xaxis": category_axis(inputs), "yaxis": category_axis(outputs)}
    rows: list[torch.Tensor] = []
    for i, row in enumerate(jacobian_rows(f, x)):  # one backward pass per row, v = e_i
        if ctx.should_stop():
            break
        rows.append(row)
        yield make_frame(i + 1, (i + 1) / (m + 1),
                         {"jacobian": figure([jacobian_map(torch.stack(rows), m, n)], axes)},
                         {"backward_passes": i + 1})
    built = torch.stack(rows) if len(rows) == m else formula
    reference = torch_jacobian(f, x)
    v = chosen_vector(params, m)
    vjp = vector_jacobian_product(f, x, v)
    from_matrix = v @ reference
    error = max(float((built - reference).abs().max()), float((formula - reference).abs().max()),
                float((vjp - from_matrix).abs().max()))
    yield make_frame(m + 1, 1.0, {
        "jacobian": figure([jacobian_map(built, m, n)], axes),
        "vjp": figure([bars(VJP, inputs, vjp.tolist()),
                       bars(FROM_MATRIX, inputs, from_matrix.tolist())],
                      {"xaxis": category_axis(inputs), "legend": LEGEND_ABOVE}),
    }, {"v": "[" + ", ".join(f"{a:.2g}" for a in v.tolist()) + "]",
        "max_difference_vs_torch": error})
    return {"jacobian": built.tolist(), "torch_jacobian": reference.tolist(),
            "x": x.tolist(), "v": v.tolist(), "vjp": vjp.tolist(),
            "max_abs_diff": error, "backward_passes": m}


CHARTS = [
    heatmap_chart("jacobian", "The Jacobian J[i, j] = ∂y_i/∂x_j, one row per backward pass",
                  summary="Heatmap of the Jacobian, filled one row per backward pass."),
    bar_chart("vjp", "A vector–Jacobian product vᵀJ", x_title="input x_j", y_title="(vᵀJ)_j",
              series=[bars(VJP), bars(FROM_MATRIX)],
              summary="Bar chart of the vector-Jacobian product computed two ways."),
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
    metric_labels={"max_difference_vs_torch": "max difference vs torch"},
)
