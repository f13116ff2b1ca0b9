"""What the chips and the timeline show at the end of a run agrees with the run's settings
(found by the lessons' reviewers): the n-gram demo's ``n`` is the model's own order, a
label such as ``</s>`` is drawn rather than read as markup, the last frame's step is the
last training step, and the RNN's first-step gradient ratio keeps a chip of its own."""

from __future__ import annotations

import pytest

from app.demos import registry
from tests.helpers import run_to_done


def test_the_ngram_chip_ends_on_the_chosen_n_not_the_last_curve():
    frames, _ = run_to_done(registry()["ngram"], {"n": 2})
    shown = [f["metrics"]["n"] for f in frames if "n" in f["metrics"]]
    assert shown[:4] == [1, 2, 3, 4] and shown[-1] == 2


def test_end_of_sentence_is_a_label_plotly_draws_not_markup():
    frames, result = run_to_done(registry()["ngram"], {"n": 3, "context": "paris speak"})
    assert "</s>" in result["next_words"]
    (labels,) = [op["data"][0]["y"] for f in frames for op in [f["charts"].get("next")] if op]
    assert "&lt;/s&gt;" in labels and "</s>" not in labels


@pytest.mark.parametrize(("slug", "values", "last_step"), [
    ("seq2seq", {"steps": 20, "seed": 1}, 20),
    ("word2vec", {"epochs": 1, "dim": 10, "seed": 1}, None),
    ("crf-tagger", {"epochs": 1, "seed": 3}, None),  # it said "step 1000000"
])
def test_the_last_frame_is_numbered_after_the_training_it_shows(slug, values, last_step):
    frames, _ = run_to_done(registry()[slug], values)
    steps = [f["step"] for f in frames]
    if last_step is not None:
        assert steps[-1] == last_step
    else:  # the last training step, or the one after it
        assert max(steps[:-1]) <= steps[-1] <= max(steps[:-1]) + 1
    assert steps[-1] < 10_000


def test_the_first_steps_gradient_ratio_keeps_its_own_chip():
    frames, result = run_to_done(registry()["rnn-memory"],
                                 {"cell": "lstm", "T": 10, "hidden": 8, "steps": 10})
    kept = [(f["step"], f["metrics"]["first_to_last_at_step_1"]) for f in frames
            if "first_to_last_at_step_1" in f["metrics"]]
    assert kept == [(1, pytest.approx(result["first_to_last_ratio"]))]
