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

from app.ml.tokens import SHOWS_SOMETHING, tokenize, visible_symbols, visible_text


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
    ("col·lega", ["col·lega"]),  # Catalan's middle dot sits inside one word
    ("\u0600\u0661\u0662", ["\u0600\u0661\u0662"]),  # a visible Arabic number sign
])
def test_words_are_what_a_reader_sees(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "\u200b", "\u200b\u200d\ufeff\u00ad", "\u3164\u3164", "\u2060\u202e\n\t",
    "\x00\x07",
    "\u2800\u2800",  # Braille blank: the usual pasted "invisible character"
    "\ufff9\ufffa\ufffb", "\U00013430", "\U00016fe4", "\U0001d159",  # format, filler, null
    "\uffff\ufdd0", "\ud83d",  # noncharacters, a lone surrogate
    "\u0301\ufe0f",  # a combining mark and a variation selector with nothing to sit on
])
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
    """Every character that draws something is in a token, in order; every token draws."""
    def drawn(chars: str) -> list[str]:
        return [c for c in chars if SHOWS_SOMETHING.match(c)]

    tokens = tokenize(text)
    assert drawn("".join(tokens)) == drawn(visible_text(text))
    assert all(SHOWS_SOMETHING.search(token) for token in tokens)
    assert unicodedata.normalize("NFC", "".join(tokens)) == "".join(tokens)


def test_text_without_emoji_drops_the_glue_emoji_keep():
    assert visible_symbols("S.\u200b.\u200dG\ufe0f") == "S..G"
    assert visible_text("S.\u200b.\u200dG\ufe0f") == "S..\u200dG\ufe0f"
