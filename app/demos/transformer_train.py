"""Demo `transformer-train`: watch a tiny transformer learn to reverse (copy, sort) sequences.

Streams the loss and token accuracy, and every few steps the attention maps of one
fixed probe sequence, so the anti-diagonal of "reverse" can be seen forming. Training
stops early once held-out accuracy has stayed above the goal for a few evaluations.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator

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
from app.demos.charts import category_axis, heatmap_chart, layout, line, line_chart
from app.demos.figures import ATTENTION_STYLE, heatmap_grid, matrix
from app.ml.tiny_transformer import GOAL, TinyTransformer, TrainConfig, make_batch, train_to_goal

MAPS_EVERY = 20  # steps between redraws of the probe's attention maps (evaluations: every 10)


class Params(DemoParams):
    task: Literal["reverse", "copy", "sort"] = Field("reverse", description="What the output "
                                                     "sequence must be")
    length: int = Field(8, ge=4, le=12, description="Tokens per sequence")
    vocab: int = Field(10, ge=4, le=16, description="Number of distinct tokens")
    layers: int = Field(1, ge=1, le=4, description="Encoder blocks")
    heads: int = Field(2, ge=1, le=4, description="Attention heads per block (a divisor of "
                       "d_model)", json_schema_extra=control(divides="d_model"))
    d_model: int = Field(32, ge=16, le=64, description="Width of token vectors",
                         json_schema_extra=control(step=16))
    lr: float = Field(0.002, ge=1e-4, le=0.03, description="Adam learning rate",
                      json_schema_extra=control(log_scale=True, label="learning rate"))
    batch: int = Field(64, ge=16, le=128, description="Sequences per training step",
                       json_schema_extra=control(step=16))
    steps: int = Field(800, ge=10, le=1000, description="Most training steps")
    positional: Literal["sinusoidal", "learned", "none"] = Field(
        "sinusoidal", description="Position information added to the tokens")
    early_stop: bool = Field(True, description=f"Stop once held-out accuracy stays ≥ {GOAL:.0%}")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Params:
        if self.d_model % self.heads:  # each head gets d_model / heads dimensions
            nearest = min((m for m in (16, 32, 48, 64) if m % self.heads == 0),
                          key=lambda m: abs(m - self.d_model))  # on the slider's steps
            raise ValueError(f"d_model: {self.d_model} is not divisible by heads ({self.heads});"
                             f" with {self.heads} heads choose e.g. {nearest}")
        return self


def probe_labels(tokens: list[int]) -> list[str]:
    """Axis labels "position:token", unique by construction."""
    return [f"{i}:{t}" for i, t in enumerate(tokens)]


def maps_figure(maps: list[torch.Tensor], labels: list[str], heads: int) -> dict:
    """Every layer × head map of the probe, one row of panels per layer."""
    panels = [m[0, h].tolist() for m in maps for h in range(heads)]
    titles = [f"L{i // heads + 1} H{i % heads + 1}" for i in range(len(panels))]
    return figure(*heatmap_grid(panels, labels, titles, columns=heads,
                                **ATTENTION_STYLE))


def probe_figure(tokens: list[int], targets: list[int], guess: list[int]) -> dict:
    """Input, target and prediction as three rows; a right prediction is green and ticked,
    a wrong one red and crossed (colour alone would not tell every student)."""
    right = [g == t for g, t in zip(guess, targets, strict=True)]
    rows = [[0.5] * len(tokens), [0.5] * len(tokens), [float(r) for r in right]]
    marks = [f"{g} ✓" if r else f"{g} ✗" for g, r in zip(guess, right, strict=True)]
    text = [[str(t) for t in tokens], [str(t) for t in targets], marks]
    names = ["input", "target", "prediction"]
    trace = matrix(rows, list(range(len(tokens))), names, zmin=0, zmax=1,
                   colorscale=[[0, "#e4575b"], [0.5, "#d9dee7"], [1, "#4fb477"]],
                   text=text, texttemplate="%{text}", showscale=False, xgap=2, ygap=2,
                   hover="%{y} at position %{x}: %{text}<extra></extra>")
    return figure([trace], layout(y=category_axis(names, automargin=True)))


def run(params: Params, ctx: RunContext) -> RunGenerator:
    config = TrainConfig(task=params.task, length=params.length, vocab=params.vocab,
                         batch=params.batch, lr=params.lr, steps=params.steps, seed=params.seed)
    with seeded(params.seed):
        model = TinyTransformer(params.vocab, params.length, params.d_model, params.heads,
                                params.layers, params.positional)
    probe, probe_target = make_batch(params.task, 1, params.length, params.vocab,
                                     torch.Generator().manual_seed(params.seed + 7))
    labels = probe_labels(probe[0].tolist())
    chance = 1 / params.vocab
    # The goal and chance lines grow with the run, so a run that stops early at its goal
    # ends where the loss chart ends instead of leaving the accuracy chart mostly empty.
    yield make_frame(0, 0.0, {"accuracy": extend([2, 3], [[0]] * 2, [[GOAL], [chance]])})

    for evaluation in train_to_goal(model, config, early_stop=params.early_stop,
                                    stop=ctx.should_stop):
        step, trained = evaluation.step, evaluation.trained
        steps = [t.step for t in trained]
        # A diverged run (too high a learning rate) has an infinite or NaN loss: it travels
        # as "inf"/"nan" (the contract's policy) and the loss curve shows a gap.
        loss = trained[-1].loss
        charts = {
            "loss": extend([0], [steps], [[t.loss for t in trained]]),
            "accuracy": extend([0, 1, 2, 3], [steps, [step], [step], [step]],
                               [[t.accuracy for t in trained], [evaluation.accuracy],
                                [GOAL], [chance]]),
        }
        if step % MAPS_EVERY == 0 or evaluation.last:
            with torch.no_grad():
                logits, maps = model.forward_with_attention(probe)
            prediction = logits.argmax(-1)[0].tolist()
            charts["maps"] = maps_figure(maps, labels, params.heads)
            charts["probe"] = probe_figure(probe[0].tolist(), probe_target[0].tolist(),
                                           prediction)
        reached = evaluation.reached
        yield make_frame(step, 1.0 if evaluation.last else step / params.steps, charts, {
            "step": step, "loss": loss,
            "held_out_accuracy": evaluation.accuracy,
            "reached_goal_at_step": reached if reached is not None
            else "never" if evaluation.last else "not yet"})

    return {
        "accuracy": evaluation.accuracy,
        "loss": loss,
        "steps_run": step,
        "goal": GOAL,
        "reached_goal_step": reached,
        # Why training ended early is the demo's own news (the goal was held); a Stop or
        # the time budget is the runner's, reported once for every demo as `stopped`.
        "ended_at_goal": evaluation.done,
        "chance": chance,
        "probe": probe[0].tolist(),
        "probe_target": probe_target[0].tolist(),
        "probe_prediction": prediction,
        "attention": [m[0].tolist() for m in maps],
    }


CHARTS = [
    line_chart("loss", "Training loss (cross-entropy per token)", x_title="step", y_title="loss",
               y={"rangemode": "tozero"}, showlegend=False, lines=[line("training loss")],
               integer_x=True,
               summary="Line chart of the training loss against the step."),
    line_chart("accuracy", "Token accuracy", x_title="step", y={"range": [0, 1.02]}, integer_x=True,
               lines=[line("training batch", opacity=0.5),
                      line("held-out", markers=True, marker={"size": 4}),
                      line(f"goal {GOAL:.0%}", line={"dash": "dot", "width": 1}),
                      line("chance (1/vocab)", line={"dash": "dash", "width": 1})],
               summary="Line chart of the training-batch and held-out token accuracy, with the "
               "95% goal."),
    heatmap_chart("maps", "Probe attention maps (L = layer, H = head; row = query, "
                  "labels position:token)",
                  summary="Heatmaps, one per layer and head, of how each position of the probe "
                  "attends."),
    heatmap_chart("probe", "The probe: input, target, prediction", x_title="position",
                  x={"dtick": 1},
                  summary="Three rows of tokens; prediction cells are green and ticked when "
                  "right, red and crossed when wrong."),
]

demo = Demo(
    slug="transformer-train",
    title="Train a tiny transformer",
    description="A one- or two-block encoder learns a toy task live. Watch the accuracy "
    "climb and the attention of a probe sequence organise itself.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
)
