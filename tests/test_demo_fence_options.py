"""Issue 16, interaction first: what a demo fence's option lines do to the page, ids that
stay put when a demo is inserted above, the gallery, and source listings that fold and
do not repeat what the lesson showed above."""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

import pytest

from app.config import ROOT
from app.lessons import parse_lesson
from app.markdown import LessonError
from app.markdown_fences import FOLD_LINES

TWO_MOONS = """\
```demo kmeans
:id: two-moons
:title: Two moons
:caption: k-means draws a straight border, so it cuts each moon in *two*.
:hide: n_points, init
:autorun: false
dataset: moons
k: 2
```
"""


def render(folder: Path, body: str) -> str:
    path = folder / "lesson.md"
    path.write_text(f"---\ntitle: T\nsummary: S.\n---\n\n{textwrap.dedent(body)}", encoding="utf-8")
    return str(parse_lesson(path).html)


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="demo[^"]*".*?</section>', page, re.S)


def instances(page: str) -> list[str]:
    return re.findall(r'data-instance="([^"]+)"', page)


def presets(section: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-presets="([^"]*)"', section).group(1)))


def hidden_controls(section: str) -> list[str]:
    return re.findall(r'<div class="control[^"]*"[^>]* data-lesson-hidden>\s*.*?name="([^"]+)"',
                      section, re.S)


def test_options_title_caption_hide_and_autorun_shape_the_instance(lessons_dir):
    (section,) = sections(render(lessons_dir, TWO_MOONS))
    assert 'id="demo-two-moons"' in section and 'data-instance="two-moons"' in section
    title = re.search(r'<h3 class="demo-title"[^>]*>(.*?)</h3>', section).group(1)
    assert title == "Two moons"
    # The demo's own title stays on the card, smaller, above the instance's title.
    assert 'class="demo-name"> · k-means, one Lloyd iteration at a time</span>' in section
    assert ('<p class="demo-caption">k-means draws a straight border, so it cuts each moon in '
            "<em>two</em>.</p>") in section
    assert hidden_controls(section) == ["n_points", "init"]
    # Hidden controls still send the instance's values.
    assert presets(section)["dataset"] == "moons" and presets(section)["n_points"] == 300
    assert 'data-autorun="false"' in section


def test_without_options_a_demo_is_as_before(lessons_dir):
    (section,) = sections(render(lessons_dir, "```demo kmeans\nk: 2\n```\n"))
    assert instances(section) == ["kmeans"]
    assert "data-autorun" not in section and "data-lesson-hidden" not in section
    assert '<p class="demo-description">' in section and "demo-caption" not in section


def test_inserting_a_demo_above_renames_no_instance(lessons_dir):
    before = instances(render(lessons_dir, TWO_MOONS + "\n```demo attention\nheads: 2\n```\n"))
    after = instances(render(lessons_dir, "```demo kmeans\n:id: hook\nk: 3\n```\n\n"
                             + TWO_MOONS + "\n```demo attention\nheads: 2\n```\n"))
    assert before == ["two-moons", "attention"]
    assert after == ["hook", "two-moons", "attention"]


@pytest.mark.parametrize(("body", "message"), [
    ("```demo kmeans\nk: 2\n```\n\n```demo kmeans\nk: 3\n```\n",
     "demo kmeans appears 2 times in this lesson: give each instance an `:id: <name>`"),
    ("```demo kmeans\n:id: a\nk: 2\n```\n\n```demo kmeans\nk: 3\n```\n", "appears 2 times"),
    ("```demo kmeans\n:id: same\n```\n\n```demo attention\n:id: same\n```\n",
     "the instance id 'same' is already taken"),
    ("```demo kmeans\n:id: attention\n```\n\n```demo attention\n```\n",
     "the instance id 'attention' is already taken"),
    ("```demo kmeans\n:id: Two_Moons\n```\n", "must be lower-case words joined by hyphens"),
    ("```demo kmeans\n:colour: red\n```\n", "unknown option :colour:"),
    ("```demo kmeans\n:title: A\n:title: B\n```\n", "option :title: given twice"),
    ("```demo kmeans\n:caption:\n```\n", "option :caption: needs a value"),
    ("```demo kmeans\n:autorun: no\n```\n", ":autorun: is true or false, not 'no'"),
    ("```demo kmeans\n:hide: k, n_pionts\n```\n", ":hide: names no control n_pionts"),
    ("::: gallery\nSome words.\n\n```demo kmeans\n```\n:::\n", "a ::: gallery holds demo fences"),
])
def test_authoring_mistakes_in_options_are_lesson_errors(lessons_dir, body, message):
    with pytest.raises(LessonError, match=re.escape(message)):
        render(lessons_dir, body)


def test_a_gallery_puts_instances_side_by_side_with_their_controls_folded(lessons_dir):
    page = render(lessons_dir, """
        ::: gallery
        ```demo kmeans
        :id: moons
        :title: Moons
        dataset: moons
        ```

        ```demo kmeans
        :id: circles
        :title: Circles
        dataset: circles
        ```
        :::

        ```demo kmeans
        :id: alone
        ```
        """)
    moons, circles, alone = sections(page)
    # The gallery opens before the first instance and closes between the second and the third.
    before, inside = page.split('<div class="demo-gallery">')
    assert instances(before) == [] and instances(inside) == ["moons", "circles", "alone"]
    between = inside[inside.index(circles) + len(circles) : inside.index(alone)]
    assert between.strip() == "</div>"
    for compact in (moons, circles):
        assert 'class="demo demo-compact"' in compact
        assert re.search(r'<details class="demo-controls-fold"><summary>Controls</summary>\s*'
                         r'<form class="demo-controls"', compact)
    assert "demo-compact" not in alone and "demo-controls-fold" not in alone


def source_figures(page: str) -> list[str]:
    return re.findall(r'<figure class="source">.*?</figure>', page, re.S)


def test_a_long_listing_folds_and_every_listing_has_a_copy_button(lessons_dir):
    short, long = source_figures(render(lessons_dir, """
        ```source app/ml/kmeans.py:assign_to_nearest
        ```

        ```source app/ml/kmeans.py:Restarts
        ```
        """))
    for figure in (short, long):
        assert '<button type="button" class="small quiet copy-code" data-copy-code' in figure
    assert "<details" not in short
    lines = int(re.search(r"lines (\d+)–(\d+)", long).group(2)) - int(
        re.search(r"lines (\d+)–", long).group(1)) + 1
    assert lines > FOLD_LINES
    assert f'<details class="code-fold"><summary>Show code ({lines} lines)</summary>' in long


def test_a_whole_file_listing_leaves_out_the_bodies_shown_above(lessons_dir):
    page = render(lessons_dir, """
        ```source app/ml/kmeans.py:lloyd_steps
        ```

        ```source app/ml/kmeans.py
        ```
        """)
    shown, whole = source_figures(page)
    text = html.unescape(re.sub(r"<[^>]+>", "", whole))
    file_text = (ROOT / "app/ml/kmeans.py").read_text()
    assert "def lloyd_steps(" in text and "...  # shown above" in text
    # Its body is not repeated: its longest line appears once on the page.
    body_line = max(html.unescape(re.sub(r"<[^>]+>", "", shown)).splitlines()[2:], key=len)
    assert len(body_line) > 30
    assert html.unescape(re.sub(r"<[^>]+>", "", page)).count(body_line) == 1
    assert "whole file, the bodies of lloyd_steps (shown above) left out" in text
    # Everything else of the file is there.
    assert "def kmeans(" in text and text.count("\n") < file_text.count("\n")


def test_every_repeated_demo_in_the_lessons_has_an_id_and_each_lesson_opens_with_one(
        lessons_dir):
    for path in sorted((ROOT / "lessons").glob("*.md")):
        page = str(parse_lesson(path).html)
        ids = instances(page)
        assert len(ids) == len(set(ids)), path.name
        first_h2 = page.index("<h2")
        second_h2 = page.index("<h2", first_h2 + 1)
        assert "<section class=\"demo" in page[first_h2:second_h2], (
            f"{path.name}: no demo in the opening section")
