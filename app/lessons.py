"""Lessons: load ``<slug>.md`` files, render them once, list, order and search them."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup, escape

from app.controls import render_demo_block
from app.markdown import (
    LessonError,
    build_markdown,
    lesson_files,
    load_yaml,
    plain_text,
    render_markdown,
    table_of_contents,
)

log = logging.getLogger("livegrad.lessons")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
WORDS_PER_MINUTE = 200
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_REQUIRED = ("title", "summary")


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
            "url": f"/lessons/{self.slug}",
        }


def split_front_matter(source: str, name: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(source)
    if not match:
        raise LessonError(f"{name}: missing YAML front matter between --- lines")
    try:
        meta = load_yaml(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LessonError(f"{name}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise LessonError(f"{name}: front matter must be `key: value` lines")
    missing = [key for key in _REQUIRED if not meta.get(key)]
    if missing:
        raise LessonError(f"{name}: front matter lacks {', '.join(missing)}")
    return meta, source[match.end() :]


def parse_lesson(path: Path) -> Lesson:
    """Render one lesson file; raises LessonError on any authoring mistake."""
    slug = path.stem
    if not SLUG_PATTERN.match(slug):
        raise LessonError(f"{path.name}: file names must be lowercase letters, digits and -")
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), path.name)
    md = build_markdown(render_demo_block)
    try:
        html, env, tokens = render_markdown(md, body)
    except LessonError as exc:
        raise LessonError(f"{path.name}: {exc}") from exc
    text = plain_text(tokens)
    minutes = meta.get("minutes") or math.ceil(len(text.split()) / WORDS_PER_MINUTE)
    tags = meta.get("tags") or []
    return Lesson(
        slug=slug,
        title=str(meta["title"]),
        summary=str(meta["summary"]),
        order=int(meta.get("order", 1000)),
        tags=sorted({str(t).strip().lower() for t in tags}),  # "NLP" and "nlp" are one tag
        level=str(meta.get("level", "")),
        minutes=int(minutes),
        html=Markup(html),
        toc=table_of_contents(md, tokens),
        text=text,
        demos=list(dict.fromkeys(env.get("demos", []))),
        exercises=env.get("exercises", 0),
    )


class LessonLibrary:
    """All lessons of a folder, re-read when a file changes (authors see edits at once).

    A lesson with an authoring mistake does not take the site down: it is left out of
    the index and its own page shows the mistake (the contract tests fail on it too).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[Path, tuple[float, Lesson | LessonError]] = {}

    def _load(self, path: Path) -> Lesson | LessonError:
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached is None or cached[0] != mtime:
            try:
                loaded: Lesson | LessonError = parse_lesson(path)
            except LessonError as exc:
                log.error("lesson %s is broken: %s", path.name, exc)
                loaded = exc
            cached = (mtime, loaded)
            self._cache[path] = cached
        return cached[1]

    def all(self) -> list[Lesson]:
        lessons = [self._load(path) for path in lesson_files(self.folder)]
        good = [lesson for lesson in lessons if isinstance(lesson, Lesson)]
        return sorted(good, key=lambda lesson: (lesson.order, lesson.title))

    def get(self, slug: str) -> Lesson | None:
        """The lesson, None if there is none; raises LessonError if it is broken."""
        if not SLUG_PATTERN.match(slug):
            return None
        path = self.folder / f"{slug}.md"
        if not path.is_file():
            return None
        loaded = self._load(path)
        if isinstance(loaded, LessonError):
            raise loaded
        return loaded

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        lessons = self.all()
        index = next(i for i, lesson in enumerate(lessons) if lesson.slug == slug)
        previous = lessons[index - 1] if index > 0 else None
        following = lessons[index + 1] if index + 1 < len(lessons) else None
        return previous, following

    def tags(self) -> list[str]:
        return sorted({tag for lesson in self.all() for tag in lesson.tags})

    def search(self, query: str = "", tag: str = "") -> list[dict[str, Any]]:
        """Lessons matching every word of ``query`` (title or text) and the tag."""
        words = [w for w in query.lower().split() if w]
        hits = []
        for lesson in self.all():
            if tag and tag not in lesson.tags:
                continue
            haystack = f"{lesson.title} {lesson.summary} {' '.join(lesson.tags)} {lesson.text}"
            if all(word in haystack.lower() for word in words):
                hits.append({"lesson": lesson, "snippet": snippet(lesson.text, words)})
        return hits


def snippet(text: str, words: list[str], width: int = 90) -> Markup:
    """A bit of text around the first match, with the matched words marked."""
    if not words:
        return Markup("")
    lowered = text.lower()
    positions = [lowered.find(w) for w in words if lowered.find(w) >= 0]
    if not positions:
        return Markup("")
    start = max(0, min(positions) - width // 2)
    piece = text[start : start + width * 2]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    marked = pattern.sub(lambda m: f"\0{m.group(0)}\1", piece)
    safe = str(escape(marked)).replace("\0", "<mark>").replace("\1", "</mark>")
    return Markup(("…" if start else "") + safe + "…")
