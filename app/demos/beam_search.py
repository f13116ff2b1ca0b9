"""Demo `beam-search`: greedy against beam search on a tiny language model trained live.

The model learns the little language of :mod:`app.ml.tiny_lm` for a second or two (the
loss streams down to the language's own entropy), then decodes a sentence with every
beam width from 1 to 8. The bars show how probable each width's sentence is, the dashed
line the most probable sentence of all (exact best-first search), and the tree shows
the chosen width's search: the prefixes kept at each step and the best ones dropped.
"""

from __future__ import annotations

import math
from functools import partial

from pydantic import Field

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    extend,
    figure,
    make_frame,
    rounded,
    seeded,
)
from app.ml.beam_search import (
    BeamResult,
    Hypothesis,
    NextLogProbs,
    beam_search,
    most_probable,
)
from app.ml.tiny_lm import (
    END,
    INDEX,
    MAX_LENGTH,
    START,
    VOCAB,
    entropy_per_token,
    language_model,
    next_log_probs,
    train_language_model,
)

WIDTHS = range(1, 9)
REPORT_EVERY = 5  # training steps per streamed frame


class Params(DemoParams):
    beam_width: int = Field(3, ge=1, le=8, description="Prefixes kept at each step "
                            "(1 = greedy decoding)")
    length_penalty: float = Field(0.0, ge=0.0, le=2.0, description="α: rank sentences by "
                                  "log p / length^α (0 = plain log probability)",
                                  json_schema_extra={"x-step": 0.1})
    train_steps: int = Field(150, ge=20, le=1000, description="Training steps of the "
                             "language model before decoding")


def words(h: Hypothesis) -> str:
    return " ".join(VOCAB[t] for t in h.tokens[1:])


def search(next_words: NextLogProbs, width: int, length_penalty: float) -> BeamResult:
    return beam_search(next_words, INDEX[START], INDEX[END], width, MAX_LENGTH - 1,
                       length_penalty)


def widths_figure(results: dict[int, BeamResult], chosen: int, best: Hypothesis | None) -> dict:
    """One horizontal bar per beam width: how probable the sentence it returns is."""
    probs = [math.exp(results[w].best.log_prob) for w in WIDTHS]
    traces = [{
        "type": "bar", "orientation": "h", "name": "sentence found", "y": list(WIDTHS),
        "x": rounded(probs, 4), "text": [f"“{words(results[w].best)}”" for w in WIDTHS],
        "textposition": "outside", "cliponaxis": False,
        "marker": {"color": ["#d97706" if w == chosen else "#4f46e5" for w in WIDTHS]},
        "hovertemplate": "beam %{y}: %{text}<br>p = %{x}<extra></extra>",
    }]
    top = max(probs)
    if best is not None:
        p_best = round(math.exp(best.log_prob), 4)
        top = max(top, p_best)
        traces.append({"type": "scatter", "mode": "lines", "name": "most probable sentence",
                       "x": [p_best] * 2, "y": [0.5, 8.5],
                       "line": {"dash": "dash", "color": "#2a9d47"},
                       "hovertemplate": f"most probable: “{words(best)}”<br>p = %{{x}}"
                                        "<extra></extra>"})
    # Room on the right for the sentences written after each bar.
    return figure(traces, {"xaxis": {"range": [0, round(top * 1.9, 3)]}})


def probability(p: float) -> str:
    return f"{p:.3f}" if p >= 0.0005 else "< 0.001"


def tree_figure(result: BeamResult, width: int) -> dict:
    """The search as rows: row r at step t is the r-th best prefix after t words.

    The top ``width`` rows are the beam (joined to the prefix each grew from); the grey
    rows below are the best candidates that did not make it.
    """
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    kept = {"x": [], "y": [], "text": [], "hover": [], "symbol": []}
    dropped = {"x": [], "y": [], "text": [], "hover": []}
    rows = max(len(s.kept) + len(s.dropped[:width]) for s in result.steps)
    for step, beam_step in enumerate(result.steps, start=1):
        for row, h in enumerate(beam_step.kept):
            p = math.exp(h.log_prob)
            edge_x += [step - 1, step, None]
            edge_y += [-(h.parent or 0), -row, None]  # row 0 on top
            kept["x"].append(step)
            kept["y"].append(-row)
            kept["text"].append(VOCAB[h.tokens[-1]])  # probabilities on hover: phones are narrow
            kept["hover"].append(f"kept: “{words(h)}”<br>p = {probability(p)}")
            kept["symbol"].append("star" if h.tokens[-1] == INDEX[END] else "circle")
        for row, h in enumerate(beam_step.dropped[:width], start=len(beam_step.kept)):
            p = math.exp(h.log_prob)
            dropped["x"].append(step)
            dropped["y"].append(-row)
            dropped["text"].append(VOCAB[h.tokens[-1]])
            dropped["hover"].append(f"dropped: “{words(h)}”<br>p = {probability(p)}")
    return figure([
        {"type": "scatter", "mode": "lines", "name": "grew from", "x": edge_x, "y": edge_y,
         "line": {"color": "#4f46e5"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers+text", "name": "kept (★ = finished)",
         "x": kept["x"], "y": kept["y"], "text": kept["text"], "textposition": "top center",
         "customdata": kept["hover"],
         "marker": {"size": 11, "color": "#4f46e5", "symbol": kept["symbol"]},
         "hovertemplate": "%{customdata}<extra></extra>"},
        {"type": "scatter", "mode": "markers+text", "name": "dropped", "x": dropped["x"],
         "y": dropped["y"], "text": dropped["text"], "textposition": "top center",
         "textfont": {"color": "#9ca3af"}, "customdata": dropped["hover"],
         "marker": {"size": 8, "color": "#9ca3af", "symbol": "x"},
         "hovertemplate": "%{customdata}<extra></extra>"},
        {"type": "scatter", "mode": "markers+text", "name": "start", "x": [0], "y": [0],
         "text": ["<s>"], "textposition": "top center", "showlegend": False,
         "marker": {"size": 11, "color": "#4f46e5"}, "hoverinfo": "skip"},
    ], {"xaxis": {"title": {"text": "words generated"}, "dtick": 1,
                  "range": [-0.4, len(result.steps) + 0.6]},
        # Explicit range: room above the top row for its labels.
        "yaxis": {"range": [-rows + 0.5, 0.8], "tickvals": [-r for r in range(rows)],
                  "ticktext": [str(r + 1) for r in range(rows)]},
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1,
                    "y0": -width + 0.5, "y1": -width + 0.5,
                    "line": {"dash": "dot", "color": "#9ca3af"}}]})


CHARTS = [
    Chart("training", "Training the language model",
          {"xaxis": {"title": {"text": "training step"}},
           "yaxis": {"title": {"text": "next-word loss (nats)"}},
           "legend": {"orientation": "h", "y": -0.25}},
          "The average next-word cross-entropy per step, and the language's own entropy per "
          "word: the lowest loss any model can reach."),
    Chart("widths", "How probable is the sentence each beam width finds?",
          {"yaxis": {"title": {"text": "beam width"}, "dtick": 1, "autorange": "reversed"},
           "xaxis": {"title": {"text": "p(sentence) under the model"}},
           "legend": {"orientation": "h", "y": -0.25}, "showlegend": True},
          "Bars: probability of the sentence returned by each beam width, followed by the "
          "sentence; the chosen width in orange. Dashed: the most probable sentence of all."),
    Chart("tree", "The search at the chosen width",
          {"legend": {"orientation": "h", "y": -0.25},
           "yaxis": {"title": {"text": "rank (top rows: the beam)"}, "zeroline": False}},
          "Each column is one more word. Rows above the dotted line are the prefixes the "
          "beam kept, best first, joined to the prefix each grew from; stars are finished "
          "sentences; grey crosses below are the best candidates it dropped. Hover a word "
          "for its prefix's probability."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    with seeded(params.seed):
        model = language_model()
    floor = round(entropy_per_token(), 4)
    yield make_frame(0, 0.0, {"training": figure([
        {"type": "scatter", "mode": "lines", "name": "training loss", "x": [], "y": []},
        {"type": "scatter", "mode": "lines", "name": "entropy of the language", "x": [0],
         "y": [floor], "line": {"dash": "dash", "color": "#2a9d47"}},
    ])})
    xs: list[int] = []
    ys: list[float] = []
    loss = float("nan")
    for step in train_language_model(model, params.train_steps, params.seed):
        xs.append(step.step)
        ys.append(round(step.loss, 4))
        loss = step.loss
        if step.step % REPORT_EVERY == 0 or step.step == params.train_steps:
            yield make_frame(step.step, step.step / (params.train_steps + 1), {
                "training": extend([0, 1], [xs, [step.step]], [ys, [floor]])},
                {"loss": round(loss, 4)})
            xs, ys = [], []
        if ctx.should_stop():
            break
    model.eval()
    next_words = partial(next_log_probs, model)
    results = {w: search(next_words, w, params.length_penalty) for w in WIDTHS}
    best = most_probable(next_words, INDEX[START], INDEX[END], MAX_LENGTH - 1)
    greedy, chosen = results[1].best, results[params.beam_width].best
    yield make_frame(params.train_steps + 1, 1.0, {
        "widths": widths_figure(results, params.beam_width, best),
        "tree": tree_figure(results[params.beam_width], params.beam_width),
    }, {"greedy": words(greedy), "p_greedy": round(math.exp(greedy.log_prob), 4),
        "beam": words(chosen),
        "p_beam": round(math.exp(chosen.log_prob), 4)})
    return {
        "final_loss": round(loss, 4),
        "entropy_per_token": floor,
        "greedy": words(greedy),
        "greedy_log_prob": round(greedy.log_prob, 4),
        "beam": words(chosen),
        "beam_log_prob": round(chosen.log_prob, 4),
        "most_probable": words(best) if best else None,
        "most_probable_log_prob": round(best.log_prob, 4) if best else None,
        "by_width": {str(w): words(results[w].best) for w in WIDTHS},
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
