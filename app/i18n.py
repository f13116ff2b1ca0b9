"""Languages: which one a request wants, and the interface's words in it.

English is the source language: every string in templates, the JavaScript runtime and the
demos is written in English, and ``app/locale/<lang>/LC_MESSAGES/messages.po`` (a gettext
catalogue, read with Babel) gives its translation. ``python -m app i18n`` (app/i18n_extract.py)
collects the strings into the catalogue; tests/test_translations.py fails on one left
untranslated.

The language of the code running now is a context variable, set by :func:`use_language`
around a page render, a lesson parse or a stream, so deep helpers (a chart title, a
control label) translate without a language argument threaded through every call.

Strings a demo builds at run time ("restart 3", "β = 0.5") are looked up by *shape*:
each number becomes a numbered placeholder ("restart {0}"), so one catalogue entry
translates every restart; the numbers go back in unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh")  # English first: the source, and the fallback
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}  # each in itself, as a switch shows it
HTML_LANG = {"en": "en", "zh": "zh-Hans"}  # <html lang>: simplified Chinese script
LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "livegrad_lang"

_active: ContextVar[str] = ContextVar("livegrad_language", default=DEFAULT_LANGUAGE)

# A number as a demo writes it into a string: 3, -0.5, 1e-05, 2.5e+03.
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?|inf|nan)(?![\w.])")


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Translate into ``lang`` inside the block (any thread or task: a context variable)."""
    token = _active.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _active.reset(token)


def current_language() -> str:
    return _active.get()


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@functools.cache
def _entries(lang: str) -> tuple[tuple[str, str, bool], ...]:
    """(msgid, msgstr, used by the JavaScript runtime) of every translated, non-fuzzy entry."""
    path = catalogue_path(lang)
    if lang == DEFAULT_LANGUAGE or not path.is_file():
        return ()
    with path.open("rb") as po:
        messages = read_po(po)
    entries = []
    for m in messages:
        in_js = any(str(f).startswith("static/js") for f, _ in m.locations) or any(
            "metric" in c for c in m.auto_comments)
        # A plural entry (ngettext): Chinese has one form, for the singular and plural id.
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        text = m.string[0] if isinstance(m.string, tuple) else m.string
        if m.fuzzy or not text or not all(ids):
            continue
        entries.extend((msgid, text, in_js) for msgid in ids)
    return tuple(entries)


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → msgstr of ``lang``'s catalogue: translated, non-fuzzy entries only."""
    return {msgid: text for msgid, text, _ in _entries(lang)}


@functools.cache
def js_messages(lang: str) -> dict[str, str]:
    """The entries the JavaScript runtime shows (static/js/runtime/i18n.js reads them)."""
    return {msgid: text for msgid, text, in_js in _entries(lang) if in_js}


@functools.cache
def _shapes(lang: str) -> dict[str, str]:
    """The catalogue's entries whose msgid holds numbered placeholders ({0}, {1}, ...)."""
    return {msgid: text for msgid, text in catalogue(lang).items() if "{0}" in msgid}


def shape_of(text: str) -> tuple[str, list[str]]:
    """``"restart 3 of 5"`` → ``("restart {0} of {1}", ["3", "5"])``."""
    numbers: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        numbers.append(match.group(0))
        return "{" + str(len(numbers) - 1) + "}"

    return _NUMBER.sub(placeholder, text), numbers


def gettext(message: str) -> str:
    """``message`` in the current language; itself when untranslated (or in English)."""
    lang = _active.get()
    if lang == DEFAULT_LANGUAGE or not message:
        return message
    return catalogue(lang).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Chinese has one form; English chooses by ``n`` (Jinja's {% pluralize %})."""
    return gettext(singular if n == 1 else plural)


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Marks ``message`` for the catalogue where it is written, translated where shown."""
    return message


# The tooltip of the switch to each language (in the page's language).
SWITCH_TITLES = {"en": N_("Read this page in English"), "zh": N_("Read this page in Chinese")}


def t(message: str, **values: Any) -> str:
    """``message`` translated, then its ``{name}`` fields filled: t("{n} points", n=3)."""
    return gettext(message).format(**values)


def translate_text(text: str) -> str:
    """A string a demo wrote (a trace name, an axis title, a metric value): its exact
    translation, else its shape's ("restart {0}") with the numbers put back; else itself."""
    lang = _active.get()
    if lang == DEFAULT_LANGUAGE or not isinstance(text, str) or not text.strip():
        return text
    exact = catalogue(lang).get(text)
    if exact is not None:
        return exact
    shape, numbers = shape_of(text)
    found = _shapes(lang).get(shape) if numbers else None
    return found.format(*numbers) if found is not None else text


def negotiate(accept_language: str) -> str | None:
    """The first of LANGUAGES an ``Accept-Language`` header prefers, None if none.

    ``zh-CN,zh;q=0.9,en;q=0.8`` → "zh"; ``en-US,en`` → "en"; ``fr`` → None.
    Quality values order the header as RFC 9110 says; Babel matches the tags."""
    wanted = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([^\s;,]*)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
            if not 0 <= quality <= 1:  # RFC 9110: a weight is 0 to 1; anything else is noise
                continue
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(wanted):
        if tag == "*":
            return DEFAULT_LANGUAGE
        try:
            language = Locale.parse(tag.replace("_", "-"), sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LANGUAGES:
            return language
    return None


def lang_path(path: str, lang: str) -> str:
    """A site path in ``lang``: "/lessons/rnn" → "/zh/lessons/rnn" (English: unprefixed)."""
    bare = strip_prefix(path)[1]
    return bare if lang == DEFAULT_LANGUAGE else f"/{lang}{bare}"


def strip_prefix(path: str) -> tuple[str | None, str]:
    """("zh", "/lessons/rnn") for "/zh/lessons/rnn"; (None, path) without a prefix."""
    for lang in LANGUAGES:
        if path == f"/{lang}" or path.startswith(f"/{lang}/"):
            return lang, path[len(lang) + 1 :] or "/"
    return None, path
