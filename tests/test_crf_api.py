"""The crf-tagger demo over HTTP: its result, its cache of trained models, its 422s."""

from __future__ import annotations

import pytest

from app.demos import crf_tagger

SMALL = {"embedding": 8, "hidden": 8, "epochs": 1, "seed": 11}


@pytest.fixture
def no_trained_models():
    """Start from an empty model cache: other tests train these same small taggers (one
    process shares one cache), and this test is about the first run training them."""
    crf_tagger.TRAINED.clear()


def test_run_answers_scores_and_the_sentence_tags_then_reuses_the_models(client,
                                                                         no_trained_models):
    first = client.post("/api/demos/crf-tagger/run",
                        json={**SMALL, "sentence": "Ada Lovelace visited Paris"})
    assert first.status_code == 200, first.text
    result = first.json()["result"]
    for key in ("dev_f1", "softmax_dev_f1"):
        assert 0.0 <= result[key] <= 1.0
    assert isinstance(result["invalid_crf"], int) and isinstance(result["invalid_softmax"], int)
    assert result["tokens"] == ["Ada", "Lovelace", "visited", "Paris"]
    assert len(result["crf_tags"]) == len(result["softmax_tags"]) == 4

    # Same training params, new sentence: no retraining, same dev scores, new tags.
    second = client.post("/api/demos/crf-tagger/run",
                         json={**SMALL, "sentence": "On Monday , Kofi flew to Oslo ."})
    again = second.json()["result"]
    assert again["cached"] is True and result["cached"] is False
    assert again["dev_f1"] == result["dev_f1"]
    assert again["tokens"] == ["On", "Monday", ",", "Kofi", "flew", "to", "Oslo", "."]


@pytest.mark.parametrize("sentence, words", [
    ("x" * 501, "500"),
    ("   ", "has no visible word"),
    (" ".join(["a"] * 81), "1 to 80 words"),
])
def test_bad_sentences_are_422_naming_the_field(client, sentence, words):
    response = client.post("/api/demos/crf-tagger/run", json={"sentence": sentence})
    assert response.status_code == 422
    assert "sentence" in response.text and words in response.text


def test_out_of_range_sizes_are_refused(client):
    response = client.post("/api/demos/crf-tagger/run", json={"hidden": 49})
    assert response.status_code == 422
    assert "hidden" in response.text and "48" in response.text
