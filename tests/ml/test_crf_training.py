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
