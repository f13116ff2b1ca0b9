"""Training a BiLSTM-CRF and a BiLSTM-softmax tagger side by side, on the same batches.

:func:`train_side_by_side` is a generator: after every batch it yields the losses of
each model (:class:`BatchDone`), after every epoch their dev entity F1 and how many
invalid BIO transitions they decode (:class:`EpochDone`). The caller draws them and may
stop at any event. One ``torch.Generator`` drives the batch order and every dropout
mask, so the same seed gives the same training.

:class:`Trained` holds the two taggers with what their training recorded
(:meth:`Trained.train` trains them on the prepared corpus) and tags a new sentence with
both (:meth:`Trained.tag`); the demo keeps the last few in an
:class:`app.trained_cache.TrainedCache`, since a training takes seconds and tagging another
sentence needs none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from app.ml.bilstm_tagger import (
    Batch,
    BiLSTMTagger,
    Vocabulary,
    evaluate,
    make_batch,
    shuffled_batches,
    viterbi_lattice,
)
from app.ml.ner_data import TAGS, Corpus, make_corpus

HEADS = ("crf", "softmax")


@dataclass
class BatchDone:
    """One optimizer step of every model: epoch and batch (from 0), mean token loss each."""

    epoch: int
    batch: int
    batches_per_epoch: int
    losses: dict[str, float]


@dataclass
class EpochDone:
    """One pass over the training set: each model's dev entity F1 and invalid transitions."""

    epoch: int
    f1: dict[str, float]
    invalid: dict[str, int]


def parameter_groups(model: BiLSTMTagger, lr: float, crf_scale: int) -> list[dict]:
    """Adam moves each weight by at most about ``lr`` per step, whatever its gradient.
    Forbidden transitions must travel well below zero within a run of 24 steps an epoch
    for Viterbi to avoid them, so the 99 CRF scores get ``crf_scale`` times the
    step of the network under them."""
    crf = list(model.crf.parameters()) if model.crf is not None else []
    rest = [p for p in model.parameters() if all(p is not c for c in crf)]
    groups = [{"params": rest, "lr": lr}]
    return groups + [{"params": crf, "lr": lr * crf_scale}] if crf else groups


def train_side_by_side(models: dict[str, BiLSTMTagger], train_set: Corpus, vocab: Vocabulary,
                       dev_batches: list[Batch], dev_gold: list[list[str]], *, epochs: int,
                       lr: float, crf_scale: int, dropout: float, batch_size: int,
                       generator: torch.Generator) -> Iterator[BatchDone | EpochDone]:
    """Train every model on the same shuffled batches with Adam, yielding as they learn."""
    optimizers = {name: torch.optim.Adam(parameter_groups(model, lr, crf_scale))
                  for name, model in models.items()}
    for epoch in range(epochs):
        order = shuffled_batches(len(train_set), batch_size, generator)
        for b, indices in enumerate(order):
            batch = make_batch(vocab, [train_set[i] for i in indices])
            losses = {}
            for name, model in models.items():
                loss = model.loss(batch, dropout, generator)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                losses[name] = loss.item()
            yield BatchDone(epoch, b, len(order), losses)
        f1, invalid = {}, {}
        for name, model in models.items():
            f1[name], invalid[name], _ = evaluate(model, dev_batches, dev_gold)
        yield EpochDone(epoch, f1, invalid)


@lru_cache(maxsize=1)
def prepared_corpus() -> tuple[Corpus, Vocabulary, list[Batch], list[list[str]]]:
    """The NER corpus ready to train on (made once per process): training sentences, their
    vocabulary, the dev split cut into batches of 100, and the dev split's gold tags."""
    train, dev = make_corpus()
    vocab = Vocabulary([tokens for tokens, _ in train])
    dev_batches = [make_batch(vocab, dev[i:i + 100]) for i in range(0, len(dev), 100)]
    return train, vocab, dev_batches, [tags for _, tags in dev]


def new_taggers(vocab_size: int, embedding: int, hidden: int) -> dict[str, BiLSTMTagger]:
    """The two taggers of :data:`HEADS`, drawn from torch's global generator (seed it)."""
    return {head: BiLSTMTagger(vocab_size, embedding, hidden, use_crf=head == "crf")
            for head in HEADS}


@dataclass
class Tagging:
    """One sentence tagged by both taggers.

    ``ids[head]`` are the tag ids (indices into ``TAGS``) of each of the T tokens;
    ``lattice`` ``[T, len(TAGS)]`` is the CRF's Viterbi lattice relative to the best
    prefix at each token (0 the leader, negative how far behind; see
    :func:`app.ml.bilstm_tagger.viterbi_lattice`), whose best path is ``ids["crf"]``.
    """

    tokens: list[str]
    ids: dict[str, list[int]]
    lattice: torch.Tensor

    def tags(self, head: str) -> list[str]:
        """The BIO tags ``head`` gives the tokens, e.g. ``["B-PER", "I-PER", "O"]``."""
        return [TAGS[i] for i in self.ids[head]]


@dataclass
class Trained:
    """Two taggers and what their training recorded, per model name.

    ``loss[name]`` is (x, loss) per batch, x in epochs (1.5: half way through the second);
    ``f1[name]`` and ``invalid[name]`` have one entry per finished epoch.
    """

    vocab: Vocabulary
    models: dict[str, BiLSTMTagger]
    loss: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    f1: dict[str, list[float]] = field(default_factory=dict)
    invalid: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in self.models:  # empty curves for every model not given any
            self.loss.setdefault(name, ([], []))
            self.f1.setdefault(name, [])
            self.invalid.setdefault(name, [])

    @classmethod
    def untrained(cls, embedding: int, hidden: int) -> Trained:
        """New taggers (:func:`new_taggers`) over the vocabulary of :func:`prepared_corpus`,
        drawn from torch's global generator (seed it), with nothing recorded yet."""
        vocab = prepared_corpus()[1]
        return cls(vocab, new_taggers(len(vocab), embedding, hidden))

    @property
    def epochs_done(self) -> int:
        """Epochs whose dev scores are recorded (0 before the first evaluation)."""
        return min(len(f1) for f1 in self.f1.values())

    def train(self, *, epochs: int, lr: float, crf_scale: int, dropout: float,
              batch_size: int, seed: int) -> Iterator[BatchDone | EpochDone]:
        """:func:`train_side_by_side` on :func:`prepared_corpus`, each event recorded
        (:meth:`record`) before it is yielded; ``seed`` draws the batch order and dropout.

        ``seconds`` becomes the wall-clock time of the whole training once the last epoch
        is done (the caller's time between events included); it is left as it was if the
        caller stops early.
        """
        train_set, _, dev_batches, gold = prepared_corpus()
        start = time.monotonic()
        for event in train_side_by_side(
                self.models, train_set, self.vocab, dev_batches, gold, epochs=epochs, lr=lr,
                crf_scale=crf_scale, dropout=dropout, batch_size=batch_size,
                generator=torch.Generator().manual_seed(seed)):
            self.record(event)
            yield event
        self.seconds = time.monotonic() - start

    def tag(self, tokens: list[str]) -> Tagging:
        """Tag ``tokens`` (at least one) with both models; see :class:`Tagging`."""
        batch = make_batch(self.vocab, [(tokens, [])])
        softmax = self.models["softmax"].predict(batch)[0]
        lattice, path = viterbi_lattice(self.models["crf"], self.vocab, tokens)
        return Tagging(tokens, {"crf": path, "softmax": softmax}, lattice)

    def record(self, event: BatchDone | EpochDone) -> None:
        """Append one event of :func:`train_side_by_side` to the curves."""
        for name in self.models:
            if isinstance(event, BatchDone):
                x = event.epoch + (event.batch + 1) / event.batches_per_epoch
                self.loss[name][0].append(x)
                self.loss[name][1].append(event.losses[name])
            else:
                self.f1[name].append(event.f1[name])
                self.invalid[name].append(event.invalid[name])


