"""A small seeded BiLSTM-CRF trains to the lesson's goal; the softmax baseline breaks BIO."""

from __future__ import annotations

import torch

from app.demos import crf_tagger
from app.demos.base import RunContext
from app.demos.crf_tagger import Params, demo
from app.ml.ner_data import TAGS, TYPES, allowed_transition


def run_to_result(params: Params) -> dict:
    generator = demo.run(params, RunContext())
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def test_small_bilstm_crf_reaches_the_f1_goal_without_invalid_transitions() -> None:
    result = run_to_result(Params(embedding=16, hidden=16, epochs=2, seed=3,
                                  sentence="Amara Okafor moved to Cape Town ."))
    assert result["dev_f1"] >= 0.90
    assert result["invalid_crf"] == 0
    assert result["invalid_softmax"] > result["invalid_crf"]
    assert result["crf_tags"][:2] == ["B-PER", "I-PER"]
    assert result["crf_tags"][4:6] == ["B-LOC", "I-LOC"]


def test_trained_transitions_encode_the_bio_grammar() -> None:
    params = Params(embedding=16, hidden=16, epochs=2, seed=3,
                    sentence="Amara Okafor moved to Cape Town .")
    run_to_result(params)  # cached by the test above when run in the same session
    trained = crf_tagger._CACHE[params.training_key()]
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
