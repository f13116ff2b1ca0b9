"""``python -m app i18n``: collect every interface string into the catalogues.

Sources, all in English:

* templates (``_()``, ``{% trans %}``), app/ Python (``_``, ``gettext``, ``t``) and the
  JavaScript runtime (``t()``), by Babel's extractors;
* what each demo declares (app/i18n_demos.declared_texts);
* what each demo's frames draw, from a short run of its defaults and of every lesson's
  presets (numbers become placeholders: "restart {0}");
* lesson tags and levels.

It writes app/locale/messages.pot and merges it into every language's messages.po
(Babel's update: translations kept, new strings empty, vanished ones marked obsolete).
A translator then fills the empty ``msgstr``s; tests/test_translations.py fails while one
is empty.
"""

from __future__ import annotations

import argparse
import io
import math
import time
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from app.config import ROOT
from app.demos import registry
from app.demos.base import Demo, RunContext
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, catalogue_path, shape_of
from app.i18n_demos import declared_texts, metric_words, plotly_texts
from app.params import parse_params

KEYWORDS = {**DEFAULT_KEYWORDS, "t": None, "N_": None}
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("app/**.py", "python"),
           ("static/js/runtime/**.js", "javascript"), ("static/js/site.js", "javascript")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
RUN_SECONDS = 1.0  # of each demo run: its first frames and its final frame (a Stop's)
METRIC = "metric"  # the auto-comment that puts an entry in the runtime's messages


def _source_strings() -> Iterator[tuple[str | tuple[str, ...], str, int, list[str]]]:
    for filename, lineno, message, comments, _ in extract_from_dir(
            ROOT, METHODS, OPTIONS, keywords=KEYWORDS, comment_tags=["Translators:"],
            strip_comment_tags=True):
        if "/vendor/" not in filename:
            yield message, filename, lineno, comments


def run_texts(demo: Demo, presets: dict,
              seconds: float = RUN_SECONDS) -> Iterator[tuple[str, str]]:
    """(text, kind) of what one short run of ``demo`` draws; kind is "chart", "metric"
    (a chip's name), or "value" (a chip's text value) or "tick" (an axis's tick word),
    which may be data such as a sentence the model decoded, different from run to run."""
    params = parse_params(demo, presets)
    generator = demo.run(params, RunContext(deadline=time.monotonic() + seconds))
    for frame in generator:
        for op in (frame.get("charts") or {}).values():
            yield from ((text, "chart") for text in plotly_texts(op))
            ticks = set(plotly_texts(op, ticks=True)) - set(plotly_texts(op))
            yield from ((text, "tick") for text in ticks)
        for key, value in (frame.get("metrics") or {}).items():
            yield metric_words(key, demo.metric_labels), "metric"
            if isinstance(value, str):
                yield value, "value"


def collect(lessons_dir: Path) -> Catalog:
    from app.lessons import LessonLibrary

    catalog = Catalog(project="LiveGrad", fuzzy=False)
    for message, filename, lineno, comments in _source_strings():
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments)
    demos = registry()
    lessons = LessonLibrary(lessons_dir).all()
    for slug, demo in sorted(demos.items()):
        where = f"app/demos/{demo.run.__module__.rsplit('.', 1)[-1]}.py"
        for text, comment in declared_texts(demo):
            _add(catalog, text, where, comment)
        # The defaults run to the end (what a finished run draws) and stopped early (what
        # a Stop or the time budget leaves); each lesson's presets, briefly.
        runs = [({}, math.inf), ({}, RUN_SECONDS)] + [
            (i.presets, RUN_SECONDS) for lesson in lessons for i in lesson.instances
            if i.demo == slug]
        for presets, seconds in runs:
            for text, kind in run_texts(demo, presets, seconds):
                shape, numbers = shape_of(text)
                comment = {"chart": "chart words in frames", "tick": "axis tick words (often "
                           "data: keep a token as itself)"}.get(kind, METRIC)
                _add(catalog, shape if numbers else text, where, comment)
    for lesson in lessons:
        for word in [*lesson.tags, lesson.level]:
            _add(catalog, word, f"lessons/{lesson.slug}.md", "lesson tag or level")
    return catalog


def _add(catalog: Catalog, text: str, where: str, comment: str) -> None:
    if not text or not text.strip() or not any(c.isalpha() for c in text):
        return  # numbers and symbols read the same in every language
    known = catalog.get(text)
    if known is None:
        catalog.add(text, None, [(where, 0)], auto_comments=[comment])
    else:
        if (where, 0) not in known.locations:
            known.locations.append((where, 0))
        if comment not in known.auto_comments:
            known.auto_comments.append(comment)


def write(catalog: Catalog) -> list[Path]:
    """messages.pot, and every language's messages.po brought up to date."""
    written = [LOCALE_DIR / "messages.pot"]
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with written[0].open("wb") as pot:
        write_po(pot, catalog, width=100, sort_by_file=True)
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        path = catalogue_path(lang)
        if path.is_file():
            with path.open("rb") as po:
                translated = read_po(po, locale=lang)
            translated.update(catalog, no_fuzzy_matching=True)
            # A word a longer run draws may be missing from this short one: keep every
            # translated entry (gettext would mark it obsolete and stop using it).
            for msgid, message in list(translated.obsolete.items()):
                if message.string:
                    translated[msgid] = message
            translated.obsolete.clear()
        else:
            translated = Catalog(locale=lang, project="LiveGrad", fuzzy=False)
            translated.update(catalog, no_fuzzy_matching=True)
        for message in translated:  # an entry added by hand may name a file, no line
            message.locations = [(file, line or 0) for file, line in message.locations]
        path.parent.mkdir(parents=True, exist_ok=True)
        text = io.BytesIO()  # written whole or not at all
        write_po(text, translated, width=100, sort_by_file=True, ignore_obsolete=True)
        path.write_bytes(text.getvalue())
        written.append(path)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons",
                        help="the lessons folder whose tags and demo presets to collect")


def main(args: argparse.Namespace) -> int:
    catalog = collect(args.lessons)
    for path in write(catalog):
        print(f"wrote {path.relative_to(ROOT)}")
    for lang in LANGUAGES[1:]:
        with catalogue_path(lang).open("rb") as po:
            missing = sum(1 for m in read_po(po) if m.id and not m.string)
        print(f"{lang}: {len(catalog)} strings, {missing} untranslated")
    return 0
