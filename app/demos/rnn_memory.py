"""Demo `rnn-memory`: can a recurrent cell remember the first token of a long sequence?

A sequence opens with one of four symbols, then T distractor tokens follow; the model
must name the opening symbol at the end. The loss and accuracy stream as it trains, and
a heatmap shows how much gradient reaches each time step t (x) at each training step (y):
a vanilla RNN's early steps go dark (its gradient vanishes through time), an LSTM's stay lit.
"""

from __future__ import annotations

import math
from typing import Literal

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
from app.demos.charts import heatmap, heatmap_chart, layout, line, line_chart
from app.ml.rnn_training import SYMBOLS, FirstTokenModel, MemoryConfig, first_to_last, train_memory

EVAL_EVERY = 10  # steps between held-out evaluations and heatmap redraws
HEATMAP_ROWS = 60  # at most this many training steps are kept as heatmap rows
# The colour range of the heatmap, in log10 of ‖∂loss/∂h_t‖ / ‖∂loss/∂h_T‖: fixed, so
# runs compare (a vanilla RNN's ratios reach 1e-15; they are drawn at the floor).
FLOOR, CEILING = -10.0, 2.0


class Params(DemoParams):
    cell: Literal["rnn", "lstm", "gru"] = Field(
        "lstm", description="Recurrent cell: vanilla tanh RNN, LSTM or GRU")
    T: int = Field(50, ge=5, le=100, description="Distractor tokens between the symbol and "
                   "the end: how far back the model must remember",
                   json_schema_extra=control(label="T (distractors)"))
    hidden: int = Field(32, ge=4, le=64, description="Size of the hidden state h",
                        json_schema_extra=control(label="hidden size", step=4))
    # Bounds at 5·10^k: the log slider moves in steps of 0.01 decades from its minimum, so
    # the default 0.005 sits on a step and the page sends exactly 0.005.
    lr: float = Field(0.005, ge=5e-5, le=0.05, description="Adam learning rate",
                      json_schema_extra=control(log_scale=True, label="learning rate"))
    clip: float = Field(1.0, ge=0.0, le=10.0, description="Clip the gradient's global norm "
                        "to this value (0: no clipping)",
                        json_schema_extra=control(step=0.1, label="clip norm"))
    forget_bias: float = Field(3.0, ge=-2.0, le=6.0, description="The LSTM forget gate's bias "
                               "at initialisation: σ(bias) of the memory is kept each step",
                               json_schema_extra=control(step=0.5, show_if={"cell": "lstm"},
                                                         label="forget-gate bias"))
    steps: int = Field(300, ge=10, le=1000, description="Training steps (batches of 128)",
                       json_schema_extra=control(step=10))


def log_ratios(norms: list[float]) -> list[float]:
    """log10 of each ‖∂loss/∂h_t‖ relative to the last step's, clamped to the colour range
    (an underflowed 0 is drawn at the floor)."""
    last = norms[-1]
    return [min(CEILING, max(FLOOR, math.log10(n / last))) if n > 0 and last > 0
            and math.isfinite(n / last) else FLOOR for n in norms]


def time_heatmap(rows: list[tuple[int, list[float]]]) -> dict:
    """One row per kept training step (y), one column per time step t (x)."""
    z = [log_ratios(norms) for _, norms in rows]
    trace = heatmap(z, list(range(len(rows[0][1]))), [step for step, _ in rows],
                    colorscale="Viridis", zmin=FLOOR, zmax=CEILING,
                    colorbar_title="log₁₀ ratio",
                    hover="t = %{x}, training step %{y}<br>log₁₀ ‖∂loss/∂h_t‖ / ‖∂loss/∂h_T‖"
                          " = %{z:.1f}<extra></extra>")
    return figure([trace], layout("time step t (0 = the symbol)", "training step",
                                  x={"tickformat": "d"}, y={"tickformat": "d"}))


def run(params: Params, ctx: RunContext) -> RunGenerator:
    config = MemoryConfig(cell=params.cell, distractors=params.T, hidden=params.hidden,
                          lr=params.lr, clip=params.clip, steps=params.steps,
                          seed=params.seed, eval_every=EVAL_EVERY)
    with seeded(params.seed):
        model = FirstTokenModel(params.cell, params.hidden, params.forget_bias)
    chance = 1 / SYMBOLS
    keep_every = max(1, math.ceil(params.steps / HEATMAP_ROWS))
    rows: list[tuple[int, list[float]]] = []
    first: list[float] = []
    held_out = chance
    # A first frame before training starts (building the optimiser may take a moment in a
    # fresh worker): the chance line, so the page shows what the run will be measured by.
    yield make_frame(0, 0.0, {"accuracy": extend([2], [[0]], [[chance]])}, {"step": 0})
    for record in train_memory(model, config, stop=ctx.should_stop):
        if record.step == 1:
            first = record.grad_norms
        if record.step == 1 or record.step % keep_every == 0:
            rows.append((record.step, record.grad_norms))
        charts = {"loss": extend([0], [[record.step]], [[record.loss]])}
        accuracy_x, accuracy_y = [[record.step]], [[record.accuracy]]
        if record.held_out is not None:
            held_out = record.held_out
            accuracy_x += [[record.step], [record.step]]
            accuracy_y += [[held_out], [chance]]
        charts["accuracy"] = extend(list(range(len(accuracy_x))), accuracy_x, accuracy_y)
        last_frame = record.step == params.steps or ctx.should_stop()
        if record.step == 1 or record.held_out is not None or last_frame:
            charts["grad_time"] = time_heatmap(rows)
        metrics = {"step": record.step, "loss": record.loss, "held_out_accuracy": held_out,
                   "first_to_last": first_to_last(record.grad_norms)}
        if record.step == 1:  # the lesson's number: a chip of its own keeps it after the run
            metrics["first_to_last_at_step_1"] = metrics["first_to_last"]
        yield make_frame(record.step, record.step / params.steps, charts, metrics)
        last = record
    return {
        "accuracy": held_out,
        "chance": chance,
        "loss": last.loss,
        "steps_run": last.step,
        "grad_norm_by_time": first,
        "first_to_last_ratio": first_to_last(first),
        "final_grad_norm_by_time": last.grad_norms,
        "final_first_to_last_ratio": first_to_last(last.grad_norms),
        "diverged": not math.isfinite(last.loss),
    }


CHARTS = [
    line_chart("loss", "Training loss (cross-entropy)", x_title="training step",
               y_title="loss", y={"rangemode": "tozero"}, showlegend=False,
               lines=[line("training loss")], integer_x=True,
               summary="Line chart of the training loss against the training step."),
    line_chart("accuracy", "Accuracy: naming the first token", x_title="training step",
               y={"range": [0, 1.02]}, integer_x=True,
               lines=[line("training batch", opacity=0.5),
                      line("held-out", markers=True, marker={"size": 4}),
                      line(f"chance (1/{SYMBOLS})", line={"dash": "dash", "width": 1})],
               summary="Line chart of the training-batch and held-out accuracy, with chance "
               "level."),
    heatmap_chart("grad_time", "Gradient reaching each time step: ‖∂loss/∂h_t‖ relative to "
                  "t = T (log₁₀; dark = vanished)",
                  x_title="time step t (0 = the symbol)", y_title="training step",
                  x={"tickformat": "d"}, y={"tickformat": "d"},
                  summary="Heatmap: columns are time steps, rows are training steps, colour "
                  "is log10 of the gradient norm at that step relative to the last step."),
]

demo = Demo(
    slug="rnn-memory",
    title="Remember the first token",
    description="A recurrent cell reads a symbol followed by T distractors and must name "
    "the symbol at the end. Watch the loss, the accuracy and, in the heatmap, how much "
    "gradient reaches each earlier time step.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
    metric_labels={"first_to_last": "‖∂L/∂h₀‖ / ‖∂L/∂h_T‖ (this step)",
                   "first_to_last_at_step_1": "‖∂L/∂h₀‖ / ‖∂L/∂h_T‖ at step 1",
                   "held_out_accuracy": "held-out accuracy"},
)
