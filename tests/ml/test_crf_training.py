"""A small seeded BiLSTM-CRF trains to the lesson's goal; the softmax baseline breaks BIO.

Trained here through app/ml alone, as the crf-tagger demo trains it (its defaults but
16-unit embeddings and LSTMs, two epochs, seed 3): :meth:`Trained.train`, which the
demo calls, is checked against :func:`train_side_by_side` step by step, and the
demo's cache of trainings (:class:`TrainedCache`) for what an LRU must do.
"""

from __future__ import annotations

import pytest
import torch

from app.ml.bilstm_tagger import make_batch, viterbi_lattice
from app.ml.ner_data import TAGS, TYPES, allowed_transition, tokenize
from app.ml.tagger_training import (
    HEADS,
    BatchDone,
    Trained,
    new_taggers,
    prepared_corpus,
    train_side_by_side,
)
from app.trained_cache import TrainedCache

SENTENCE = "Amara Okafor moved to Cape Town ."


@pytest.fixture(scope="module")
def trained() -> Trained:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        result = Trained.untrained(16, 16)
    events = list(result.train(epochs=2, lr=0.02, crf_scale=5, dropout=0.2, batch_size=64,
                               seed=3))
    assert len(events) == 2 * (24 + 1)
    return result


def test_the_record_has_every_batch_and_every_epoch(trained: Trained) -> None:
    assert set(trained.models) == set(HEADS)
    for head in HEADS:
        x, loss = trained.loss[head]
        assert len(x) == len(loss) == 2 * 24  # 1500 sentences in batches of 64
        assert x[0] == pytest.approx(1 / 24) and x[-1] == 2.0
        assert len(trained.f1[head]) == len(trained.invalid[head]) == 2


def test_small_bilstm_crf_reaches_the_f1_goal_without_invalid_transitions(
        trained: Trained) -> None:
    assert trained.f1["crf"][-1] >= 0.90
    assert trained.invalid["crf"][-1] == 0
    assert trained.invalid["softmax"][-1] > trained.invalid["crf"][-1]
    scores, path = viterbi_lattice(trained.models["crf"], trained.vocab, tokenize(SENTENCE))
    tags = [TAGS[i] for i in path]
    assert tags[:2] == ["B-PER", "I-PER"] and tags[4:6] == ["B-LOC", "I-LOC"]
    # The lattice is relative to each token's leader, and the path ends on the last leader.
    assert scores.shape == (7, len(TAGS)) and torch.all(scores.max(dim=1).values == 0)
    assert scores[-1, path[-1]] == 0
    batch = make_batch(trained.vocab, [(tokenize(SENTENCE), [])])
    assert trained.models["crf"].predict(batch)[0] == path
    # Trained.tag, what the demo shows: the same path and lattice, and the softmax argmax.
    tagging = trained.tag(tokenize(SENTENCE))
    assert tagging.ids["crf"] == path and torch.equal(tagging.lattice, scores)
    assert tagging.ids["softmax"] == trained.models["softmax"].predict(batch)[0]
    assert tagging.tags("crf") == tags and tagging.tokens == tokenize(SENTENCE)


def test_trained_transitions_encode_the_bio_grammar(trained: Trained) -> None:
    crf = trained.models["crf"].crf
    scores = crf.transitions.detach()
    forbidden = [scores[i, j] for i, a in enumerate(TAGS) for j, b in enumerate(TAGS)
                 if not allowed_transition(a, b)]
    continuing = [scores[TAGS.index(f"B-{t}"), TAGS.index(f"I-{t}")] for t in TYPES]
    # Every impossible move scores below every entity continuation, and clearly negative.
    assert max(forbidden) < min(continuing)
    assert float(torch.stack(forbidden).mean()) < -1.0
    # An entity cannot start inside: I- tags are the worst first tags.
    starts = crf.start_transitions.detach()
    inside = [starts[TAGS.index(f"I-{t}")] for t in TYPES]
    assert max(inside) < starts[TAGS.index("O")]


def test_side_by_side_training_steps_every_model_then_scores_it_each_epoch() -> None:
    from app.ml.bilstm_tagger import BiLSTMTagger, Vocabulary, make_batch
    from app.ml.ner_data import make_corpus
    from app.ml.tagger_training import (
        BatchDone,
        EpochDone,
        parameter_groups,
        train_side_by_side,
    )

    train, dev = make_corpus(n_train=100, n_dev=20)
    vocab = Vocabulary([tokens for tokens, _ in train])
    torch.manual_seed(0)
    models = {h: BiLSTMTagger(len(vocab), 8, 8, use_crf=h == "crf") for h in ("crf", "softmax")}
    # The 99 CRF scores get crf_scale times the network's step; the softmax head has none.
    groups = parameter_groups(models["crf"], 0.02, 5)
    assert [g["lr"] for g in groups] == [0.02, 0.1]
    assert sum(p.numel() for p in groups[1]["params"]) == 99
    assert len(parameter_groups(models["softmax"], 0.02, 5)) == 1

    events = list(train_side_by_side(
        models, train, vocab, [make_batch(vocab, dev)], [tags for _, tags in dev], epochs=2,
        lr=0.02, crf_scale=5, dropout=0.2, batch_size=64,
        generator=torch.Generator().manual_seed(0)))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["BatchDone", "BatchDone", "EpochDone"] * 2  # 100 sentences: 2 batches
    first, last = events[0], events[-2]
    assert isinstance(first, BatchDone) and isinstance(last, BatchDone)
    assert all(last.losses[h] < first.losses[h] for h in models)
    assert all(isinstance(e, EpochDone) and set(e.f1) == set(models)
               for e in events[2::3])


def test_trained_train_is_train_side_by_side_recorded_and_timed() -> None:
    """One epoch of two 8/8 taggers: the same losses, scores and weights as calling
    train_side_by_side on the prepared corpus and recording each event by hand."""
    train_set, vocab, dev_batches, gold = prepared_corpus()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        by_hand = Trained(vocab, new_taggers(len(vocab), 8, 8))
        torch.manual_seed(5)
        trained = Trained.untrained(8, 8)
    assert trained.vocab is vocab and trained.epochs_done == 0
    for event in train_side_by_side(
            by_hand.models, train_set, vocab, dev_batches, gold, epochs=1, lr=0.02,
            crf_scale=5, dropout=0.2, batch_size=64, generator=torch.Generator().manual_seed(5)):
        by_hand.record(event)
    events = list(trained.train(epochs=1, lr=0.02, crf_scale=5, dropout=0.2, batch_size=64,
                                seed=5))
    assert (trained.loss, trained.f1, trained.invalid) == (by_hand.loss, by_hand.f1,
                                                           by_hand.invalid)
    assert trained.epochs_done == 1 and trained.seconds > 0
    assert events[-1].f1 == {h: trained.f1[h][-1] for h in HEADS}
    for head in HEADS:
        for mine, theirs in zip(trained.models[head].parameters(),
                                by_hand.models[head].parameters(), strict=True):
            assert torch.equal(mine, theirs)


def test_a_training_stopped_early_records_what_it_did_and_no_time() -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        trained = Trained.untrained(8, 8)
    events = trained.train(epochs=1, lr=0.02, crf_scale=5, dropout=0.2, batch_size=64, seed=0)
    first, second = next(events), next(events)
    events.close()  # the caller stops: the student pressed Stop
    assert isinstance(first, BatchDone) and isinstance(second, BatchDone)
    assert [len(trained.loss[h][0]) for h in HEADS] == [2, 2]
    assert trained.epochs_done == 0 and trained.seconds == 0.0


def test_the_cache_keeps_the_most_recently_used_trainings() -> None:
    cache = TrainedCache(size=2)
    a, b, c = (Trained(prepared_corpus()[1], {}) for _ in range(3))
    cache.keep("a", a)
    cache.keep("b", b)
    assert cache.get("a") is a  # "a" is now the most recently used: "b" goes first
    cache.keep("c", c)
    assert cache.get("b") is None and cache.get("a") is a and cache.get("c") is c
    cache.discard("a")
    cache.discard("never kept")
    assert cache.get("a") is None and cache.get("c") is c
    cache.clear()
    assert cache.get("c") is None
    with pytest.raises(ValueError, match="at least 1"):
        TrainedCache(size=0)
