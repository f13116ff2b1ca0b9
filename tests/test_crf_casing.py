"""The crf-tagger demo says why a lower-case sentence tags every word O: the training
sentences always capitalise names, so a capital is what both taggers learned a name by."""

from __future__ import annotations

import pytest

from app.demos import crf_tagger
from app.demos.base import RunContext
from app.demos.crf_tagger import casing_note
from app.params import parse_params

LOWER = "we met amara in lagos"
CAPITALISED = "we met Amara in Lagos"


def run(sentence: str) -> tuple[dict, dict]:
    """The default demo's last frame's metrics and its result (models trained once, cached)."""
    demo = crf_tagger.demo
    generator = demo.run(parse_params(demo, {"sentence": sentence}), RunContext())
    frames = []
    while True:
        try:
            frames.append(next(generator))
        except StopIteration as stop:
            return frames[-1]["metrics"], stop.value


@pytest.mark.parametrize(("sentence", "noted"), [
    (LOWER, True),
    ("Yesterday we flew home", True),  # every sentence's first word is capitalised
    ("lisbon", True),
    (CAPITALISED, False),
    ("yesterday noor Okonkwo flew home", False),
])
def test_a_note_when_no_word_after_the_first_is_capitalised(sentence, noted):
    assert (casing_note(sentence.split()) is not None) == noted


def test_a_lower_case_sentence_is_tagged_all_o_and_the_demo_says_why():
    metrics, result = run(LOWER)
    assert result["crf_tags"] == result["softmax_tags"] == ["O"] * 5  # what the note explains
    assert "training sentences always capitalise names" in result["note"]
    assert metrics["note"] == result["note"]

    metrics, result = run(CAPITALISED)
    assert result["cached"] is True  # the same models, the sentence alone changed
    assert result["note"] is None and "note" not in metrics
    assert "B-PER" in result["crf_tags"]  # capitalised, the name is found
