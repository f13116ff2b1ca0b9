"""Token labels on chart axes: short enough to leave the chart its size, never ambiguous,
and whole where the student hovers."""

from __future__ import annotations

import pytest

from app.demos import registry
from app.demos.attention import axis_labels, tokenize
from app.demos.charts import category_axis, short_labels
from tests.helpers import run_to_done

LONG = "pneumonoultramicroscopicsilicovolcanoconiosis" * 6  # 270 letters


def test_short_labels_cut_long_ones_and_keep_them_apart():
    assert short_labels(["cat", "a" * 12, "b" * 13]) == ["cat", "a" * 12, "b" * 11 + "…"]
    # Different words with one beginning are numbered; a repeated word keeps one form.
    assert short_labels(["internationalization", "internationality", "to", "to"]) == [
        "internation…·1", "internation…·2", "to", "to"]
    # Cut between grapheme clusters: the family emoji and the Devanagari syllable stay whole.
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert short_labels([family * 13]) == [family * 11 + "…"]
    assert short_labels(["नमस्ते" * 5]) == ["नमस्ते" * 3 + "नम…"]


def test_an_axis_of_labels_is_a_category_axis_with_whole_labels_in_its_data():
    assert category_axis(["3", "+", "1"]) == {"type": "category"}
    axis = category_axis([LONG, "is"], automargin=True)
    assert axis == {"type": "category", "automargin": True, "tickmode": "array",
                    "tickvals": [LONG, "is"], "ticktext": [LONG[:11] + "…", "is"]}


def test_repeated_words_get_labels_no_token_already_has():
    # The tokeniser keeps "col·lega" whole, so a token may itself read "the·1".
    labels = axis_labels(tokenize("the the the·1"))
    assert len(set(labels)) == 3 and labels[2] == "the·1"


def test_attention_draws_a_very_long_word_with_a_short_tick_and_a_whole_hover():
    # The tester's example: a 270-letter word shrank the big maps to postage stamps.
    frames, result = run_to_done(registry()["attention"], {"text": LONG + " is long"})
    head = frames[-1]["charts"]["head"]
    for axis in ("xaxis", "yaxis"):
        assert head["layout"][axis]["ticktext"] == [LONG[:11] + "…", "is", "long"]
        assert head["layout"][axis]["tickvals"] == [LONG, "is", "long"]
    assert head["data"][0]["x"] == [LONG, "is", "long"]  # what %{x} shows on hover
    assert result["tokens"] == [LONG, "is", "long"]
    output = frames[-1]["charts"]["output"]["layout"]["yaxis"]
    assert max(len(t) for t in output["ticktext"]) == 12


@pytest.mark.parametrize("heads", [1, 2])
def test_small_multiples_name_their_rows_once(heads):
    frames, _ = run_to_done(registry()["attention"], {"text": "1 + 2 = 3", "heads": heads,
                                                       "d_model": 16})
    layout = frames[-1]["charts"]["maps"]["layout"]
    assert layout["yaxis"]["showticklabels"] is True
    if heads == 2:  # the second panel's row names would sit on the first panel
        assert layout["yaxis2"]["showticklabels"] is False
        assert layout["xaxis2"]["showticklabels"] is True


def test_crf_lattice_ticks_are_short_and_its_hover_names_the_whole_word():
    sentence = f"Noor {LONG[:150]} flew"
    frames, result = run_to_done(registry()["crf-tagger"], {
        "embedding": 8, "hidden": 8, "epochs": 1, "seed": 11, "sentence": sentence})
    lattice = frames[-1]["charts"]["lattice"]
    assert lattice["layout"]["xaxis"]["ticktext"] == ["Noor", LONG[:11] + "…", "flew"]
    hover = lattice["data"][0]["customdata"]
    assert hover[0][1] == f"{LONG[:150]} (word 2) as O"
    assert len(hover) == 9 and result["tokens"][1] == LONG[:150]
