"""Demos that read a student's text split it where a reader sees words, in any script."""

from __future__ import annotations

import pytest

SMALL_CRF = {"embedding": 8, "hidden": 8, "epochs": 1, "seed": 11}
INVISIBLE = ["\u200b\u200b", " \u200d\ufeff ", "\u00ad", "\u3164", "\u2800\u2800", "\ufff9"]


def test_attention_keeps_accented_words_whole(client):
    response = client.post("/api/demos/attention/run", json={"text": "Café naïve नमस्ते"})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["tokens"] == ["café", "naïve", "नमस्ते"]
    assert len(result["weights"][0]) == 3  # a 3×3 map, not one row per letter piece


def test_crf_tagger_tags_accented_words_whole(client):
    response = client.post("/api/demos/crf-tagger/run",
                           json={**SMALL_CRF, "sentence": "José visited Zürich"})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["tokens"] == ["José", "visited", "Zürich"]


@pytest.mark.parametrize("text", INVISIBLE)
@pytest.mark.parametrize("slug, field", [("attention", "text"), ("crf-tagger", "sentence")])
def test_a_text_of_invisible_characters_is_refused_by_name(client, slug, field, text):
    response = client.post(f"/api/demos/{slug}/run", json={field: text})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["field"] == field
    assert "no visible word" in error["message"]
