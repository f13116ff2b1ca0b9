"""Checking what a lesson says a demo shows, by running the demo.

Each test in this folder names the sentence it checks with :func:`lesson_says`, so an
author who edits that sentence sees the test that holds it fail and comes here; and it
runs the demo with the lesson's own settings (:func:`fence`) plus the change the
sentence asks for, then asserts a direction or a bound over stated seeds.

Runs go through ``Demo.run`` in the test process, with no time budget: the same
frames a student's browser receives, without the server around them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from app.config import ROOT
from app.demos import registry
from app.lessons import split_front_matter
from app.markdown import load_yaml
from app.markdown_fences import instance_ids, parse_demo_fence
from tests.helpers import run_to_done

LESSONS = ROOT / "lessons"


@functools.cache
def lesson_source(slug: str) -> str:
    """The lesson's Markdown body (front matter removed)."""
    path = LESSONS / f"{slug}.md"
    return split_front_matter(path.read_text(encoding="utf-8"), path.name)[1]


def _words(text: str) -> str:
    # Line breaks and emphasis are layout, not content: compare the words.
    return " ".join(re.sub(r"[*_]", "", text).split())


def lesson_says(slug: str, sentence: str) -> None:
    """Fail unless the lesson still contains ``sentence`` (whitespace and * _ ignored).

    Call it first in each claim test: when an author rewrites the sentence, the test
    that checks it fails here, and the author updates both together.
    """
    assert _words(sentence) in _words(lesson_source(slug)), (
        f"lessons/{slug}.md no longer says {sentence!r}: if you changed that sentence, "
        "change this test to check what it says now"
    )


@functools.cache
def instances(slug: str) -> tuple[tuple[str, str, dict[str, Any]], ...]:
    """Every ``demo`` fence of a lesson, in order: (demo slug, instance id, its presets)."""
    tokens = MarkdownIt("commonmark").parse(lesson_source(slug))
    parsed = [parse_demo_fence(token.info.strip().partition(" ")[2].strip(), token.content)
              for token in tokens
              if token.type == "fence" and token.info.strip().partition(" ")[0] == "demo"]
    return tuple((fence.slug, instance, load_yaml(fence.presets_text) or {})
                 for fence, instance in zip(parsed, instance_ids(parsed), strict=True))


def fences(slug: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Every ``demo`` fence of a lesson, in order: (demo slug, its presets); read-only."""
    return tuple((demo, presets) for demo, _, presets in instances(slug))


def fence(slug: str, demo: str, which: int | str = 1) -> dict[str, Any]:
    """The presets of a ``demo`` fence in lesson ``slug``: the one whose ``:id:`` is
    ``which``, or the ``which``-th (1-based) of a demo the lesson shows once."""
    if isinstance(which, str):
        matching = [p for name, instance, p in instances(slug) if (name, instance) == (demo, which)]
        assert matching, f"lessons/{slug}.md has no {demo} fence with :id: {which}"
        return dict(matching[0])
    matching = [presets for name, presets in fences(slug) if name == demo]
    assert len(matching) >= which, f"lessons/{slug}.md has {len(matching)} {demo} fences"
    return dict(matching[which - 1])


@dataclass
class Run:
    """One finished run: every frame in order and the returned result."""

    frames: list[dict[str, Any]]
    result: dict[str, Any]

    def metric(self, name: str) -> list[Any]:
        """The value of metric ``name`` in every frame that reports it, in order."""
        return [f["metrics"][name] for f in self.frames if name in f.get("metrics", {})]

    def last_op(self, chart: str) -> dict[str, Any]:
        """The last op sent for ``chart`` (a figure or an extend)."""
        ops = self.ops(chart)
        assert ops, f"the run never drew chart {chart!r}"
        return ops[-1]

    def ops(self, chart: str) -> list[dict[str, Any]]:
        """Every op sent for ``chart``, in order."""
        return [f["charts"][chart] for f in self.frames if chart in f.get("charts", {})]


def run_demo(demo: str, params: dict[str, Any]) -> Run:
    """Run demo ``demo`` to its end with its defaults overridden by ``params``."""
    frames, result = run_to_done(registry()[demo], {**registry()[demo].defaults(), **params})
    return Run(frames, result)
