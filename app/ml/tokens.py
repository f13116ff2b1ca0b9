"""Words and punctuation from text a person typed: the one tokeniser of every demo.

A token is what a reader sees as one word or one symbol, in any script:

* text is NFC-normalised first, so ``café`` typed as ``e`` + U+0301 (combining acute)
  is the same word as ``café`` typed with the precomposed ``é``;
* a word is a run of Unicode word characters — letters *and* their combining marks
  (Devanagari vowel signs, Arabic harakat), digits, joiners — with inner apostrophes
  or hyphens, or a Catalan middle dot: ``it's``, ``well-known``, ``col·lega``, ``नमस्ते``;
* anything else that is visible is one token per grapheme cluster: ``,``, ``€``, or a
  whole emoji ZWJ sequence such as 👨‍👩‍👧;
* invisible characters (Unicode's Default_Ignorable_Code_Point: zero-width space,
  soft hyphen, byte-order mark, bidi marks, Hangul fillers …; format and control
  characters; noncharacters; blanks such as U+2800) are dropped, so ``ca\\u200bt`` is
  the word ``cat`` and a text made only of them has no tokens at all.

This follows Unicode's word characters (UTS #18, via the ``regex`` package) and
extended grapheme clusters (UAX #29), much as NLTK's ``wordpunct_tokenize`` splits
words from punctuation, but without cutting ``naïve`` at the ``ï``.
"""

from __future__ import annotations

import unicodedata

import regex

# The zero-width joiner and variation selectors stay: they glue emoji sequences (and the
# joiner sits inside Indic and Persian words). Everything else a reader cannot see goes:
# default-ignorable code points, format and control characters (except whitespace and
# the visible "prepended concatenation marks" such as U+0600), unassigned code points
# and noncharacters, lone surrogates, and the blanks that look like nothing (U+2800
# BRAILLE PATTERN BLANK, U+1D159 MUSICAL SYMBOL NULL NOTEHEAD).
_INVISIBLE = regex.compile(
    r"[[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cn}\p{Cs}\u2800\U0001D159]"
    r"--[\u200D\p{Variation_Selector}\p{Prepended_Concatenation_Mark}\s]]", regex.V1)
# What _INVISIBLE keeps for emoji, and text that has no emoji (a grid, a formula) drops.
_EMOJI_GLUE = regex.compile(r"[\u200D\p{Variation_Selector}]+", regex.V1)
# Inner apostrophes, hyphens and the Catalan middle dot (col·lega) join word pieces; a
# prepended mark such as the Arabic number sign U+0600 belongs to the number after it.
_TOKEN = regex.compile(
    r"\p{Prepended_Concatenation_Mark}*\w+(?:['’\-·]\w+)*|(?!\s)\X", regex.V1)
# A token shows something only if it holds a letter, digit, punctuation mark, symbol or
# private-use glyph: joiners, variation selectors or combining marks alone draw nothing.
SHOWS_SOMETHING = regex.compile(r"[\p{L}\p{N}\p{P}\p{S}\p{Co}]", regex.V1)


def visible_text(text: str) -> str:
    """``text`` NFC-normalised, without its invisible characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


def visible_symbols(text: str) -> str:
    """Typed text where no emoji belongs (a grid, numbers, a formula), as the reader sees it:
    :func:`visible_text` without the joiners and variation selectors it keeps for emoji,
    since here they glue nothing."""
    return _EMOJI_GLUE.sub("", visible_text(text))


def tokenize(text: str, lower: bool = False) -> list[str]:
    """Split ``text`` into words and single visible symbols (see the module docstring).

    ``lower=True`` lower-cases the words (``str.lower``, so ``İ`` keeps its dot).
    Returns an empty list for an empty text or one made only of spaces and invisible
    characters; callers turn that into a 422 that says "type at least one word".
    """
    text = visible_text(text)
    if lower:
        text = text.lower()
    return [token for token in _TOKEN.findall(text) if SHOWS_SOMETHING.search(token)]
