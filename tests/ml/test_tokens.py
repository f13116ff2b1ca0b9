"""The shared tokeniser: one token per word a reader sees, in any script.

Reference: for text made of ASCII letters, digits, spaces and punctuation, the tokens
are exactly NLTK's ``wordpunct_tokenize`` pattern with single punctuation marks
(``\\w+|[^\\w\\s]``); beyond ASCII, the words are checked by hand against what a reader
sees, and properties (nothing visible is lost) are checked by hypothesis.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ml.tokens import tokenize, visible_text


@pytest.mark.parametrize("text, expected", [
    ("café naïve", ["café", "naïve"]),  # the example: was caf, é, na, ï, ve
    ("cafe\u0301 nai\u0308ve", ["café", "naïve"]),  # the same words, typed decomposed
    ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # vowel signs and virama are marks
    ("Grüße aus Köln!", ["Grüße", "aus", "Köln", "!"]),
    ("it's well-known", ["it's", "well-known"]),
    ("ca\u200bt", ["cat"]),  # a zero-width space inside a word is not a word break
    ("soft\u00adhyphen", ["softhyphen"]),
    ("👨\u200d👩\u200d👧 ok", ["👨\u200d👩\u200d👧", "ok"]),  # one emoji, one token
    ("a,b", ["a", ",", "b"]),
])
def test_words_are_what_a_reader_sees(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\u200b\u200d\ufeff\u00ad", "\u3164\u3164",
                                  "\u2060\u202e\n\t", "\x00\x07"])
def test_a_text_of_invisible_characters_has_no_tokens(text):
    assert tokenize(text) == []


def test_lower_keeps_the_word_whole():
    assert tokenize("The CAFÉ", lower=True) == ["the", "café"]


ASCII_TEXT = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S"],
                                            exclude_characters="'-_")
                     | st.sampled_from(" \t\n"), max_size=60)


@given(ASCII_TEXT)
@settings(max_examples=300, deadline=None)
def test_ascii_text_splits_like_nltk_wordpunct(text):
    assert tokenize(text) == re.findall(r"\w+|[^\w\s]", text)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_no_visible_character_is_lost(text):
    """Joined together, the tokens are the visible text without its whitespace."""
    visible = "".join(visible_text(text).split())
    tokens = tokenize(text)
    assert "".join(tokens) == visible
    assert all(token and not token.isspace() for token in tokens)
    assert unicodedata.normalize("NFC", "".join(tokens)) == "".join(tokens)
