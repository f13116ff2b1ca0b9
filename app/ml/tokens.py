"""Words and punctuation from text a person typed: the one tokeniser of every demo.

A token is what a reader sees as one word or one symbol, in any script:

* text is NFC-normalised first, so ``café`` typed as ``e`` + U+0301 (combining acute)
  is the same word as ``café`` typed with the precomposed ``é``;
* a word is a run of Unicode word characters — letters *and* their combining marks
  (Devanagari vowel signs, Arabic harakat), digits, joiners — with inner apostrophes
  or hyphens: ``it's``, ``well-known``, ``naïve``, ``नमस्ते``;
* anything else that is visible is one token per grapheme cluster: ``,``, ``€``, or a
  whole emoji ZWJ sequence such as 👨‍👩‍👧;
* invisible characters (Unicode's Default_Ignorable_Code_Point: zero-width space,
  soft hyphen, byte-order mark, bidi marks, Hangul fillers …) and control characters
  are dropped, so ``ca\\u200bt`` is the word ``cat`` and a text made only of them has no
  tokens at all.

This follows Unicode's word characters (UTS #18, via the ``regex`` package) and
extended grapheme clusters (UAX #29), much as NLTK's ``wordpunct_tokenize`` splits
words from punctuation, but without cutting ``naïve`` at the ``ï``.
"""

from __future__ import annotations

import unicodedata

import regex

# The zero-width joiner and variation selectors stay: they glue emoji sequences (and the
# joiner sits inside Indic and Persian words). Every other default-ignorable code point,
# and every control character that is not whitespace, is invisible and goes.
_INVISIBLE = regex.compile(
    r"[[\p{Default_Ignorable_Code_Point}\p{Cc}]--[\u200D\p{Variation_Selector}\s]]", regex.V1)
_TOKEN = regex.compile(r"\w+(?:['’\-]\w+)*|(?!\s)\X", regex.V1)
_ONLY_GLUE = regex.compile(r"[\u200D\p{Variation_Selector}]+", regex.V1)


def visible_text(text: str) -> str:
    """``text`` NFC-normalised, without its invisible characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


def tokenize(text: str, lower: bool = False) -> list[str]:
    """Split ``text`` into words and single visible symbols (see the module docstring).

    ``lower=True`` lower-cases the words (``str.lower``, so ``İ`` keeps its dot).
    Returns an empty list for an empty text or one made only of spaces and invisible
    characters; callers turn that into a 422 that says "type at least one word".
    """
    text = visible_text(text)
    if lower:
        text = text.lower()
    return [token for token in _TOKEN.findall(text) if not _ONLY_GLUE.fullmatch(token)]
