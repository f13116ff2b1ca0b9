"""The translation contract: a lesson in lessons/zh/ says what its English source says.

Same headings (and anchors, so links into it work), the same demo fences with the same
presets, the same `source` fences and code, as many exercises and solutions, every
number the English prose quotes, balanced math, the same links; the glossary's words
and none of the ones it says to avoid. And the interface catalogue: every string the
templates, the runtime and the demos show has a translation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app.config import ROOT
from app.demos import registry
from app.i18n import catalogue, catalogue_path, shape_of
from app.i18n_extract import run_texts
from app.lessons import LessonLibrary
from app.markdown import lesson_files
from app.translations import source_hash, translation_path

LESSONS = ROOT / "lessons"
LANG = "zh"
SLUGS = [path.stem for path in lesson_files(LESSONS)]
GLOSSARY = yaml.safe_load((LESSONS / LANG / "glossary.yaml").read_text(encoding="utf-8"))
LIBRARY = LessonLibrary(LESSONS)

_FENCE = re.compile(r"^(`{3,})(.*?)\n(.*?)^\1\s*$", re.M | re.S)
# A number as prose quotes it: 0.984, 1e-5, 7.6, 2.77 (whole numbers are often words).
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?|(?<![\w.])\d+e[-+]?\d+")
_LINK = re.compile(r'href="(/[^"#]*)(#[^"]*)?"')


def _fences(path: Path) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block, in order."""
    text = path.read_text(encoding="utf-8")
    return [(m.group(2).strip(), m.group(3)) for m in _FENCE.finditer(text)]


def _pair(slug: str):
    return LIBRARY.get(slug), LIBRARY.get(slug, LANG)


def test_every_lesson_has_a_translation():
    missing = [slug for slug in SLUGS if not translation_path(LESSONS, slug, LANG).is_file()]
    assert not missing, f"lessons without a {LANG} translation: {missing}"


@pytest.mark.parametrize("slug", SLUGS)
def test_translation_renders_in_its_language(slug):
    english, translated = _pair(slug)
    assert translated.translation in ("translated", "stale")
    assert translated.lang == LANG and translated.title != english.title
    # A reader of the notes reads Chinese: most of the words are Han characters.
    han = len(re.findall(r"[\u4e00-\u9fff]", translated.text))
    assert han > 0.5 * len(re.sub(r"\s", "", translated.text)) * 0.5


@pytest.mark.parametrize("slug", SLUGS)
def test_same_headings_with_the_english_anchors(slug):
    english, translated = _pair(slug)
    assert [(t["level"], t["id"]) for t in translated.toc] == \
        [(t["level"], t["id"]) for t in english.toc]
    path = translation_path(LESSONS, slug, LANG)
    headings = [line for line in path.read_text(encoding="utf-8").splitlines()
                if re.match(r"#{2,3} ", line)]
    unanchored = [h for h in headings if not re.search(r"\{#[\w-]+\}\s*$", h)]
    assert not unanchored, f"headings without their English {{#id}}: {unanchored}"


@pytest.mark.parametrize("slug", SLUGS)
def test_same_demo_fences_and_presets(slug):
    english, translated = _pair(slug)

    def fences(lesson):
        return [(i.id, i.demo, i.presets, i.hide, i.autorun) for i in lesson.instances]

    assert fences(translated) == fences(english)
    # Byte for byte but the :title: and :caption: a reader reads.
    def bodies(path):
        return [re.sub(r"^:(title|caption):.*$", "", body, flags=re.M)
                for info, body in _fences(path) if info.startswith("demo")]

    assert bodies(translation_path(LESSONS, slug, LANG)) == bodies(LESSONS / f"{slug}.md")


@pytest.mark.parametrize("slug", SLUGS)
def test_same_source_fences_and_code(slug):
    def code(path):
        return [(info, body) for info, body in _fences(path) if not info.startswith("demo")]

    assert code(translation_path(LESSONS, slug, LANG)) == code(LESSONS / f"{slug}.md")


@pytest.mark.parametrize("slug", SLUGS)
def test_same_exercises_and_solutions(slug):
    english, translated = _pair(slug)
    assert [e.has_solution for e in translated.exercise_list] == \
        [e.has_solution for e in english.exercise_list]


@pytest.mark.parametrize("slug", SLUGS)
def test_math_balanced_and_numbers_kept(slug):
    english, translated = _pair(slug)
    # An unbalanced $ is left as text; the English prose has as many literal $ (prices).
    assert translated.text.count("$") == english.text.count("$")
    dropped = sorted(set(_DECIMAL.findall(english.text)) - set(_DECIMAL.findall(translated.text)))
    assert not dropped, f"numbers the English states that the translation does not: {dropped}"


@pytest.mark.parametrize("slug", SLUGS)
def test_same_links(slug):
    english, translated = _pair(slug)

    def links(lesson, prefix=""):
        return sorted({(path.removeprefix(prefix) or "/", anchor or "")
                       for path, anchor in _LINK.findall(str(lesson.html))
                       if path.startswith(("/lessons", f"{prefix}/lessons"))})

    assert links(translated, f"/{LANG}") == links(english)
    # ... and lead to the pages in the reader's language.
    assert not re.search(r'href="/lessons/', str(translated.html))


def _avoided() -> dict[str, str]:
    return {word: term["zh"] for term in GLOSSARY.values() if isinstance(term, dict)
            for word in term.get("avoid", [])}


@pytest.mark.parametrize("slug", SLUGS)
def test_glossary_words_avoided(slug):
    text = translation_path(LESSONS, slug, LANG).read_text(encoding="utf-8")
    found = {word: use for word, use in _avoided().items() if word in text}
    assert not found, f"write the glossary's term instead: {found}"


def test_glossary_is_well_formed():
    for english, term in GLOSSARY.items():
        chinese = term["zh"] if isinstance(term, dict) else term
        assert isinstance(english, str) and isinstance(chinese, str) and chinese, english
        assert re.search(r"[\u4e00-\u9fff]", chinese) or chinese[0].isupper(), english


def test_stale_translation_is_noticed(tmp_path):
    """A translation whose English source changed says so; the hash is the file's."""
    (tmp_path / LANG).mkdir()
    english = tmp_path / "kmeans.md"
    english.write_bytes((LESSONS / "kmeans.md").read_bytes())
    translated = translation_path(tmp_path, "kmeans", LANG)
    translated.write_bytes(translation_path(LESSONS, "kmeans", LANG).read_bytes())
    text = translated.read_text(encoding="utf-8")
    translated.write_text(re.sub(r"source_hash: \w+", f"source_hash: {source_hash(english)}",
                                 text), encoding="utf-8")
    library = LessonLibrary(tmp_path)
    assert library.get("kmeans", LANG).translation == "translated"
    english.write_text(english.read_text(encoding="utf-8") + "\nOne more line.\n",
                       encoding="utf-8")
    assert library.get("kmeans", LANG).translation == "stale"


# ---- the interface catalogue -------------------------------------------------------------


def test_catalogue_translates_every_interface_string():
    """Every string Babel finds in templates, app/ and the runtime, and every word a demo
    declares, has a translation (run `python -m app i18n`, then fill the msgstr)."""
    from app.demos import registry
    from app.i18n_demos import declared_texts
    from app.i18n_extract import _source_strings

    translated = catalogue(LANG)
    wanted = {msg if isinstance(msg, str) else msg[0]: f"{file}:{line}"
              for msg, file, line, _ in _source_strings()}
    for demo in registry().values():
        wanted.update({text: demo.slug for text, _ in declared_texts(demo)
                       if any(c.isalpha() for c in text)})
    missing = {text: where for text, where in wanted.items() if text not in translated}
    assert not missing, (f"{len(missing)} strings lack a {LANG} translation in "
                         f"{catalogue_path(LANG).relative_to(ROOT)}: {list(missing.items())[:20]}")


DEMOS = sorted(registry())  # the app's own (tests add theirs later, in fixtures)


@pytest.mark.parametrize("slug", DEMOS)
def test_words_a_demo_draws_are_in_the_catalogue(slug):
    """What the frames of a short default run show (trace names, axis words, metric
    names) is translated, by its exact words or its shape ("restart {0}"). A chip's text
    value may be data (the sentence a beam found), so it is not required."""
    translated = catalogue(LANG)
    texts = {text for text, kind in run_texts(registry()[slug], {}, seconds=0.3)
             if kind in ("chart", "metric") and any(c.isalpha() for c in text)}
    missing = sorted(text for text in texts
                     if text not in translated and shape_of(text)[0] not in translated)
    assert not missing, f"run `python -m app i18n` and translate: {missing}"


def test_catalogue_has_no_avoided_words():
    found = {msgid: text for msgid, text in catalogue(LANG).items()
             if any(word in text for word in _avoided())}
    assert not found, found


def test_catalogue_keeps_placeholders():
    """A translation fills the same {names} and %(names)s its English does."""
    wrong = {}
    for msgid, text in catalogue(LANG).items():
        fields = sorted(re.findall(r"\{\w*\}|%\(\w+\)s", msgid))
        if fields != sorted(re.findall(r"\{\w*\}|%\(\w+\)s", text)):
            wrong[msgid] = text
    assert not wrong, wrong
