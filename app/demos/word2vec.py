"""Demo `word2vec`: skip-gram with negative sampling, trained live on the lesson's corpus.

The corpus (app/ml/embedding_corpus.py) is generated from templates over word classes;
training is app/ml/word2vec.py. The run streams the loss, the analogy accuracy after each
epoch and a 2-D projection (PCA of the current vectors of the classes' words) in which
the classes gather. At the end it answers the student's word (its nearest neighbours)
and analogy a : b :: c : ?.

Training takes a second or a few, so trained vectors are kept in a small LRU
(:data:`TRAINED`) keyed by every parameter except the word and the analogy: a new query
re-uses them and answers at once.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import regex
import torch
from pydantic import Field, field_validator

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
from app.demos.figures import labelled
from app.ml.embedding_corpus import ANALOGY_RELATIONS, WORD_CLASSES, analogy_questions, corpus
from app.ml.word2vec import (
    BatchDone,
    SkipGram,
    TrainConfig,
    Vocabulary,
    analogy,
    analogy_accuracy,
    nearest,
    pca_2d,
    train,
)
from app.trained_cache import TrainedCache

NEIGHBOURS = 10  # nearest words shown for the typed word
CANDIDATES = 5  # answers shown for the analogy
LOSS_POINTS = 60  # loss points drawn over a run
PICTURES_PER_EPOCH = 2  # redraws of the projection per pass over the corpus
DIVERGED = ("training diverged: the loss or a vector became infinite or NaN; lower the "
            "learning rate (the default is 0.05)")


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary.of(corpus())


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters only: ":" and "?" are separators)."""
    return regex.findall(r"\p{L}+", text.lower())


def known(field_name: str, word: str) -> str:
    if word not in vocabulary().index:
        raise ValueError(f"{field_name}: '{word}' is not one of the corpus's "
                         f"{len(vocabulary().words)} words; try e.g. paris, dog, queen or "
                         "french")
    return word


class Params(DemoParams):
    dim: int = Field(50, ge=2, le=100, description="Size d of each word vector",
                     json_schema_extra=control(label="dimension d"))
    window: int = Field(5, ge=1, le=8, description="Largest distance between a centre word "
                        "and a context word (each centre draws its window from 1 to this)")
    negatives: int = Field(5, ge=1, le=10, description="Noise words K drawn per pair from "
                           "unigram^0.75", json_schema_extra=control(label="negatives K"))
    subsample: float = Field(1e-3, ge=1e-5, le=1.0, description="Subsampling threshold t: a "
                             "word of frequency f is kept with probability (√(f/t)+1)·t/f "
                             "(1 keeps every word)",
                             json_schema_extra=control(log_scale=True,
                                                       label="subsampling threshold t"))
    learning_rate: float = Field(0.05, ge=5e-4, le=0.5, description="SGD step at the start, "
                                 "falling linearly to almost 0",
                                 json_schema_extra=control(log_scale=True))
    epochs: int = Field(10, ge=1, le=20, description="Passes over the 6000 sentences")
    word: str = Field("paris", max_length=40, description="A word whose nearest neighbours "
                      "to show (changing it re-uses the trained vectors)")
    analogy: str = Field("france : paris :: japan", max_length=80,
                         description="An analogy a : b :: c, answered by the word nearest "
                         "to b − a + c (changing it re-uses the trained vectors)")

    @field_validator("word")
    @classmethod
    def _word(cls, value: str) -> str:
        words = words_of(value)
        if len(words) != 1:
            raise ValueError(f"word: type one word, got {len(words)}")
        return known("word", words[0])

    @field_validator("analogy")
    @classmethod
    def _analogy(cls, value: str) -> str:
        words = words_of(value)
        if len(words) != 3:
            raise ValueError(f"analogy: needs three words, as in 'france : paris :: japan', "
                             f"got {len(words)}")
        return " : ".join(known("analogy", w) for w in words[:2]) + " :: " + known(
            "analogy", words[2])

    def training_key(self) -> tuple:
        return tuple(sorted(self.model_dump(exclude={"word", "analogy"}).items()))

    def config(self) -> TrainConfig:
        return TrainConfig(dim=self.dim, window=self.window, negatives=self.negatives,
                           subsample=self.subsample, lr=self.learning_rate,
                           epochs=self.epochs, seed=self.seed)


@dataclass
class Trained:
    """Vectors and what their training drew, to answer queries and redraw the curves."""

    model: SkipGram
    loss: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    accuracy: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))
    picture: torch.Tensor | None = None
    epochs_done: int = 0
    seconds: float = 0.0
    diverged: bool = False  # the loss or a vector left the finite numbers


TRAINED: TrainedCache[Trained] = TrainedCache(size=8)  # a training is ~90 kB of vectors
CLASS_WORDS = [w for words in WORD_CLASSES.values() for w in words]
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


LABELLED = 2  # words of each class written beside their point (the rest: on hover)


def class_traces(points: list[list[float]] | None = None) -> list[dict]:
    """One trace of points per word class, in :data:`WORD_CLASSES` order; the first
    :data:`LABELLED` words of each class and "turkey" are written beside their point
    (a class gathers into a tight cloud where every label would cover the others)."""
    traces, start = [], 0
    for colour, (name, words) in zip(PALETTE, WORD_CLASSES.items(), strict=True):
        xy = points[start:start + len(words)] if points else []
        shown = [w if i < LABELLED or w == "turkey" else "" for i, w in enumerate(words)]
        traces.append(labelled(name, [p[0] for p in xy], [p[1] for p in xy],
                               shown if points else [], marker={"color": colour, "size": 7},
                               textfont={"size": 10, "color": colour},
                               customdata=words if points else [],
                               hovertemplate="%{customdata}<extra>" + name + "</extra>"))
        start += len(words)
    return traces


def picture(trained: Trained) -> dict:
    """The projection chart: PCA of the class words' current vectors."""
    rows = torch.tensor([vocabulary().index[w] for w in CLASS_WORDS])
    trained.picture = pca_2d(trained.model.W_in[rows], trained.picture)
    return figure(class_traces(trained.picture.tolist()))


def accuracy_now(trained: Trained) -> float:
    return analogy_accuracy(trained.model.W_in, vocabulary().index, analogy_questions())


def training(params: Params, ctx: RunContext, trained: Trained) -> RunGenerator:
    """Train, streaming the loss, the accuracy after each epoch and the projection."""
    config = params.config()
    started = time.process_time()
    yield make_frame(0, 0.0, {"projection": picture(trained)}, {"epoch": 0})
    xs: list[float] = []
    ys: list[float] = []
    batch_losses: list[float] = []
    last_drawn = 0.0
    for event in train(trained.model, vocabulary(), corpus(), config):
        if ctx.should_stop():
            return
        if isinstance(event, BatchDone):
            if not math.isfinite(event.loss):
                trained.diverged = True
                return
            batch_losses.append(event.loss)
            x = event.progress * config.epochs
            if x - last_drawn >= config.epochs / LOSS_POINTS:
                loss = sum(batch_losses) / len(batch_losses)
                xs.append(x)
                ys.append(loss)
                trained.loss[0].append(x)
                trained.loss[1].append(loss)
                batch_losses = []
                charts = {"loss": extend([0], [xs], [ys])}
                if int(x * PICTURES_PER_EPOCH) > int(last_drawn * PICTURES_PER_EPOCH):
                    charts["projection"] = picture(trained)
                yield make_frame(len(trained.loss[0]), event.progress, charts,
                                 {"epoch": event.epoch + 1, "loss": loss})
                xs, ys = [], []
                last_drawn = x
            continue
        epoch = event.epoch + 1
        if not torch.isfinite(trained.model.W_in).all():
            trained.diverged = True
            return
        accuracy = accuracy_now(trained)
        trained.accuracy[0].append(epoch)
        trained.accuracy[1].append(accuracy)
        trained.epochs_done = epoch
        yield make_frame(len(trained.loss[0]), epoch / config.epochs, {
            "accuracy": extend([0], [[epoch]], [[accuracy]]), "projection": picture(trained)},
            {"epoch": epoch, "analogy_accuracy": accuracy})
    trained.seconds = time.process_time() - started


def bars_figure(name: str, pairs: list[tuple[int, float]], x_title: str,
                highlight: str | None = None) -> dict:
    """Horizontal bars of words and their cosine similarity, best on top."""
    words = [vocabulary().words[i] for i, _ in pairs]
    colours = ["#d97706" if w == highlight else "#4f46e5" for w in words]
    return figure([bars(name, [s for _, s in pairs], words, orientation="h",
                        marker={"color": colours})],
                  layout(x_title, x={"range": [min(0.0, *(s for _, s in pairs)), 1]},
                         y=category_axis(words, automargin=True)))


def expected_answer(a: str, b: str, c: str) -> str | None:
    """d when a : b :: c : d is in the built-in analogy set (ordered), else None."""
    for pairs in ANALOGY_RELATIONS.values():
        lookup = dict(pairs)
        if lookup.get(a) == b and c in lookup:
            return lookup[c]
    return None


def run(params: Params, ctx: RunContext) -> RunGenerator:
    key = params.training_key()
    trained = TRAINED.get(key)
    cached = trained is not None
    vocab = vocabulary()
    if trained is None:
        generator = torch.Generator().manual_seed(params.seed)
        trained = Trained(SkipGram.initial(len(vocab.words), params.dim, generator))
        yield from training(params, ctx, trained)
        if trained.epochs_done == params.epochs:
            TRAINED.keep(key, trained)
    if trained.diverged:
        yield make_frame(len(trained.loss[0]) + 1, 1.0, {}, {"note": DIVERGED})
        return {"analogy_accuracy": None, "neighbours": {}, "loss": math.nan,
                "note": DIVERGED}
    if not trained.epochs_done:  # stopped before the first epoch ended
        return {"analogy_accuracy": None, "neighbours": {}, "loss": None}
    vectors = trained.model.W_in
    a, b, c = words_of(params.analogy)
    candidates = analogy(vectors, vocab.index[a], vocab.index[b], vocab.index[c], CANDIDATES)
    answer = vocab.words[candidates[0][0]]
    expected = expected_answer(a, b, c)
    probes = dict.fromkeys([params.word] + [words[0] for words in WORD_CLASSES.values()])
    neighbours = {w: [vocab.words[i] for i, _ in nearest(vectors, vectors[vocab.index[w]],
                                                         NEIGHBOURS, [vocab.index[w]])]
                  for w in probes}
    by_relation = {name: analogy_accuracy(vectors, vocab.index, analogy_questions(name))
                   for name in ANALOGY_RELATIONS}
    result = {
        "analogy_accuracy": trained.accuracy[1][-1],
        "accuracy_by_relation": by_relation,
        "neighbours": neighbours,
        "loss": trained.loss[1][-1] if trained.loss[1] else None,
        "analogy": params.analogy, "analogy_answer": answer, "expected_answer": expected,
        "train_seconds": trained.seconds,
    }
    word_pairs = nearest(vectors, vectors[vocab.index[params.word]], NEIGHBOURS,
                         [vocab.index[params.word]])
    charts = {
        "loss": figure([line("training loss", *trained.loss)]),
        "accuracy": figure([line("analogy accuracy", *trained.accuracy, markers=True)]),
        "projection": figure(class_traces(trained.picture.tolist())),
        "neighbours": bars_figure("cosine similarity", word_pairs,
                                  f"cosine similarity to “{params.word}”"),
        "analogy": bars_figure("cosine similarity", candidates,
                               f"cosine to {b} − {a} + {c}", highlight=expected),
    }
    verdict = "" if expected is None else (" ✓" if answer == expected else f" ✗ ({expected})")
    metrics = {
        "vectors": "re-used from the cache (same training params): no retraining"
        if cached else f"trained in {trained.seconds:.1f} s of CPU",
        "analogy_accuracy": result["analogy_accuracy"],
        "answer": f"{params.analogy} : {answer}{verdict}",
    }
    yield make_frame(len(trained.loss[0]) + 1, 1.0, charts, metrics)  # after the last loss point
    return result


CHARTS = [
    line_chart("loss", "Training loss", x_title="epoch", integer_x=True,
               y_title="loss per pair (nats)",
               lines=[line("training loss")],
               summary="Line chart of the negative-sampling loss, averaged over recent "
               "pairs, falling as training goes."),
    line_chart("accuracy", "Analogy accuracy on the built-in set", x_title="epoch",
               integer_x=True, y_title="share answered right",
               lines=[line("analogy accuracy", markers=True)], y={"range": [0, 1.02]},
               summary=f"Line chart: after each epoch, the share of the "
               f"{len(analogy_questions())} built-in analogies answered right."),
    line_chart("projection", "Word vectors seen from their two main directions (PCA)",
               x_title="principal axis 1", y_title="principal axis 2",
               lines=class_traces(),
               summary="Scatter of the word classes' vectors projected on their first two "
               "principal axes, one colour per class, redrawn as training goes."),
    bar_chart("neighbours", "Nearest neighbours of your word", x_title="cosine similarity",
              series=[bars("cosine similarity", orientation="h")], grouped=False,
              y={"autorange": "reversed"},  # best on top (an op's layout cannot reverse it)
              summary="Horizontal bars: the ten words whose vectors are closest in angle to "
              "the typed word's, best on top."),
    bar_chart("analogy", "Your analogy: the words nearest to b − a + c",
              x_title="cosine similarity", series=[bars("cosine similarity", orientation="h")],
              grouped=False, y={"autorange": "reversed"},
              summary="Horizontal bars: the five best answers to the typed "
              "analogy; the expected answer, if the built-in set has one, in orange."),
]

demo = Demo(
    slug="word2vec",
    title="word2vec: skip-gram with negative sampling",
    description="Train word vectors on a generated corpus of countries, animals and "
    "people, watch the classes gather, then ask for a word's neighbours and an analogy.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
    metric_labels={"analogy_accuracy": "analogy accuracy"},
)
