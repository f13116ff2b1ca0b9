"""A small seeded BiLSTM-CRF trains to the lesson's goal; the softmax baseline breaks BIO."""

from __future__ import annotations

import torch

from app.demos.base import RunContext
from app.demos.crf_tagger import Params, demo


def run_to_result(params: Params) -> dict:
    generator = demo.run(params, RunContext())
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def test_small_bilstm_crf_reaches_the_f1_goal_without_invalid_transitions() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the CI machine is shared; one thread avoids spin-waiting
    try:
        result = run_to_result(Params(embedding=16, hidden=16, epochs=2, seed=3,
                                      sentence="Amara Okafor moved to Cape Town ."))
    finally:
        torch.set_num_threads(before)
    assert result["dev_f1"] >= 0.90
    assert result["invalid_crf"] == 0
    assert result["invalid_softmax"] > result["invalid_crf"]
    assert result["crf_tags"][:2] == ["B-PER", "I-PER"]
    assert result["crf_tags"][4:6] == ["B-LOC", "I-LOC"]
