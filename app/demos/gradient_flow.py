"""Demo `gradient-flow`: a deep MLP trains live while every layer's gradient norm is shown.

Bars (log scale, input layer on the left) show ‖∂loss/∂W‖ for each layer at the
current step, grey dashes the same norms at step 1; a falling staircase is a
vanishing gradient, a rising one an exploding gradient. The loss curve shows what that
does to learning.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    extend,
    figure,
    make_frame,
    seeded,
)
from app.demos.charts import INTEGER_AXIS, bar_chart, bars, layout, line, line_chart, markers
from app.ml.datasets import make_labelled_dataset
from app.ml.gradient_flow import DeepMLP, first_to_last_ratio, initialise, train_steps

N_POINTS = 200


class Params(DemoParams):
    depth: int = Field(10, ge=2, le=50, description="Number of linear layers")
    width: int = Field(32, ge=4, le=64, description="Units in each hidden layer")
    activation: Literal["sigmoid", "tanh", "relu", "gelu"] = Field(
        "sigmoid", description="Nonlinearity after every hidden layer")
    init: Literal["normal", "xavier", "kaiming"] = Field(
        "xavier", description="How the initial weights are drawn")
    std: float = Field(0.1, ge=0.001, le=10, description="Standard deviation of the normal init",
                       json_schema_extra=control(log_scale=True, show_if={"init": "normal"},
                                                 label="init std σ"))
    residual: bool = Field(False, description="Residual connections: h + f(h) in hidden layers")
    layer_norm: bool = Field(False, description="LayerNorm on each hidden layer's input")
    lr: float = Field(0.1, ge=1e-4, le=1.0, description="Learning rate (plain SGD)",
                      json_schema_extra=control(log_scale=True, label="learning rate"))
    steps: int = Field(60, ge=1, le=200, description="Training steps (full batch)")
    clip: float = Field(0.0, ge=0.0, le=10.0, description="Clip the gradient norm to this "
                        "value (0: no clipping)",
                        json_schema_extra=control(step=0.1, label="clip norm"))


def finite_or_none(values: list[float]) -> list[float | None]:
    """Bars on a log axis: zero (underflow) and inf/NaN cannot be drawn, so leave a gap."""
    return [v if math.isfinite(v) and v > 0 else None for v in values]



# The decades the bars are drawn on, the same in every run: the lesson compares runs
# (sigmoid's staircase falls eleven decades, tanh's rises two, relu's stays within one),
# and bars that rescaled each run would look alike. A run whose norms fall outside widens it
# (and keeps it wide to its end).
DECADES = (-14, 3)


def log_range(norms: list[float], decades: tuple[int, int] = DECADES) -> tuple[int, int]:
    """``decades`` (powers of ten, low and high), widened to hold the drawable norms."""
    shown = [v for v in finite_or_none(norms) if v]
    return (min([decades[0], *(math.floor(math.log10(v)) for v in shown)]),
            max([decades[1], *(math.ceil(math.log10(v)) for v in shown)]))


def norm_bars(norms: list[float], step: int, first: list[float],
              decades: tuple[int, int] = DECADES) -> dict:
    """This step's norms as bars, and step 1's as grey dashes: training changes the
    staircase, and the dashes keep the gradient flow at initialisation in view. The y axis
    spans ``decades`` (:func:`log_range`; Plotly log ranges are in log10 units)."""
    layers = list(range(1, len(norms) + 1))
    colours = ["#4e79a7"] * len(norms)
    colours[0], colours[-1] = "#e15759", "#59a14f"  # input and output layers stand out
    span = decades[1] - decades[0]
    y_axis = {"range": [decades[0] - 0.2, decades[1] + 0.2],
              "dtick": 1 if span <= 10 else 2 if span <= 20 else 5}
    return figure([
        bars(f"step {step}", layers, finite_or_none(norms),
             marker={"color": colours}, hoverinfo="text",
             hovertext=[f"layer {i + 1}: ‖∂loss/∂W‖ = {v}" for i, v in enumerate(norms)]),
        markers("step 1", layers, finite_or_none(first), hoverinfo="text",
                marker={"symbol": "line-ew", "size": 18, "line": {"width": 3, "color": "#8b8f98"}},
                hovertext=[f"layer {i + 1} at step 1: {v}" for i, v in enumerate(first)])],
        layout(f"layer, input → output (step {step})", x=INTEGER_AXIS, y=y_axis))


def run(params: Params, ctx: RunContext) -> RunGenerator:
    generator = torch.Generator().manual_seed(params.seed)
    inputs, labels = make_labelled_dataset("moons", N_POINTS, generator)
    with seeded(params.seed):  # nn.Linear draws default weights from the global RNG
        model = DeepMLP(params.depth, params.width, params.activation, params.residual,
                        params.layer_norm)
    initialise(model, params.init, params.std, generator)
    first: list[float] = []
    first_loss = math.nan
    last = None
    decades = DECADES
    for record in train_steps(model, inputs, labels, params.lr, params.steps, params.clip):
        if record.step == 1:
            first, first_loss = record.grad_norms, record.loss
        last = record
        decades = log_range(record.grad_norms + first, decades)
        charts = {"grad_norms": norm_bars(record.grad_norms, record.step, first, decades)}
        if math.isfinite(record.loss):
            charts["loss"] = extend([0], [[record.step]], [[record.loss]])
        yield make_frame(record.step, record.step / params.steps, charts, {
            "loss": record.loss, "accuracy": record.accuracy,
            "first_to_last_hidden_grad": first_to_last_ratio(record.grad_norms),
            "first_to_last_at_step_1": first_to_last_ratio(first)})
        if not math.isfinite(record.loss) or ctx.should_stop():
            break
    assert last is not None
    diverged = not math.isfinite(last.loss)
    if last.step < params.steps:  # stopped early: still end at 100%
        yield make_frame(last.step + 1, 1.0, {}, {"stopped_at_step": last.step,
                                                  "diverged": diverged})
    return {
        "grad_norms": first,
        "final_grad_norms": last.grad_norms,
        "first_to_last_ratio": first_to_last_ratio(first),
        "loss_first": first_loss,
        "loss_final": last.loss,
        "accuracy": last.accuracy,
        "steps_run": last.step,
        "diverged": diverged,
    }


CHARTS = [
    bar_chart("grad_norms", "Gradient norm of each layer's weights",
              x_title="layer, input → output", y_title="‖∂loss/∂W‖", grouped=False,
              series=[bars("this step"), markers("step 1")],
              x={"tickmode": "auto", "nticks": 12}, integer_x=True,
              y={"type": "log", "exponentformat": "power", "dtick": 2,
                 "range": [DECADES[0] - 0.2, DECADES[1] + 0.2]},
              showlegend=False, margin={"l": 80},
              summary="Bar chart, one bar per layer from input to output, of the gradient "
              "norm on a log scale."),
    line_chart("loss", "Training loss", x_title="step", y_title="cross-entropy", integer_x=True,
               lines=[line("loss")], showlegend=False,
               summary="Line chart of the training loss against the step."),
]

demo = Demo(
    slug="gradient-flow",
    title="Gradient flow through a deep network",
    description="A deep MLP learns the two-moons data with plain SGD. Bars show each "
    "layer's weight-gradient norm at the current step, input layer first (red), output "
    "layer last (green), on a log scale; grey dashes mark the norms at step 1. Empty "
    "bars are exactly zero: the gradient "
    "underflowed. Non-finite numbers appear as inf / nan.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
    metric_labels={"first_to_last_hidden_grad": "first/last hidden grad",
                   "first_to_last_at_step_1": "first/last at step 1"},
)
