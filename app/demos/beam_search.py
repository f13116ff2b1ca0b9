"""Demo `beam-search`: greedy against beam search on a tiny language model trained live.

The model learns the little language of :mod:`app.ml.tiny_lm` for a second or two (the
loss streams down to the language's own entropy), then decodes a sentence with every
beam width from 1 to 8. The bars show how probable each width's sentence is, the dashed
line the most probable sentence of all (exact best-first search), and the tree shows
the chosen width's search: the prefixes kept at each step and the best ones dropped.
"""

from __future__ import annotations

import math

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
from app.demos.charts import bar_chart, bars, full_width, layout, line, line_chart
from app.demos.figures import labelled
from app.ml.beam_search import BeamResult, TreeNode, search_tree
from app.ml.tiny_lm import (
    END,
    INDEX,
    VOCAB,
    Decodings,
    decode_every_width,
    entropy_per_token,
    language_model,
    sentence_text,
    train_language_model,
)

WIDTHS = range(1, 9)
REPORT_EVERY = 5  # training steps per streamed frame


class Params(DemoParams):
    beam_width: int = Field(3, ge=1, le=8, description="Prefixes kept at each step "
                            "(1 = greedy decoding)")
    length_penalty: float = Field(0.0, ge=0.0, le=2.0, description="α: rank sentences by "
                                  "log p / length^α (0 = plain log probability)",
                                  json_schema_extra=control(step=0.1))
    train_steps: int = Field(150, ge=20, le=1000, description="Training steps of the "
                             "language model before decoding")


def widths_figure(decoded: Decodings, chosen: int) -> dict:
    """One horizontal bar per beam width: how probable the sentence it returns is."""
    results, best = decoded.by_width, decoded.most_probable
    probs = [math.exp(results[w].best.log_prob) for w in WIDTHS]
    traces = [bars("sentence found", probs, list(WIDTHS), orientation="h",
                   text=[f"“{sentence_text(results[w].best)}”" for w in WIDTHS],
                   textposition="outside", cliponaxis=False,
                   marker={"color": ["#d97706" if w == chosen else "#4f46e5" for w in WIDTHS]},
                   hovertemplate="beam %{y}: %{text}<br>p = %{x}<extra></extra>")]
    top = max(probs)
    if best is not None:
        p_best = math.exp(best.log_prob)
        top = max(top, p_best)
        traces.append(line("most probable sentence", [p_best] * 2, [0.5, 8.5], **BEST_LINE,
                           hovertemplate=f"most probable: “{sentence_text(best)}”<br>p = %{{x}}"
                                         "<extra></extra>"))
    # Room on the right for the sentences written after each bar.
    return figure(traces, layout(x={"range": [0, top * 1.9]}))


def probability(p: float) -> str:
    return f"{p:.3f}" if p >= 0.0005 else "< 0.001"


def tree_figure(result: BeamResult, width: int) -> dict:
    """The search as rows: row r at step t is the r-th best prefix after t words.

    The top ``width`` rows are the beam (joined to the prefix each grew from); the grey
    rows below are the best candidates that did not make it.
    """
    nodes = search_tree(result, width)
    kept = [n for n in nodes if n.kept]
    rows = max(n.rank for n in nodes) + 1

    def prefixes(name: str, group: list[TreeNode], **style) -> dict:
        # Words on the points, probabilities on hover: phones are narrow.
        hover = [f"{'kept' if n.kept else 'dropped'}: “{sentence_text(n.hypothesis)}”<br>p = "
                 f"{probability(math.exp(n.hypothesis.log_prob))}" for n in group]
        return labelled(name, [n.step for n in group], [-n.rank for n in group],  # row 0 on top
                        [VOCAB[n.hypothesis.tokens[-1]] for n in group], customdata=hover,
                        **style)

    return figure([
        line("grew from", [v for n in kept for v in (n.step - 1, n.step, None)],
             [v for n in kept for v in (-(n.hypothesis.parent or 0), -n.rank, None)],
             **TREE_STYLE["grew from"]),
        prefixes("kept (★ = finished)", kept, **{**TREE_STYLE["kept"], "marker": {
            **TREE_STYLE["kept"]["marker"], "symbol": [
                "star" if n.hypothesis.tokens[-1] == INDEX[END] else "circle" for n in kept]}}),
        prefixes("dropped", [n for n in nodes if not n.kept], **TREE_STYLE["dropped"]),
        labelled("start", [0], [0], ["<s>"], showlegend=False, hoverinfo="skip",
                 marker=TREE_STYLE["kept"]["marker"]),
    ], layout(x={"range": [-0.4, len(result.steps) + 0.6]}, height=tree_height(rows),
              # The legend ~80 px under the plot, however tall it grew (y is a fraction).
              legend={"orientation": "h", "y": -80 / (tree_height(rows) - 60)},
              # Explicit range: room above the top row for its labels.
              y={"range": [-rows + 0.5, 0.8], "tickvals": [-r for r in range(rows)],
                 "ticktext": [str(r + 1) for r in range(rows)]},
              shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1,
                       "y0": -width + 0.5, "y1": -width + 0.5,
                       "line": {"dash": "dot", "color": "#9ca3af"}}]))


def tree_height(rows: int) -> int:
    """Pixels for a tree of ``rows`` rows: a word and its point need about 34 px a row,
    so the words of beam width 8 (sixteen rows with the dropped ones) do not overlap."""
    return max(TREE_HEIGHT, 110 + 34 * rows)


TREE_HEIGHT = 360
BEST_LINE = {"line": {"dash": "dash", "color": "#2a9d47"}}
ON_HOVER = "%{customdata}<extra></extra>"
TREE_STYLE: dict[str, dict] = {
    "grew from": {"line": {"color": "#4f46e5"}, "hoverinfo": "skip"},
    "kept": {"marker": {"size": 11, "color": "#4f46e5"}, "hovertemplate": ON_HOVER},
    "dropped": {"textfont": {"color": "#9ca3af"}, "hovertemplate": ON_HOVER,
                "marker": {"size": 8, "color": "#9ca3af", "symbol": "x"}},
}

CHARTS = [
    line_chart("training", "Training the language model", x_title="training step", integer_x=True,
               y_title="next-word loss (nats)",
               lines=[line("training loss"), line("entropy of the language", **BEST_LINE)],
               summary="The average next-word cross-entropy per step, and the language's own "
               "entropy per word: the lowest loss any model can reach."),
    bar_chart("widths", "How probable is the sentence each beam width finds?",
              x_title="p(sentence) under the model", y_title="beam width",
              y={"dtick": 1, "autorange": "reversed"}, grouped=False, showlegend=True,
              series=[bars("sentence found", orientation="h", marker={"color": "#4f46e5"}),
                      line("most probable sentence", **BEST_LINE)],
              summary="Bars: probability of the sentence returned by each beam width, "
              "followed by the sentence; the chosen width in orange. Dashed: the most "
              "probable sentence of all."),
    full_width(line_chart(
        "tree", "The search at the chosen width", x_title="words generated",
        y_title="rank (top rows: the beam)", x={"dtick": 1}, y={"zeroline": False},
        lines=[line("grew from", **TREE_STYLE["grew from"]),
               labelled("kept (★ = finished)", **TREE_STYLE["kept"]),
               labelled("dropped", **TREE_STYLE["dropped"])],
        summary="Each column is one more word. Rows above the dotted line are the "
        "prefixes the beam kept, best first, joined to the prefix each grew from; stars "
        "are finished sentences; grey crosses below are the best candidates it dropped. "
        "Hover a word for its prefix's probability."), TREE_HEIGHT),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    with seeded(params.seed):
        model = language_model()
    floor = entropy_per_token()
    # The language's entropy: the floor under the loss, drawn from step 0.
    yield make_frame(0, 0.0, {"training": extend([1], [[0]], [[floor]])})
    xs: list[int] = []
    ys: list[float] = []
    loss = float("nan")
    for step in train_language_model(model, params.train_steps, params.seed):
        xs.append(step.step)
        ys.append(step.loss)
        loss = step.loss
        if step.step % REPORT_EVERY == 0 or step.step == params.train_steps:
            yield make_frame(step.step, step.step / (params.train_steps + 1), {
                "training": extend([0, 1], [xs, [step.step]], [ys, [floor]])},
                {"loss": loss})
            xs, ys = [], []
        if ctx.should_stop():
            break
    decoded = decode_every_width(model, WIDTHS, params.length_penalty)
    results, best = decoded.by_width, decoded.most_probable
    greedy, chosen = results[1].best, results[params.beam_width].best
    yield make_frame(params.train_steps + 1, 1.0, {
        "widths": widths_figure(decoded, params.beam_width),
        "tree": tree_figure(results[params.beam_width], params.beam_width),
    }, {"greedy": sentence_text(greedy), "p_greedy": math.exp(greedy.log_prob),
        "beam": sentence_text(chosen),
        "p_beam": math.exp(chosen.log_prob)})
    return {
        "final_loss": loss,
        "entropy_per_token": floor,
        "greedy": sentence_text(greedy),
        "greedy_log_prob": greedy.log_prob,
        "beam": sentence_text(chosen),
        "beam_log_prob": chosen.log_prob,
        "most_probable": sentence_text(best) if best else None,
        "most_probable_log_prob": best.log_prob if best else None,
        "by_width": {str(w): sentence_text(results[w].best) for w in WIDTHS},
    }


demo = Demo(
    slug="beam-search",
    title="Greedy against beam search",
    description="A tiny transformer learns a little language in a second or two, then writes its "
    "likeliest sentence with every beam width from 1 (greedy) to 8.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
)
