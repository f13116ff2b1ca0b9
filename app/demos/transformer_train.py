"""Demo `transformer-train`: watch a tiny transformer learn to reverse (copy, sort) sequences.

Streams the loss and token accuracy, and every few steps the attention maps of one
fixed probe sequence, so the anti-diagonal of "reverse" can be seen forming. Training
stops early once held-out accuracy has stayed above the goal for a few evaluations.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import torch
from pydantic import Field, model_validator

from app.demos.attention import heatmap, heatmap_grid
from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    category_axis,
    extend,
    figure,
    make_frame,
    rounded,
    seeded,
)
from app.ml.tiny_transformer import (
    TinyTransformer,
    TrainConfig,
    held_out_set,
    make_batch,
    training_steps,
)

GOAL = 0.95
EVAL_EVERY = 10  # steps between held-out evaluations (and curve points)
MAPS_EVERY = 20  # steps between redraws of the probe's attention maps
SUSTAIN = 3  # consecutive evaluations at or above the goal before stopping early
TIME_LIMIT = 40.0  # seconds of training, whatever the settings: a shared server stays responsive


class Params(DemoParams):
    task: Literal["reverse", "copy", "sort"] = Field("reverse", description="What the output "
                                                     "sequence must be")
    length: int = Field(8, ge=4, le=12, description="Tokens per sequence")
    vocab: int = Field(10, ge=4, le=16, description="Number of distinct tokens")
    layers: int = Field(1, ge=1, le=4, description="Encoder blocks")
    heads: int = Field(2, ge=1, le=4, description="Attention heads per block")
    d_model: int = Field(32, ge=16, le=64, description="Width of token vectors",
                         json_schema_extra={"x-step": 16})
    lr: float = Field(0.002, ge=1e-4, le=0.03, description="Adam learning rate",
                      json_schema_extra={"x-scale": "log"})
    batch: int = Field(64, ge=16, le=128, description="Sequences per training step",
                       json_schema_extra={"x-step": 16})
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
    traces, layout = heatmap_grid(rounded(panels, 3), labels, titles, columns=heads)
    return figure(traces, layout)


def probe_figure(tokens: list[int], targets: list[int], guess: list[int]) -> dict:
    """Input, target and prediction as three rows; green cells are right, red wrong."""
    right = [1.0 if g == t else 0.0 for g, t in zip(guess, targets, strict=True)]
    rows = [[0.5] * len(tokens), [0.5] * len(tokens), right]
    text = [[str(t) for t in tokens], [str(t) for t in targets], [str(g) for g in guess]]
    names = ["input", "target", "prediction"]
    trace = heatmap(rows, list(range(len(tokens))), names,
                    [[0, "#e4575b"], [0.5, "#d9dee7"], [1, "#4fb477"]], 0, 1,
                    text=text, texttemplate="%{text}", showscale=False, xgap=2, ygap=2,
                    hovertemplate="%{y} at position %{x}: %{text}<extra></extra>")
    return figure([trace], {"yaxis": category_axis(names, automargin=True),
                            "xaxis": {"title": {"text": "position"}, "dtick": 1}})


def run(params: Params, ctx: RunContext) -> RunGenerator:
    config = TrainConfig(task=params.task, length=params.length, vocab=params.vocab,
                         batch=params.batch, lr=params.lr, steps=params.steps, seed=params.seed)
    with seeded(params.seed):
        model = TinyTransformer(params.vocab, params.length, params.d_model, params.heads,
                                params.layers, params.positional)
    eval_inputs, eval_targets = held_out_set(config)
    probe, probe_target = make_batch(params.task, 1, params.length, params.vocab,
                                     torch.Generator().manual_seed(params.seed + 7))
    labels = probe_labels(probe[0].tolist())
    chance = 1 / params.vocab
    yield make_frame(0, 0.0, {
        "loss": figure([{"type": "scatter", "mode": "lines", "name": "training loss",
                         "x": [], "y": []}]),
        "accuracy": figure([
            {"type": "scatter", "mode": "lines", "name": "training batch", "x": [], "y": [],
             "opacity": 0.5},
            {"type": "scatter", "mode": "lines+markers", "name": "held-out", "x": [], "y": [],
             "marker": {"size": 4}},
            {"type": "scatter", "mode": "lines", "name": f"goal {GOAL:.0%}",
             "x": [0, params.steps], "y": [GOAL, GOAL], "line": {"dash": "dot", "width": 1}},
            {"type": "scatter", "mode": "lines", "name": "chance (1/vocab)",
             "x": [0, params.steps], "y": [chance, chance],
             "line": {"dash": "dash", "width": 1}}]),
    })

    start = time.perf_counter()
    accuracy, streak, reached, step, loss = 0.0, 0, None, 0, None
    out_of_time = False
    pending: tuple[list, list, list] = ([], [], [])  # steps, losses, batch accuracies
    for result in training_steps(model, config):
        step = result.step
        # A diverged run (too high a learning rate) has an infinite or NaN loss: it travels
        # as "inf"/"nan" (the contract's policy) and the loss curve shows a gap.
        loss = result.loss
        pending[0].append(step)
        pending[1].append(round(loss, 4))
        pending[2].append(round(result.accuracy, 4))
        out_of_time = time.perf_counter() - start > TIME_LIMIT
        stopping = ctx.should_stop() or out_of_time
        if step % EVAL_EVERY and step != params.steps and not stopping:
            continue
        with torch.no_grad():
            logits, maps = model.forward_with_attention(probe)
            maps = [torch.nan_to_num(m, nan=0.0) for m in maps]  # NaN only if diverged
            accuracy = float((model(eval_inputs).argmax(-1) == eval_targets).float().mean())
        streak = streak + 1 if accuracy >= GOAL else 0
        if streak == 1:
            reached = step
        elif streak == 0:
            reached = None
        done = params.early_stop and streak >= SUSTAIN
        charts = {
            "loss": extend([0], [pending[0]], [pending[1]]),
            "accuracy": extend([0, 1], [pending[0], [step]], [pending[2], [round(accuracy, 4)]]),
        }
        pending = ([], [], [])
        if step % MAPS_EVERY == 0 or done or stopping or step == params.steps:
            charts["maps"] = maps_figure(maps, labels, params.heads)
            charts["probe"] = probe_figure(probe[0].tolist(), probe_target[0].tolist(),
                                           logits.argmax(-1)[0].tolist())
        progress = 1.0 if done else step / params.steps
        yield make_frame(step, progress, charts, {
            "step": step, "loss": round(loss, 4) if math.isfinite(loss) else "diverged",
            "held-out accuracy": round(accuracy, 4),
            "reached 95% at step": reached if reached is not None else "not yet",
            "seconds": round(time.perf_counter() - start, 2)})
        if done or stopping:
            break

    yield make_frame(step, 1.0, {"maps": maps_figure(maps, labels, params.heads)})
    return {
        "accuracy": accuracy,
        "loss": loss,
        "steps_run": step,
        "goal": GOAL,
        "reached_goal_step": reached,
        "seconds": round(time.perf_counter() - start, 3),
        "stopped_by": "goal" if streak >= SUSTAIN and params.early_stop
        else "time limit" if out_of_time else "steps" if step == params.steps else "stop",
        "chance": chance,
        "probe": probe[0].tolist(),
        "probe_target": probe_target[0].tolist(),
        "probe_prediction": logits.argmax(-1)[0].tolist(),
        "attention": [rounded(m[0].tolist(), 5) for m in maps],
    }


CHARTS = [
    Chart("loss", "Training loss (cross-entropy per token)",
          {"xaxis": {"title": {"text": "step"}}, "yaxis": {"title": {"text": "loss"},
                                                           "rangemode": "tozero"},
           "showlegend": False},
          "Line chart of the training loss against the step."),
    Chart("accuracy", "Token accuracy",
          {"xaxis": {"title": {"text": "step"}}, "yaxis": {"range": [0, 1.02]},
           "legend": {"orientation": "h", "y": -0.25}},
          "Line chart of the training-batch and held-out token accuracy, with the 95% goal."),
    Chart("maps", "Probe attention maps (L = layer, H = head; row = query, "
          "labels position:token)", {},
          "Heatmaps, one per layer and head, of how each position of the probe attends."),
    Chart("probe", "The probe: input, target, prediction", {},
          "Three rows of tokens; prediction cells are green when right and red when wrong."),
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
