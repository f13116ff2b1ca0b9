"""Demo `crf-tagger`: a BiLSTM-CRF and a BiLSTM-softmax tagger trained side by side.

Both see the same batches of the synthetic NER corpus (app/ml/ner_data.py); the
training loop is app/ml/tagger_training.py, and this module draws what it yields. The run
streams both losses, both dev entity F1 curves, how many invalid BIO transitions each
decodes, and the CRF's transition matrix. At the end it tags the student's sentence
with both models and draws the CRF's Viterbi lattice with the best path on top.

Training takes seconds, so trained models are kept in a small LRU keyed by every
parameter except the sentence: a new sentence re-uses them and answers at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import torch
from pydantic import Field, field_validator

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
    short_labels,
)
from app.ml.bilstm_tagger import BiLSTMTagger, Vocabulary, make_batch
from app.ml.ner_data import TAGS, invalid_transitions, make_corpus, tokenize
from app.ml.tagger_training import BatchDone, train_side_by_side

BATCH_SIZE = 64
MAX_TOKENS = 60
DEFAULT_SENTENCE = "Yesterday Noor Okonkwo flew from Buenos Aires to Lisbon to meet Helix Labs ."


class Params(DemoParams):
    embedding: int = Field(32, ge=8, le=48, description="Word embedding size")
    hidden: int = Field(32, ge=8, le=48, description="LSTM hidden units per direction")
    learning_rate: float = Field(0.02, ge=1e-4, le=0.1, description="Adam learning rate",
                                 json_schema_extra={"x-scale": "log"})
    epochs: int = Field(4, ge=1, le=5, description="Passes over the 1500 training sentences")
    crf_lr_scale: int = Field(5, ge=1, le=10, description="CRF step multiplier: the 99 "
                              "CRF scores learn this many times faster than the network")
    dropout: float = Field(0.2, ge=0.0, le=0.6, description="Dropout on embeddings and "
                           "LSTM outputs (half as much word dropout to UNK)",
                           json_schema_extra={"x-step": 0.05})
    sentence: str = Field(DEFAULT_SENTENCE, max_length=200,
                          description="A sentence to tag after training (changing it "
                          "re-uses the trained models)")

    @field_validator("sentence")
    @classmethod
    def _tokens(cls, value: str) -> str:
        n = len(tokenize(value))
        if n == 0:
            raise ValueError("sentence: has no visible word (only spaces or invisible "
                             "characters); type at least one word")
        if n > MAX_TOKENS:
            raise ValueError(f"sentence: needs 1 to {MAX_TOKENS} words, got {n}")
        return value

    def training_key(self) -> tuple:
        return tuple(sorted(self.model_dump(exclude={"sentence"}).items()))


@dataclass
class Trained:
    """Everything a finished training leaves behind: models and the curves it drew."""

    vocab: Vocabulary
    models: dict[str, BiLSTMTagger]
    loss: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    f1: dict[str, list[float]] = field(default_factory=dict)
    invalid: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0


_CACHE: OrderedDict[tuple, Trained] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4
HEADS = ("crf", "softmax")
COLOURS = {"crf": "#1f77b4", "softmax": "#ff7f0e"}
NAMES = {"crf": "BiLSTM-CRF", "softmax": "BiLSTM-softmax"}


@lru_cache(maxsize=1)
def corpus() -> tuple:
    """The corpus, its vocabulary and pre-built dev batches (made once per process)."""
    train, dev = make_corpus()
    vocab = Vocabulary([tokens for tokens, _ in train])
    dev_batches = [make_batch(vocab, dev[i:i + 100]) for i in range(0, len(dev), 100)]
    return train, vocab, dev_batches, [tags for _, tags in dev]


def transition_figure(model: BiLSTMTagger) -> dict:
    """The CRF transition matrix: rows the tag before, columns the tag after."""
    assert model.crf is not None
    matrix = model.crf.transitions.detach()
    return figure([{
        "type": "heatmap", "z": rounded(matrix.tolist(), 3), "x": TAGS, "y": TAGS,
        # Reversed RdBu: forbidden moves (strongly negative) red, likely ones blue.
        "colorscale": "RdBu", "reversescale": True, "zmid": 0,
        "colorbar": {"title": {"text": "score"}},
        "hovertemplate": "%{y} → %{x}: %{z}<extra></extra>",
    }], {"yaxis": category_axis(TAGS, autorange="reversed", automargin=True),
         "xaxis": category_axis(TAGS, side="top", automargin=True), "margin": {"t": 60}})


def curve_figures(trained: Trained) -> dict:
    """Whole loss, F1 and invalid-transition charts from a finished training."""
    loss = [{"type": "scatter", "mode": "lines", "name": NAMES[h], "x": trained.loss[h][0],
             "y": trained.loss[h][1], "line": {"color": COLOURS[h]}} for h in HEADS]
    epochs = list(range(1, len(trained.f1["crf"]) + 1))
    f1 = [{"type": "scatter", "mode": "lines+markers", "name": NAMES[h], "x": epochs,
           "y": trained.f1[h], "line": {"color": COLOURS[h]}} for h in HEADS]
    bad = [{"type": "bar", "name": NAMES[h], "x": epochs, "y": trained.invalid[h],
            "marker": {"color": COLOURS[h]}} for h in HEADS]
    return {"loss": figure(loss), "f1": figure(f1), "invalid": figure(bad)}


def train(params: Params, ctx: RunContext, trained: Trained) -> RunGenerator:
    """Train both taggers on the same batches (app/ml/tagger_training.py), drawing them."""
    train_set, vocab, dev_batches, gold = corpus()
    empty = {h: ([], []) for h in HEADS}
    trained.loss = {h: ([], []) for h in HEADS}
    trained.f1 = {h: [] for h in HEADS}
    trained.invalid = {h: [] for h in HEADS}
    blank = Trained(vocab, trained.models, empty, trained.f1, trained.invalid)
    yield make_frame(0, 0.0, curve_figures(blank))
    start = time.monotonic()
    step = 0
    events = train_side_by_side(
        trained.models, train_set, vocab, dev_batches, gold, epochs=params.epochs,
        lr=params.learning_rate, crf_scale=params.crf_lr_scale, dropout=params.dropout,
        batch_size=BATCH_SIZE, generator=torch.Generator().manual_seed(params.seed))
    for event in events:
        if isinstance(event, BatchDone):
            step += 1
            done = event.epoch + (event.batch + 1) / event.batches_per_epoch
            x = round(done, 3)
            losses = [round(event.losses[h], 4) for h in HEADS]
            for head, loss in zip(HEADS, losses, strict=True):
                trained.loss[head][0].append(x)
                trained.loss[head][1].append(loss)
            if ctx.should_stop():
                return
            if event.batch % 3 == 2:
                yield make_frame(step, done / params.epochs, {
                    "loss": extend([0, 1], [[x], [x]], [[losses[0]], [losses[1]]]),
                    "transitions": transition_figure(trained.models["crf"]),
                }, {"epoch": event.epoch + 1, "crf_loss": losses[0], "softmax_loss": losses[1]})
            continue
        metrics: dict = {"epoch": event.epoch + 1}
        for head in HEADS:
            trained.f1[head].append(round(event.f1[head], 4))
            trained.invalid[head].append(event.invalid[head])
            metrics[f"{head}_dev_f1"] = trained.f1[head][-1]
            metrics[f"{head}_invalid"] = event.invalid[head]
        epochs_x = [[event.epoch + 1], [event.epoch + 1]]
        yield make_frame(step, (event.epoch + 1) / params.epochs, {
            "f1": extend([0, 1], epochs_x, [[trained.f1[h][-1]] for h in HEADS]),
            "invalid": extend([0, 1], epochs_x, [[trained.invalid[h][-1]] for h in HEADS]),
            "transitions": transition_figure(trained.models["crf"]),
        }, metrics)
    trained.seconds = time.monotonic() - start


def lattice_figure(model: BiLSTMTagger, vocab: Vocabulary, tokens: list[str],
                   softmax_tags: list[int]) -> tuple[dict, list[int]]:
    """Viterbi lattice of one sentence (scores relative to the best at each token)."""
    assert model.crf is not None
    batch = make_batch(vocab, [(tokens, [])])
    with torch.no_grad():
        paths, _, lattice = model.crf.viterbi(model.emissions(batch), batch.mask)
    scores = lattice[0] - lattice[0].max(dim=1, keepdim=True).values  # [T, K]
    path = paths[0].tolist()
    x = list(range(len(tokens)))
    # Positions on x (a word may repeat): the ticks name them, shortened, and hovering a
    # cell names the whole word and the tag.
    layout = {
        "xaxis": {"tickvals": x, "ticktext": short_labels(tokens), "tickangle": -45,
                  "side": "top", "automargin": True},
        "yaxis": {"tickvals": list(range(len(TAGS))), "ticktext": TAGS,
                  "autorange": "reversed", "automargin": True},
        "legend": {"orientation": "h", "y": -0.05, "yanchor": "top"},
    }
    return figure([
        {"type": "heatmap", "z": rounded(scores.T.clamp(min=-30).tolist(), 2), "x": x,
         "y": list(range(len(TAGS))), "colorscale": "Viridis", "zmin": -15, "zmax": 0,
         "colorbar": {"title": {"text": "score − best"}}, "name": "lattice",
         "customdata": [[f"{token} (word {i + 1}) as {tag}" for i, token in enumerate(tokens)]
                        for tag in TAGS],
         "hovertemplate": "%{customdata}: %{z}<extra></extra>"},
        {"type": "scatter", "mode": "lines+markers", "name": "CRF best path", "x": x,
         "y": path, "line": {"color": "#ff2d55", "width": 4}, "marker": {"size": 10}},
        {"type": "scatter", "mode": "markers", "name": "softmax argmax", "x": x,
         "y": softmax_tags, "marker": {"symbol": "x", "size": 11, "color": "#fff",
                                       "line": {"width": 1, "color": "#000"}}},
    ], layout), path


def run(params: Params, ctx: RunContext) -> RunGenerator:
    key = params.training_key()
    with _CACHE_LOCK:
        trained = _CACHE.get(key)
        if trained is not None:
            _CACHE.move_to_end(key)
    cached = trained is not None
    if trained is None:
        _, vocab, _, _ = corpus()
        with seeded(params.seed):
            models = {h: BiLSTMTagger(len(vocab), params.embedding, params.hidden,
                                      use_crf=h == "crf") for h in HEADS}
        trained = Trained(vocab, models)
        yield from train(params, ctx, trained)
        complete = len(trained.f1["crf"]) == params.epochs
        if complete:
            with _CACHE_LOCK:
                _CACHE[key] = trained
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
    if not trained.f1["crf"]:  # stopped before the first evaluation
        return {"dev_f1": None, "softmax_dev_f1": None, "invalid_crf": None,
                "invalid_softmax": None, "stopped": True}
    tokens = tokenize(params.sentence)
    batch = make_batch(trained.vocab, [(tokens, [])])
    softmax_ids = trained.models["softmax"].predict(batch)[0]
    lattice, crf_ids = lattice_figure(trained.models["crf"], trained.vocab, tokens, softmax_ids)
    crf_tags = [TAGS[i] for i in crf_ids]
    softmax_tags = [TAGS[i] for i in softmax_ids]
    result = {
        "dev_f1": trained.f1["crf"][-1], "softmax_dev_f1": trained.f1["softmax"][-1],
        "invalid_crf": trained.invalid["crf"][-1],
        "invalid_softmax": trained.invalid["softmax"][-1],
        "tokens": tokens, "crf_tags": crf_tags, "softmax_tags": softmax_tags,
        "sentence_invalid_crf": invalid_transitions(crf_tags),
        "sentence_invalid_softmax": invalid_transitions(softmax_tags),
        "train_seconds": round(trained.seconds, 2), "cached": cached,
    }
    charts = {**curve_figures(trained), "transitions": transition_figure(trained.models["crf"]),
              "lattice": lattice}
    metrics = {
        "models": "re-used from the cache (same training params): no retraining"
        if cached else f"trained in {trained.seconds:.1f} s",
        "crf_dev_f1": result["dev_f1"], "softmax_dev_f1": result["softmax_dev_f1"],
        "crf_invalid": result["invalid_crf"], "softmax_invalid": result["invalid_softmax"],
        "crf_tags": " ".join(crf_tags), "softmax_tags": " ".join(softmax_tags),
    }
    yield make_frame(10**6, 1.0, charts, metrics)
    return result


CHARTS = [
    Chart("loss", "Training loss (per token)",
          {"xaxis": {"title": {"text": "epoch"}}, "yaxis": {"type": "log", "dtick": 1, "title": {
              "text": "negative log-likelihood"}}, "legend": {"orientation": "h", "y": -0.25}},
          "Line chart of both models' training loss against epochs."),
    Chart("f1", "Dev entity F1 (exact spans)",
          {"xaxis": {"title": {"text": "epoch"}, "dtick": 1},
           "yaxis": {"title": {"text": "F1"}, "range": [0, 1]},
           "legend": {"orientation": "h", "y": -0.25}},
          "Line chart of both models' entity-level F1 on the dev split after each epoch."),
    Chart("invalid", "Invalid BIO transitions decoded on dev",
          {"barmode": "group", "xaxis": {"title": {"text": "epoch"}, "dtick": 1},
           "yaxis": {"title": {"text": "count"}, "rangemode": "tozero"},
           "legend": {"orientation": "h", "y": -0.25}},
          "Bar chart: per epoch, how many I- tags each model put after a tag they cannot follow."),
    Chart("transitions", "CRF transition scores (from row tag to column tag)",
          {"yaxis": {"autorange": "reversed"}},
          "Heatmap of the learned transition matrix; impossible moves turn dark red."),
    Chart("lattice", "Viterbi lattice of your sentence",
          {"yaxis": {"autorange": "reversed"}},
          "Heatmap of tokens by tags with the CRF's best path drawn as a line, and the "
          "softmax tagger's choices as crosses."),
]

demo = Demo(
    slug="crf-tagger",
    title="BiLSTM-CRF against BiLSTM-softmax on named entities",
    description="Train both taggers on the same sentences and compare their dev F1 and how "
    "often they break the BIO grammar. Then type a sentence to see its Viterbi lattice.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
)
