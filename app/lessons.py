"""Lessons: load ``<slug>.md`` files, render them once, list, order and search them."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from markupsafe import Markup, escape

from app.controls import render_demo_block
from app.demos import registry
from app.i18n import DEFAULT_LANGUAGE, current_language, lang_path, use_language
from app.markdown import (
    DemoOptions,
    LessonError,
    build_markdown,
    lesson_files,
    load_yaml,
    plain_text,
    render_markdown,
    table_of_contents,
)
from app.markdown_fences import did_you_mean
from app.params import ParamsError, parse_params
from app.translations import check_translation_meta, source_hash, translation_path

log = logging.getLogger("livegrad.lessons")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
WORDS_PER_MINUTE = 200
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_REQUIRED = ("title", "summary")


LINK_VALUE_LIMIT = 2000  # characters of one value in a share link (static/js/runtime/share.js)


@dataclass(frozen=True)
class DemoInstance:
    """One demo fence of a lesson, as its page shows it.

    ``presets`` are the values the page sends (the demo's defaults overridden by the
    fence); ``hide`` the controls the fence hides; ``title``/``caption`` plain text.
    """

    id: str
    demo: str
    title: str
    caption: str | None
    presets: dict[str, Any]
    hide: tuple[str, ...]
    autorun: bool

    def share_url(self, lesson: str, defaults: dict[str, Any]) -> str:
        """A relative link that opens ``lesson`` at this instance with its presets, written
        as the page's Copy link writes them: ``?<id>.<param>=<value>`` for each value that
        differs from the demo's ``defaults`` (lists as JSON text), then ``#demo-<id>``.
        A value longer than LINK_VALUE_LIMIT is left out: the page's own preset holds it."""
        query = []
        for name, value in self.presets.items():
            if value == defaults.get(name):
                continue
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            if len(text) <= LINK_VALUE_LIMIT:
                query.append((f"{self.id}.{name}", text))
        return f"/lessons/{lesson}" + (f"?{urlencode(query)}" if query else "") + \
            f"#demo-{self.id}"


@dataclass(frozen=True)
class Exercise:
    number: int  # 1-based, as the page numbers them
    title: str  # the text after ``:::: exercise`` (inline Markdown), "" if none
    has_solution: bool


def exercises_of(tokens: Sequence[Any]) -> list[Exercise]:
    """The exercises of a parsed lesson (its markdown-it tokens), in page order."""
    found: list[Exercise] = []
    depth, title, solution = 0, "", False
    for token in tokens:
        if token.type == "container_exercise_open":
            if depth == 0:
                title = token.info.strip()[len("exercise"):].strip()
                solution = False
            depth += 1
        elif token.type == "container_solution_open" and depth:
            solution = True
        elif token.type == "container_exercise_close" and depth:
            depth -= 1
            if depth == 0:
                found.append(Exercise(len(found) + 1, title, solution))
    return found


@dataclass
class Lesson:
    slug: str
    title: str
    summary: str
    order: int
    tags: list[str]
    level: str
    minutes: int
    html: Markup
    toc: list[dict[str, Any]]
    text: str
    demos: list[str] = field(default_factory=list)
    exercises: int = 0
    instances: list[DemoInstance] = field(default_factory=list)  # in page order
    exercise_list: list[Exercise] = field(default_factory=list)
    lang: str = "en"  # the language of the page this lesson is rendered for
    # In another language: "translated", "stale" (its English source changed after the
    # translation was written) or "missing" (the English text, with the page's interface).
    translation: str = "translated"
    source_hash: str = ""  # a translation's: the English file it was made from

    def describe(self) -> dict[str, Any]:
        """GET /api/lessons/{slug}: the summary, each demo instance (presets, hidden
        controls, autorun, a share link reproducing it) and each exercise."""
        demos = registry()
        return {
            **self.summary_json(),
            "instances": [
                {"id": i.id, "demo": i.demo, "title": i.title, "caption": i.caption,
                 "presets": i.presets, "hide": list(i.hide), "autorun": i.autorun,
                 "share_url": i.share_url(self.slug, demos[i.demo].defaults())}
                for i in self.instances],
            "exercises": [{"number": e.number, "title": e.title,
                           "has_solution": e.has_solution} for e in self.exercise_list],
        }

    def summary_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "summary": self.summary,
            "order": self.order,
            "tags": self.tags,
            "level": self.level,
            "minutes": self.minutes,
            "demos": self.demos,
            "url": lang_path(f"/lessons/{self.slug}", self.lang),
        }


def split_front_matter(source: str, name: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(source)
    if not match:
        raise LessonError("missing YAML front matter between --- lines (title: and summary: "
                          "at least) at the top of the file", 1)
    try:
        meta = load_yaml(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LessonError(f"front matter is not valid YAML: {exc}",
                          mark.line + 2 if mark else 1) from exc
    if not isinstance(meta, dict):
        raise LessonError("front matter must be `key: value` lines", 2)
    missing = [key for key in _REQUIRED if not meta.get(key)]
    if missing:
        raise LessonError(f"front matter lacks {', '.join(missing)}", 1)
    for key in _REQUIRED:  # a date or a number reads as text; a list or a mapping is a slip
        if isinstance(meta[key], list | dict):
            raise LessonError(f"front matter: {key} is a line of text, not {meta[key]!r}",
                              source[: match.start(1)].count("\n") + 2)
        meta[key] = str(meta[key])
    return meta, source[match.end() :]


def checked_demo_block(slug: str, presets: dict[str, Any], instance: str,
                       options: DemoOptions) -> str:
    """app.controls.render_demo_block, its mistakes naming the preset or option they are
    about (so the fence's line is found) and the nearest valid name."""
    demos = registry()
    demo = demos.get(slug)
    if demo is None:
        raise LessonError(f"demo fence names an unknown demo {slug!r}"
                          f"{did_you_mean(slug, demos)}; the demos are listed at /demos")
    try:
        values = parse_params(demo, presets).model_dump(mode="json")
    except ParamsError as exc:
        first = exc.errors[0]
        field = str(first.get("field", ""))
        given, enum = presets.get(field), first.get("bounds", {}).get("enum")
        if first.get("type") == "extra_forbidden":
            hint = did_you_mean(field, demo.schema().get("properties", {}))
        elif enum and isinstance(given, str):
            hint = did_you_mean(given, [str(value) for value in enum])
        else:
            hint = ""
        raise LessonError(f"demo {slug}: bad preset: {exc}{hint}", key=field or None) from None
    for name in options.hide:
        if name not in values:
            raise LessonError(f"demo {slug}: :hide: names no control {name}"
                              f"{did_you_mean(name, values)} (its controls: {', '.join(values)})",
                              key=":hide:")
    return render_demo_block(slug, presets, instance, options)


EXCERPT_AROUND = 2  # lines quoted before and after a mistake
EXCERPT_MOST = 12  # lines quoted at most (a long fence is cut)


def _locate(error: LessonError, name: str, lines: list[str]) -> LessonError:
    """Fill in the file name and the quoted lines of every problem of ``error``."""
    for problem in error.problems:
        problem.file = name
        if problem.line is None or not lines:
            continue
        first = max(1, problem.line - EXCERPT_AROUND)
        last = max(problem.end_line or 0, problem.line + EXCERPT_AROUND)
        last = min(len(lines), last, first + EXCERPT_MOST - 1)
        problem.excerpt = [(number, lines[number - 1]) for number in range(first, last + 1)]
    return error


def parse_lesson(path: Path, english: Lesson | None = None) -> Lesson:
    """Render one lesson file; raises LessonError on any authoring mistake.

    The error's ``problems`` are every mistake found, each with its line and the
    lines around it quoted. ``english``: the file translates that lesson; it is rendered
    in the current language (app.i18n.use_language).
    """
    name = f"{path.parent.name}/{path.name}" if english else path.name
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # a BOM some editors write
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = LessonError(f"the file is not UTF-8 text (byte {data[exc.start]:#04x}): save it "
                            "as UTF-8", data[: exc.start].count(b"\n") + 1)
        raise _locate(error, name, []) from None
    try:
        return _parse(path, source, english)
    except LessonError as exc:
        raise _locate(exc, name, source.splitlines()) from None


def _front_matter_fields(meta: dict[str, Any], source: str) -> tuple[int, int, list[Any]]:
    """``order`` and ``minutes`` (whole numbers; minutes 0 when not given) and ``tags`` (a
    list), or a LessonError on the line of the key (``tags: nlp`` would be three tags)."""

    def line_of(key: str) -> int:
        found = re.search(rf"^{key}\s*:", source, re.M)
        return source[: found.start()].count("\n") + 1 if found else 1

    numbers = {}
    for key, default in (("order", 1000), ("minutes", 0)):
        value = meta.get(key, default)
        if isinstance(value, float) and value.is_integer():  # 2e0, 1.2e1: whole numbers
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise LessonError(f"front matter: {key} is a whole number, not {value!r}",
                              line_of(key))
        numbers[key] = value
    tags = meta.get("tags") or []
    if not isinstance(tags, list):
        raise LessonError(f"front matter: tags is a list, like tags: [{tags}], not {tags!r}",
                          line_of("tags"))
    return numbers["order"], numbers["minutes"], tags


def _parse(path: Path, source: str, english: Lesson | None = None) -> Lesson:
    """One lesson file; ``english``: the file is its translation (app/translations.py)."""
    slug = english.slug if english else path.stem
    if not SLUG_PATTERN.match(slug):
        better = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-") or "intro"
        raise LessonError(f"file names must be lowercase letters, digits and -, like {better}.md")
    meta, body = split_front_matter(source, path.name)
    if english:
        meta["source_hash"] = check_translation_meta(meta, source)
    # The front matter becomes blank lines: the parser's line numbers are the file's.
    body = "\n" * source[: len(source) - len(body)].count("\n") + body
    instances: list[DemoInstance] = []

    def demo_block(demo: str, presets: dict[str, Any], instance: str,
                   options: DemoOptions) -> str:
        html = checked_demo_block(demo, presets, instance, options)  # raises on a mistake
        values = parse_params(registry()[demo], presets).model_dump(mode="json")
        instances.append(DemoInstance(
            instance, demo, options.title.striptags() if options.title else registry()[demo].title,
            options.caption.striptags() if options.caption else None, values, options.hide,
            options.autorun))
        return html

    md = build_markdown(demo_block)
    html, env, tokens = render_markdown(md, body)
    text = plain_text(tokens)
    if english:  # a translation reads as long and sits where its source does
        order, minutes, tags = english.order, english.minutes, english.tags
        meta = {**meta, "level": english.level}
    else:
        order, minutes, tags = _front_matter_fields(meta, source)
    minutes = minutes or math.ceil(len(text.split()) / WORDS_PER_MINUTE)
    return Lesson(
        slug=slug,
        title=str(meta["title"]),
        summary=str(meta["summary"]),
        order=order,
        tags=sorted({str(t).strip().lower() for t in tags}),  # "NLP" and "nlp" are one tag
        level=str(meta.get("level", "")),
        minutes=int(minutes),
        html=Markup(html),
        toc=table_of_contents(md, tokens),
        text=text,
        demos=list(dict.fromkeys(env.get("demos", []))),
        exercises=env.get("exercises", 0),
        instances=instances,
        exercise_list=exercises_of(tokens),
        lang=current_language(),
        source_hash=str(meta.get("source_hash", "")),
    )


class LessonLibrary:
    """All lessons of a folder, re-read when a file changes (authors see edits at once).

    A lesson with an authoring mistake does not take the site down: the index lists it,
    marked, with its first mistake; its own page shows every mistake with its line; the
    API and the neighbours of other lessons leave it out (the contract tests and
    ``python -m app check`` fail on it too).

    Every method takes the page's language: a lesson in another language is its
    translation (app/translations.py) or, without one, the English text with that
    language's interface (demos, buttons).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[tuple[Path, str], tuple[tuple, Lesson | LessonError]] = {}

    def _load(self, path: Path, lang: str = DEFAULT_LANGUAGE) -> Lesson | LessonError:
        translated = translation_path(self.folder, path.stem, lang)
        has_translation = lang != DEFAULT_LANGUAGE and translated.is_file()
        stamp = (path.stat().st_mtime_ns,
                 translated.stat().st_mtime_ns if has_translation else None)
        cached = self._cache.get((path, lang))
        if cached is None or cached[0] != stamp:
            cached = (stamp, self._parse(path, lang, translated if has_translation else None))
            self._cache[(path, lang)] = cached
        return cached[1]

    def _parse(self, path: Path, lang: str, translated: Path | None) -> Lesson | LessonError:
        english = None if lang == DEFAULT_LANGUAGE else self._load(path)
        if isinstance(english, LessonError):
            return english
        try:
            with use_language(lang):
                if translated is None:
                    lesson = parse_lesson(path)
                    lesson.translation = "translated" if english is None else "missing"
                else:
                    lesson = parse_lesson(translated, english)
                    lesson.translation = ("translated" if lesson.source_hash == source_hash(path)
                                          else "stale")
        except LessonError as exc:
            log.error("lesson %s is broken: %s", (translated or path).name, exc)
            return exc
        return lesson

    def all(self, lang: str = DEFAULT_LANGUAGE) -> list[Lesson]:
        lessons = [self._load(path, lang) for path in lesson_files(self.folder)]
        good = [lesson for lesson in lessons if isinstance(lesson, Lesson)]
        return sorted(good, key=lambda lesson: (lesson.order, lesson.title))

    def broken(self, lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, LessonError]]:
        """(slug, its error) of every lesson with a mistake, by file name."""
        return [(path.stem, loaded) for path in lesson_files(self.folder)
                if isinstance(loaded := self._load(path, lang), LessonError)]

    def get(self, slug: str, lang: str = DEFAULT_LANGUAGE) -> Lesson | None:
        """The lesson, None if there is none; raises LessonError if it is broken."""
        path = self.path_of(slug)
        if path is None:
            return None
        loaded = self._load(path, lang)
        if isinstance(loaded, LessonError):
            raise loaded
        return loaded

    def path_of(self, slug: str, lang: str = DEFAULT_LANGUAGE) -> Path | None:
        """The file of a lesson (of its translation into ``lang``), None if there is none."""
        if not SLUG_PATTERN.match(slug):
            return None
        path = (self.folder / f"{slug}.md" if lang == DEFAULT_LANGUAGE
                else translation_path(self.folder, slug, lang))
        return path if path.is_file() else None

    def version(self, slug: str, lang: str = DEFAULT_LANGUAGE) -> str:
        """A word that changes whenever the lesson's file (or its translation) does ("gone"
        once deleted)."""
        path = self.path_of(slug)
        if path is None:
            return "gone"
        words = []
        for file in (path, self.path_of(slug, lang) if lang != DEFAULT_LANGUAGE else None):
            if file is not None:
                stat = file.stat()
                words.append(f"{stat.st_mtime_ns}-{stat.st_size}")
        return "-".join(words)

    def neighbours(self, slug: str,
                   lang: str = DEFAULT_LANGUAGE) -> tuple[Lesson | None, Lesson | None]:
        lessons = self.all(lang)
        index = next(i for i, lesson in enumerate(lessons) if lesson.slug == slug)
        previous = lessons[index - 1] if index > 0 else None
        following = lessons[index + 1] if index + 1 < len(lessons) else None
        return previous, following

    def tags(self) -> list[str]:
        return sorted({tag for lesson in self.all() for tag in lesson.tags})

    def search(self, query: str = "", tag: str = "",
               lang: str = DEFAULT_LANGUAGE) -> list[dict[str, Any]]:
        """Lessons matching every word of ``query`` (title or text) and the tag (any case).

        A word matches where a word of the lesson starts with it: "grad" finds "gradient",
        "ppo" does not find "suppose". Chinese has no spaces between words, so a Chinese
        word matches anywhere ("梯度" in "梯度裁剪"). In another language, a lesson's
        English title and summary are searched too ("attention" finds 注意力)."""
        words = [w for w in query.lower().split() if w]
        patterns = [word_start(w) for w in words]
        tag = tag.strip().lower()
        english = {lesson.slug: lesson for lesson in self.all()} if lang != DEFAULT_LANGUAGE else {}
        hits = []
        for lesson in self.all(lang):
            if tag and tag not in lesson.tags:
                continue
            source = english.get(lesson.slug)
            also = f" {source.title} {source.summary}" if source else ""
            haystack = (f"{lesson.title} {lesson.summary} {' '.join(lesson.tags)}{also} "
                        f"{lesson.text}")
            if all(p.search(haystack) for p in patterns):
                hits.append({"lesson": lesson, "snippet": snippet(lesson.text, words)})
        return hits


# Han characters (and CJK punctuation): words are not separated by spaces there.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f]")


def word_start(word: str) -> re.Pattern[str]:
    """``word`` where a word starts (or anywhere, if it does not itself start with a
    letter or digit: "$x" or "-grams"), in any case."""
    edge = r"(?<!\w)" if re.match(r"\w", word) and not _CJK.match(word) else ""
    return re.compile(edge + re.escape(word), re.IGNORECASE)


def snippet(text: str, words: list[str], width: int = 90) -> Markup:
    """A bit of text around the first match, with the matched words marked."""
    if not words:
        return Markup("")
    found = [m.start() for m in (word_start(w).search(text) for w in words) if m]
    if not found:
        return Markup("")
    start = max(0, min(found) - width // 2)
    piece = text[start : start + width * 2]
    pattern = re.compile("|".join(word_start(w).pattern for w in words), re.IGNORECASE)
    marked = pattern.sub(lambda m: f"\0{m.group(0)}\1", piece)
    safe = str(escape(marked)).replace("\0", "<mark>").replace("\1", "</mark>")
    return Markup(("…" if start else "") + safe + "…")


CHANGE_POLL_SECONDS = 0.5  # how often a watched lesson file is looked at (one stat call)
CHANGE_WAIT_SECONDS = 30.0  # a stream then ends; the browser's EventSource reconnects


async def change_events(library: LessonLibrary, slug: str, since: str,
                        poll: float | None = None, wait: float | None = None,
                        lang: str = DEFAULT_LANGUAGE) -> AsyncIterator[str]:
    """Server-sent events for live reload: ``changed`` (data: the new version) as soon as
    the lesson's file is not at version ``since``; a comment if ``wait`` seconds pass.

    One ``stat`` of one file every ``poll`` seconds (CHANGE_POLL_SECONDS) per open page.
    """
    poll = CHANGE_POLL_SECONDS if poll is None else poll
    wait = CHANGE_WAIT_SECONDS if wait is None else wait
    yield "retry: 1000\n\n"
    for _ in range(max(1, math.ceil(wait / poll))):
        now = library.version(slug, lang)
        if now != since:
            yield f"event: changed\ndata: {now}\n\n"
            return
        await asyncio.sleep(poll)
    yield ": unchanged\n\n"
