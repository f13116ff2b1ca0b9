"""Demo `seq2seq`: a tiny encoder–decoder Transformer learns to translate, live.

The model (app/ml/seq2seq.py) learns a toy translation task generated offline
(app/ml/translation_data.py): dates ``2026-11-29`` → ``29 November 2026``, or numbers
``4517`` → ``four thousand five hundred seventeen``. The run streams the training loss,
held-out exact match and BLEU (0–100), teacher-forced against free-running token accuracy
(the gap is exposure bias), and the cross-attention maps of a probe input (rows: output
tokens, columns: input tokens) as the alignment forms. At the end it translates the
student's own input with greedy or beam decoding.

Training takes seconds, so trained models are kept in a small LRU (:data:`TRAINED`) keyed
by the training parameters only (:meth:`Params.training_key`): typing another input, or
switching between greedy and beam decoding, re-uses the model instead of retraining it.
"""

from __future__ import annotations

import html
from typing import Literal

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
from app.demos.charts import (
    Layout,
    Trace,
    colour_bar,
    heatmap,
    heatmap_chart,
    line,
    line_chart,
)
from app.demos.figures import ATTENTION_STYLE
from app.ml.seq2seq_training import (
    Evaluation,
    TrainConfig,
    Trained,
    Translation,
    alignment_mass,
    build_model,
    evaluate,
    translate,
)
from app.ml.translation_data import EOS, MAX_SOURCE, PROBES, check_source, example_of
from app.trained_cache import TrainedCache

LOSS_EVERY = 10  # training steps per streamed loss frame
EVAL_EVERY = 25  # steps between held-out evaluations (and redraws of the maps)
MAP_HEIGHT = 260  # pixels per layer of cross-attention maps
ON_HOVER = "%{customdata}: %{z:.2f}<extra></extra>"
# Under the maps, not beside them: on a phone every pixel of width goes to the panels.
COLOUR_BAR = colour_bar("weight", side="right", orientation="h", yref="container", y=0,
                        yanchor="bottom", thickness=10, len=0.6)


class Params(DemoParams):
    task: Literal["dates", "numbers"] = Field(
        "dates", description="What to translate: dates 2026-11-29 → 29 November 2026, or "
        "numbers 4517 → four thousand five hundred seventeen")
    layers: int = Field(1, ge=1, le=3, description="Encoder blocks, and as many decoder blocks")
    heads: int = Field(2, ge=1, le=4, description="Attention heads per attention layer (a "
                       "divisor of d_model)", json_schema_extra=control(divides="d_model"))
    d_model: int = Field(32, ge=16, le=64, description="Width of token vectors",
                         json_schema_extra=control(step=16))
    lr: float = Field(0.003, ge=1e-4, le=0.03, description="Adam learning rate",
                      json_schema_extra=control(log_scale=True, label="learning rate"))
    steps: int = Field(400, ge=10, le=1500, description="Training steps of 64 pairs each")
    teacher_forcing: float = Field(
        1.0, ge=0.0, le=1.0, description="How often the decoder is fed the true previous "
        "token in training (1 = always; lower = scheduled sampling: its own prediction "
        "otherwise)",
        json_schema_extra=control(step=0.05, label="teacher-forcing ratio"))
    decoding: Literal["greedy", "beam"] = Field(
        "greedy", description="How the trained model writes its output: the likeliest token "
        "at each step, or beam search (the final scores and your input)")
    beam_width: int = Field(3, ge=2, le=8, description="Partial outputs the beam keeps",
                            json_schema_extra=control(show_if={"decoding": "beam"}))
    source: str = Field("", max_length=MAX_SOURCE["dates"],
                        description="Your input to translate once trained (empty: the probe, "
                        "2026-11-29 or 4517); changing it re-uses the trained model")

    @model_validator(mode="after")
    def _check(self) -> Params:
        if self.d_model % self.heads:  # each head gets d_model / heads features
            nearest = min((m for m in (16, 32, 48, 64) if m % self.heads == 0),
                          key=lambda m: abs(m - self.d_model))
            raise ValueError(f"d_model: {self.d_model} is not divisible by heads ({self.heads});"
                             f" with {self.heads} heads choose e.g. {nearest}")
        if self.source:
            try:
                check_source(self.task, self.source)
            except ValueError as error:
                raise ValueError(f"source: {error} (e.g. {PROBES[self.task]})") from None
        return self

    def training_key(self) -> tuple:
        """Every setting the trained model depends on: not the input, not the decoding."""
        return tuple(sorted(self.model_dump(
            exclude={"source", "decoding", "beam_width"}).items()))

    def config(self) -> TrainConfig:
        return TrainConfig(task=self.task, layers=self.layers, heads=self.heads,
                           d_model=self.d_model, lr=self.lr, steps=self.steps,
                           teacher_forcing=self.teacher_forcing, seed=self.seed)


TRAINED: TrainedCache[Trained] = TrainedCache(size=4)  # by Params.training_key()

# ---- figures ------------------------------------------------------------------------------


def attention_figure(task: str, translation: Translation) -> Layout:
    """Every layer × head cross-attention map: rows the output tokens (then </s>), columns
    the input tokens; the aligned span of each correct output token outlined."""
    maps = translation.cross_attention
    layers, heads = len(maps), len(maps[0])
    # Plotly reads tick and hover text as HTML, where a bare </s> would vanish.
    rows = [html.escape(token) for token in translation.output + [EOS]]
    columns = list(range(len(translation.source)))
    reference = aligned_spans(task, translation)
    gap_x, gap_y = 0.06, 0.1
    width = (1 - gap_x * (heads - 1)) / heads
    height = (1 - gap_y * (layers - 1)) / layers
    traces: list[Trace] = []
    grid: Layout = {"showlegend": False, "annotations": [], "shapes": []}
    for panel in range(layers * heads):
        layer, head = divmod(panel, heads)
        suffix = "" if panel == 0 else str(panel + 1)
        x0, y1 = head * (width + gap_x), 1 - layer * (height + gap_y)
        hover = [[f"output “{out}” ← input “{html.escape(src)}” (position {s + 1})"
                  for s, src in enumerate(translation.source)] for out in rows]
        traces.append(heatmap(maps[layer][head], columns, [-t for t in range(len(rows))],
                              **{**ATTENTION_STYLE, "hover": ON_HOVER}, customdata=hover,
                              showscale=panel == 0, colorbar=COLOUR_BAR,
                              xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        grid[f"xaxis{suffix}"] = {"domain": [x0, x0 + width], "anchor": f"y{suffix}",
                                  "tickvals": columns, "ticktext": translation.source,
                                  "side": "top", "tickangle": 0, "tickfont": {"size": 9}}
        grid[f"yaxis{suffix}"] = {"domain": [y1 - height, y1], "anchor": f"x{suffix}",
                                  "tickvals": [-t for t in range(len(rows))],
                                  "ticktext": rows, "showticklabels": head == 0,
                                  "tickfont": {"size": 10}}
        grid["annotations"].append({
            "text": f"L{layer + 1} H{head + 1}", "showarrow": False,
            "xref": "paper", "yref": "paper", "x": x0 + width / 2, "xanchor": "center",
            "y": y1 - height, "yanchor": "top", "font": {"size": 11}})
        for t, (start, end) in enumerate(reference):
            grid["shapes"].append({
                "type": "rect", "xref": f"x{suffix}", "yref": f"y{suffix}",
                "x0": start - 0.5, "x1": end - 0.5, "y0": -t - 0.5, "y1": -t + 0.5,
                "line": {"color": "#e4575b", "width": 1.5, "dash": "dot"}})
    # Fixed margins: automargin on the axes of inner panels pushed the plot into a corner.
    longest = max(len(token) for token in rows)
    grid["margin"] = {"l": 14 + 7 * longest, "r": 10, "t": 30, "b": 60}
    grid["height"] = 70 + MAP_HEIGHT * layers
    return figure(traces, grid)


def aligned_spans(task: str, translation: Translation) -> list[tuple[int, int]]:
    """The aligned source span of each output token that matches the reference so far."""
    example = example_of(task, "".join(translation.source))
    if example is None:
        return []
    spans = []
    for out, ref, span in zip(translation.output, example.target, example.spans, strict=False):
        if out != ref:
            break
        spans.append(span)
    return spans


def evaluation_ops(evaluation: Evaluation) -> dict:
    step = [[evaluation.step]]
    return {
        "scores": extend([0, 1], step * 2, [[100 * evaluation.exact_match], [evaluation.bleu]]),
        "exposure": extend([0, 1], step * 2, [[evaluation.teacher_forced_accuracy],
                                              [evaluation.free_running_accuracy]]),
    }


def curve_figures(trained: Trained) -> dict:
    """The whole loss, score and accuracy charts of a finished training."""
    evaluations = trained.evaluations
    steps = [e.step for e in evaluations]
    return {
        "loss": figure([line("training loss", [s for s, _ in trained.losses],
                             [v for _, v in trained.losses])]),
        "scores": figure([score_line(0, steps, [100 * e.exact_match for e in evaluations]),
                          score_line(1, steps, [e.bleu for e in evaluations])]),
        "exposure": figure([
            exposure_line(0, steps, [e.teacher_forced_accuracy for e in evaluations]),
            exposure_line(1, steps, [e.free_running_accuracy for e in evaluations])]),
    }


def score_line(i: int, x: list | None = None, y: list | None = None) -> Trace:
    name = ("exact match (%)", "BLEU (0–100)")[i]
    return line(name, x, y, markers=True, marker={"size": 4})


def exposure_line(i: int, x: list | None = None, y: list | None = None) -> Trace:
    name = ("teacher-forced (true prefix)", "free-running (own prefix)")[i]
    return line(name, x, y, markers=True, marker={"size": 4})


# ---- the run ------------------------------------------------------------------------------


def train(params: Params, ctx: RunContext, trained: Trained, probe: tuple[str, ...]
          ) -> RunGenerator:
    """Train (app/ml/seq2seq_training.py), drawing its curves and the probe's maps."""
    steps, losses = [], []
    for event in trained.train(EVAL_EVERY, stop=ctx.should_stop):
        if isinstance(event, Evaluation):
            charts = evaluation_ops(event)
            translation = translate(trained.model, params.task, probe)
            charts["attention"] = attention_figure(params.task, translation)
            yield make_frame(event.step, event.step / (params.steps + 1), charts, {
                "step": event.step, "exact_match": event.exact_match, "bleu": event.bleu})
            continue
        step, loss = event
        steps.append(step)
        losses.append(loss)
        if step % LOSS_EVERY == 0 or step == params.steps or ctx.should_stop():
            yield make_frame(step, step / (params.steps + 1),
                             {"loss": extend([0], [steps], [losses])}, {"loss": loss})
            steps, losses = [], []


def run(params: Params, ctx: RunContext) -> RunGenerator:
    key = params.training_key()
    trained = TRAINED.get(key)
    reused = trained is not None
    source = tuple(params.source or PROBES[params.task])
    if trained is None:
        with seeded(params.seed):
            trained = Trained(params.config(), build_model(params.config()))
        yield from train(params, ctx, trained, source)
        if trained.finished:  # complete: worth keeping
            TRAINED.keep(key, trained)
    greedy = trained.evaluations[-1]
    final = greedy
    if params.decoding == "beam" and not ctx.should_stop():
        final = evaluate(trained.model, params.task, greedy.step, decoding="beam",
                         width=params.beam_width)
    translation = translate(trained.model, params.task, source, params.decoding,
                            params.beam_width)
    example = example_of(params.task, "".join(source))
    reference = list(example.target) if example else None
    alignment = (alignment_mass(translation.cross_attention, example.spans)
                 if example and translation.output == reference else None)
    result = {
        "exact_match": final.exact_match,
        "bleu": final.bleu,
        "teacher_forced_accuracy": greedy.teacher_forced_accuracy,
        "free_running_accuracy": greedy.free_running_accuracy,
        "exposure_gap": greedy.teacher_forced_accuracy - greedy.free_running_accuracy,
        "loss": trained.losses[-1][1] if trained.losses else None,
        "steps_run": greedy.step,
        "decoding": params.decoding if final is not greedy else "greedy",
        "source": "".join(source),
        "output": " ".join(translation.output),
        "reference": " ".join(reference) if reference is not None else None,
        "alignment": alignment,
        "cross_attention": translation.cross_attention,
    }
    charts = {"attention": attention_figure(params.task, translation)}
    if reused:
        charts.update(curve_figures(trained))
    metrics = {
        "model": "re-used (same training settings): no retraining" if reused
        else f"trained in {trained.seconds:.1f} s of CPU",
        "exact_match": final.exact_match, "bleu": final.bleu,
        "exposure_gap": result["exposure_gap"],
        "input": result["source"], "output": result["output"] or "(nothing)",
        "reference": result["reference"] or "none: not a valid input of this task",
        **({"alignment": alignment} if alignment is not None else {}),
    }
    yield make_frame(greedy.step, 1.0, charts, metrics)  # the last training step, not one more
    return result


CHARTS = [
    line_chart("loss", "Training loss (cross-entropy per target token)", x_title="step",
               y_title="loss (nats)", log_y=True, y={"dtick": 1}, showlegend=False,
               integer_x=True,
               lines=[line("training loss")],
               summary="Line chart of the teacher-forced training loss against the step."),
    line_chart("scores", "Held-out exact match and BLEU (greedy decoding)", x_title="step",
               y_title="percent", y={"range": [0, 102]}, integer_x=True,
               lines=[score_line(0), score_line(1)],
               summary="Line chart of the share of held-out inputs translated exactly right, "
               "and their corpus BLEU on a 0–100 scale, every 25 steps."),
    line_chart("exposure", "Exposure bias: held-out token accuracy", x_title="step",
               y_title="token accuracy", y={"range": [0, 1.02]}, integer_x=True,
               lines=[exposure_line(0), exposure_line(1)],
               summary="Two lines: token accuracy when the decoder is fed the true previous "
               "tokens, and when it is fed its own; the gap between them is exposure bias."),
    heatmap_chart(
        "attention", "Cross-attention of the probe (L = layer, H = head): rows = output "
        "tokens, columns = input tokens, dotted = the aligned input", height=MAP_HEIGHT + 70,
        summary="Heatmaps, one per layer and head: for each output token (row), how its "
        "cross-attention spreads over the input tokens (columns)."),
]

demo = Demo(
    slug="seq2seq",
    title="A tiny encoder–decoder learns to translate",
    description="An encoder–decoder Transformer learns to write dates or numbers out in "
    "words in a few seconds. Watch the cross-attention align output with input, compare "
    "teacher-forced and free-running accuracy, then type an input to translate.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
    metric_labels={"bleu": "BLEU (0–100)", "exact_match": "exact match",
                   "alignment": "weight on the aligned input",
                   "exposure_gap": "teacher-forced − free-running accuracy"},
)
