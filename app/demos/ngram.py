"""Demo `ngram`: count n-grams, smooth them with add-k, and measure held-out perplexity.

The model is app/ml/ngram.py, fitted on 90% of a corpus from app/ml/embedding_corpus.py
(the generated sentences of the lesson, or the beam-search lesson's tiny grammar). The
run draws the next-word distribution after the student's context, then the held-out
perplexity against n for several k (and the training text's, for the chosen k), then
writes three sentences sampled from the model.
"""

from __future__ import annotations

import html
import random
from functools import lru_cache
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
)
from app.demos.charts import bar_chart, bars, category_axis, layout, line, line_chart
from app.ml.embedding_corpus import corpus, split, tiny_language, tiny_language_perplexity
from app.ml.ngram import BOS, NgramModel
from app.ml.tokens import tokenize

ORDERS = range(1, 5)
CURVE_KS = (0.0, 0.01, 0.1, 1.0)  # the held-out curves always drawn
TOP_WORDS = 10
SAMPLES = 3
CORPORA = {"generated": "the lesson's generated sentences",
           "tiny language": "the beam-search lesson's little grammar"}
Corpus = Literal["generated", "tiny language"]


class Params(DemoParams):
    n: int = Field(3, ge=1, le=4, description="Order of the model: each word is predicted "
                   "from the n − 1 words before it")
    k: float = Field(0.01, ge=0.0, le=2.0, description="Add-k smoothing: k is added to "
                     "every count (0 = maximum likelihood, no smoothing)",
                     json_schema_extra=control(number_box=True, step=0.001,
                                               label="smoothing k"))
    corpus: Corpus = Field("generated", description="Text to count: the lesson's "
                           "generated sentences, or the beam-search lesson's tiny grammar")
    context: str = Field("the capital of", max_length=200,
                         description="Words typed so far: the model shows what comes next "
                         "after their last n − 1 (empty: the start of a sentence)")


@lru_cache(maxsize=2)
def sentences(name: str) -> tuple[list[list[str]], list[list[str]]]:
    """(training, held-out) sentences of corpus ``name``: 90% and 10%."""
    return split(corpus() if name == "generated" else tiny_language())


@lru_cache(maxsize=8)
def model(name: str, n: int) -> NgramModel:
    return NgramModel(n, sentences(name)[0])


def curve_line(k: float) -> dict:
    return line(f"held-out, k = {k:g}", markers=True, line={"width": 1.5})


YOURS = {"line": {"color": "#7c3aed", "width": 3}, "marker": {"size": 9}}
TRAINING = {"line": {"color": "#6b7280", "dash": "dash"}}
FLOOR = {"line": {"color": "#2a9d47", "dash": "dot"}}
TRACES = [*(curve_line(k) for k in CURVE_KS), line("held-out, your k", markers=True, **YOURS),
          line("training text, your k", markers=True, **TRAINING),
          line("the tiny language's own", **FLOOR)]


def next_word_figure(pairs: list[tuple[str, float]], context: tuple[str, ...]) -> dict:
    # Plotly reads a label as markup: "</s>" would vanish (and "<s>" strike the rest out).
    words = [html.escape(w) for w, _ in pairs]
    shown = " ".join(context) if context else "(nothing: unigrams ignore context)"
    return figure([bars("P(next word)", [p for _, p in pairs], words, orientation="h",
                        marker={"color": "#4f46e5"},
                        hovertemplate="P(%{y} | " + shown.replace("%", "%%") +
                        ") = %{x}<extra></extra>")],
                  layout(f"P(next word | {shown})", x={"rangemode": "tozero"},
                         y=category_axis(words, automargin=True)))


def run(params: Params, ctx: RunContext) -> RunGenerator:
    chosen = model(params.corpus, params.n)
    typed = tokenize(params.context, lower=True)
    context = chosen.context_of(typed)
    top = chosen.distribution(context, params.k)[:TOP_WORDS]
    yield make_frame(0, 0.1, {"next": next_word_figure(top, context)},
                     {"context": " ".join(context) or "—"})

    train, held_out = sentences(params.corpus)
    curves: dict[str, list[float]] = {f"{k:g}": [] for k in CURVE_KS}
    yours, training = [], []
    for n in ORDERS:
        if ctx.should_stop():
            break
        fitted = model(params.corpus, n)
        row = [fitted.perplexity(held_out, k) for k in CURVE_KS]
        for k, value in zip(CURVE_KS, row, strict=True):
            curves[f"{k:g}"].append(value)
        yours.append(fitted.perplexity(held_out, params.k))
        training.append(fitted.perplexity(train, params.k))
        traces = list(range(len(CURVE_KS) + 2))
        yield make_frame(n, 0.1 + 0.2 * n, {"perplexity": extend(
            traces, [[n]] * len(traces), [[v] for v in (*row, yours[-1], training[-1])])},
            {"n": n, "held_out_perplexity": yours[-1]})
    if params.corpus == "tiny language":
        floor = tiny_language_perplexity()
        yield make_frame(5, 0.95, {"perplexity": extend(
            [len(CURVE_KS) + 2], [[1, 4]], [[floor, floor]])}, {"language_own": floor})

    rng = random.Random(params.seed)
    generated = [" ".join(chosen.generate(params.k, rng)) for _ in range(SAMPLES)]
    perplexity = chosen.perplexity(held_out, params.k)
    yield make_frame(6, 1.0, {}, {
        "n": params.n,  # the curves' frames showed each n in turn: end on the model's own
        "held_out_perplexity": perplexity,
        **{f"sentence_{i + 1}": s or "(empty)" for i, s in enumerate(generated)}})
    return {
        "perplexity": perplexity,
        "train_perplexity": chosen.perplexity(train, params.k),
        "perplexity_by_n": {key: values for key, values in curves.items()},
        "context": [w for w in context if w != BOS],
        "next_words": dict(top),
        "generated": generated,
        "vocabulary_size": len(chosen.vocabulary),
    }


CHARTS = [
    bar_chart("next", "What comes next? The ten likeliest words",
              x_title="probability", series=[bars("P(next word)", orientation="h")],
              grouped=False, y={"autorange": "reversed"},
              summary="Horizontal bars: the probability the model gives each "
              "of the ten likeliest next words after the typed context."),
    line_chart("perplexity", "Held-out perplexity against n", x_title="n (order)",
               integer_x=True, x={"range": [0.8, 4.2], "dtick": 1}, y_title="perplexity",
               log_y=True, lines=TRACES,
               # Plotly's own log ticks read "100, 5, 2, 10" (5 for 50): name each one.
               y={"tickvals": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]},
               summary="Lines of perplexity on held-out sentences for n from 1 to 4, one per "
               "smoothing k, with your k thick and purple and the training text's dashed; a "
               "missing point is an infinite perplexity."),
]

demo = Demo(
    slug="ngram",
    title="n-gram language models: counts, smoothing and perplexity",
    description="Count the n-grams of a corpus, see what the model predicts after your "
    "words, how add-k smoothing changes held-out perplexity, and what it writes.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=True,
    metric_labels={"held_out_perplexity": "held-out perplexity",
                   "language_own": "the language's own perplexity",
                   **{f"sentence_{i + 1}": f"sampled sentence {i + 1}" for i in range(SAMPLES)}},
)
