"""Demo `rnn-exploding`: a vanilla RNN at a chosen spectral radius, trained with and
without gradient clipping.

The recurrent matrix is ρ × a random orthogonal matrix. The first chart shows the gradient
norm ‖∂loss/∂h_t‖ against the number of steps back from the end, on a log axis, beside the
line ρ^k that a linear recurrence would follow; the second trains two copies of the same
network with plain SGD on the same batches, one with its gradient clipped by global norm.
"""

from __future__ import annotations

import math

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
from app.demos.charts import layout, line, line_chart
from app.ml.rnn_training import (
    SYMBOLS,
    exploding_model,
    first_to_last,
    growth_per_step,
    train_with_and_without_clipping,
)

HIDDEN = 32
CHANCE_LOSS = math.log(SYMBOLS)  # cross-entropy of a uniform guess over the symbols
SPIKE = 2 * CHANCE_LOSS  # a loss above this (twice a uniform guess's) counts as diverged


class Params(DemoParams):
    spectral_radius: float = Field(1.5, ge=0.5, le=1.5, description="ρ: the largest "
                                   "|eigenvalue| of the recurrent matrix W_hh",
                                   json_schema_extra=control(step=0.05,
                                                             label="spectral radius ρ"))
    T: int = Field(50, ge=5, le=100, description="Distractor tokens: the gradient travels "
                   "back through T steps", json_schema_extra=control(label="T (distractors)"))
    # A minimum of 0.005: the log slider's steps of 0.01 decades from it land on 0.5.
    lr: float = Field(0.5, ge=0.005, le=2.0, description="Learning rate (plain SGD)",
                      json_schema_extra=control(log_scale=True, label="learning rate"))
    clip: float = Field(0.25, ge=0.01, le=10.0, description="The clipped run's largest "
                        "gradient norm", json_schema_extra=control(step=0.01,
                                                                   label="clip norm"))
    steps: int = Field(100, ge=10, le=400, description="Training steps (batches of 64)",
                       json_schema_extra=control(step=10))


def finite(value: float) -> float | None:
    """A loss to draw: a non-finite one is a gap (None), not a point off the chart."""
    return value if math.isfinite(value) else None


def time_figure(norms: list[float], radius: float) -> dict:
    """Measured ‖∂loss/∂h_t‖ by steps back k = T − t, and ‖∂loss/∂h_T‖·ρ^k."""
    back = list(reversed(norms))
    ks = list(range(len(back)))
    shown = [n if n > 0 and math.isfinite(n) else None for n in back]
    reference = [back[0] * radius ** k for k in ks]
    return figure([line("measured ‖∂loss/∂h_t‖", ks, shown, markers=True,
                        marker={"size": 4}),
                   line(f"‖∂loss/∂h_T‖·ρ^k (ρ = {radius:g})", ks, reference,
                        line={"dash": "dash", "width": 2})],
                  layout("steps back from the end, k = T − t", "gradient norm",
                         y={"type": "log", "exponentformat": "power"},
                         x={"tickformat": "d"}, legend_below=True))


def diverged(losses: list[float]) -> bool:
    """Whether a run's loss ever stopped being finite or spiked above :data:`SPIKE`, twice
    the loss of a uniform guess: a step that made the model far worse than knowing nothing."""
    return any(not math.isfinite(v) or v > SPIKE for v in losses)


def run(params: Params, ctx: RunContext) -> RunGenerator:
    radius = params.spectral_radius
    with seeded(params.seed):
        model = exploding_model(radius, HIDDEN, _generator(params.seed))
    yield make_frame(0, 0.0, {}, {"step": 0})
    losses: list[float] = []
    clipped_losses: list[float] = []
    norms: list[float] = []
    for record in train_with_and_without_clipping(model, params.T, params.lr, params.clip,
                                                  params.steps, params.seed, ctx.should_stop):
        losses.append(record.loss)
        clipped_losses.append(record.loss_clipped)
        charts = {
            "loss": extend([0, 1, 2], [[record.step]] * 3,
                           [[finite(record.loss)], [finite(record.loss_clipped)],
                            [CHANCE_LOSS]]),
            "grad_norm": extend([0, 1], [[record.step]] * 2,
                                [[finite(record.grad_norm)],
                                 [finite(record.grad_norm_clipped)]]),
        }
        metrics = {"step": record.step, "loss": record.loss,
                   "loss_clipped": record.loss_clipped}
        if record.step == 1:
            norms = record.grad_norms
            charts["by_time"] = time_figure(norms, radius)
            metrics["growth_per_step"] = growth_per_step(norms)
            metrics["log_radius"] = math.log(radius)
        yield make_frame(record.step, record.step / params.steps, charts, metrics)
    return {
        "grad_norm_by_time": norms,
        "growth_per_step": growth_per_step(norms),
        "log_radius": math.log(radius),
        "first_to_last_ratio": first_to_last(norms),
        "diverged": diverged(losses),
        "diverged_clipped": diverged(clipped_losses),
        "loss": losses[-1],
        "loss_clipped": clipped_losses[-1],
        "max_loss": max(losses, key=lambda v: v if math.isfinite(v) else math.inf),
        "max_loss_clipped": max(clipped_losses,
                                key=lambda v: v if math.isfinite(v) else math.inf),
        "chance_loss": CHANCE_LOSS,
        "steps_run": len(losses),
    }


def _generator(seed: int) -> torch.Generator:

    return torch.Generator().manual_seed(seed)


CHARTS = [
    line_chart("by_time", "Gradient norm by steps back in time, at the first training step",
               x_title="steps back from the end, k = T − t", y_title="gradient norm",
               log_y=True, y={"exponentformat": "power"}, integer_x=True,
               lines=[line("measured ‖∂loss/∂h_t‖", markers=True),
                      line("‖∂loss/∂h_T‖·ρ^k", line={"dash": "dash", "width": 2})],
               summary="Line chart, log scale: the gradient norm at each step back from the "
               "end, and the straight line rho to the power k."),
    line_chart("loss", "Training loss, without and with clipping", x_title="training step",
               y_title="cross-entropy", integer_x=True,
               lines=[line("no clipping"), line("clipped"),
                      line(f"chance (log {SYMBOLS})", line={"dash": "dash", "width": 1})],
               summary="Line chart of the training loss of the unclipped and the clipped "
               "run, with the loss of a uniform guess."),
    line_chart("grad_norm", "Gradient norm before clipping", x_title="training step",
               y_title="‖∂loss/∂θ‖", log_y=True, y={"exponentformat": "power"},
               integer_x=True, lines=[line("no clipping"), line("clipped")],
               summary="Line chart, log scale, of each run's global gradient norm."),
]

demo = Demo(
    slug="rnn-exploding",
    title="Exploding gradients and clipping",
    description="A vanilla RNN whose recurrent matrix has spectral radius ρ. See the "
    "gradient grow or shrink by about ρ per step back in time, then train it with plain "
    "SGD with and without clipping the gradient's norm.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
    metric_labels={"loss_clipped": "loss (clipped)", "growth_per_step": "log growth per step",
                   "log_radius": "log ρ"},
)
