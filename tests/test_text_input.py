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


# ---- number and grid fields drop invisible characters too ----------------------------


@pytest.mark.parametrize("grid", ["\ufeffS..G", "S.\u200b.G", "S..G\u2060", "S.\u00ad.G"])
def test_a_pasted_grid_with_invisible_characters_is_the_grid_one_sees(client, grid):
    # Before: 422 "unknown cell '\u200b'" for a grid that reads S..G on screen.
    response = client.post("/api/demos/gridworld/run", json={"grid": grid, "step_reward": 0})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["values"] == [0.81, 0.9, 1.0, 0.0]  # γ = 0.9 from G


@pytest.mark.parametrize(("field", "text"), [("rewards", "1\u200b,2"), ("rewards", "\ufeff1, 2"),
                                             ("values", "1,\u200b1")])
def test_pasted_numbers_with_invisible_characters_are_the_numbers_one_sees(client, field, text):
    # Before: 422 "item 1 ('1\u200b') is not a number".
    body = {"rewards": "1, 2", "values": "1, 1", "gamma": 0.5, "lam": 1.0} | {field: text}
    response = client.post("/api/demos/gae/run", json=body)
    assert response.status_code == 200, response.text
    # A_1 = 2 - 1 = 1 (the episode ends), A_0 = 1 + 0.5 * 2 - 1 = 1
    assert response.json()["result"]["advantages"] == [1.0, 1.0]


@pytest.mark.parametrize("text", INVISIBLE)
@pytest.mark.parametrize(("slug", "field", "words"), [
    ("gridworld", "grid", "no visible cell"), ("gae", "rewards", "no visible number"),
    ("gae", "values", "no visible number")])
def test_a_number_or_grid_field_of_invisible_characters_is_refused_by_name(
        client, slug, field, words, text):
    response = client.post(f"/api/demos/{slug}/run", json={field: text})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["field"] == field
    assert words in error["message"]
