"""Issue 18: /demos lists every demo with its parameters, the lessons using it and a fence
an author can paste; each fence renders as a lesson and presets the demo's defaults."""

from __future__ import annotations

import html
import json
import re

import pytest

from app.catalogue import catalogue, demo_fence
from app.demos import registry
from app.lessons import LessonLibrary, parse_lesson
from tests.helpers import LESSONS, make_client


@pytest.fixture(scope="module")
def page() -> str:
    with make_client(executor="threads", max_jobs=1) as client:
        response = client.get("/demos")
        assert response.status_code == 200
        assert '<a href="/demos">Demos</a>' in client.get("/").text  # in the site navigation
        return response.text


def entry(page: str, slug: str) -> str:
    return re.search(rf'<section class="catalogue-demo" id="{slug}".*?</section>', page,
                     re.S).group(0)


def test_every_demo_is_in_the_catalogue_with_every_parameter(page):
    for slug, demo in registry().items():
        section = entry(page, slug)
        assert html.escape(demo.title, quote=False) in section
        names = re.findall(r'<th scope="row"><code>([^<]+)</code>', section)
        assert sorted(names) == sorted(demo.schema()["properties"]), slug


def test_a_parameter_row_says_label_type_bounds_default_and_description(page):
    rows = re.findall(r"<tr>\s*(<th scope=\"row\">.*?)</tr>", entry(page, "kmeans"), re.S)
    k = next(row for row in rows if "<code>k</code>" in row)
    cells = [re.sub(r"<[^>]+>", " ", cell).split()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", k, re.S)]
    assert cells[0] == ["integer", "range"]
    assert cells[1] == ["between", "1", "and", "12"]
    assert cells[2] == ["3"]
    assert " ".join(cells[3]) == registry()["kmeans"].schema()["properties"]["k"]["description"]
    # A label in words, where the name is jargon, stands under the name.
    n_init = next(row for row in rows if "<code>n_init</code>" in row)
    assert 'class="param-label">restarts<' in n_init
    lr = next(row for row in re.findall(r"<tr>\s*(<th scope=\"row\">.*?)</tr>",
                                        entry(page, "ppo-cartpole"), re.S)
              if "<code>learning_rate</code>" in row)
    assert "range (log scale)" in lr


def test_each_demo_names_the_lessons_that_use_it(page):
    lessons = LessonLibrary(LESSONS).all()
    for slug in registry():
        linked = re.findall(r'<a href="/lessons/([a-z0-9-]+)">', entry(page, slug))
        assert linked == [lesson.slug for lesson in lessons if slug in lesson.demos], slug


def test_each_fence_has_a_copy_button_and_pastes_into_a_lesson_as_the_defaults(page, tmp_path):
    for item in catalogue([]):
        section = entry(page, item.slug)
        assert "data-copy-code" in section
        code = re.search(r"<pre[^>]*><code>(.*?)</code></pre>", section, re.S).group(1)
        assert html.unescape(re.sub(r"<[^>]+>", "", code)) == demo_fence(registry()[item.slug])
        lesson = tmp_path / "pasted.md"
        lesson.write_text(f"---\ntitle: T\nsummary: S.\n---\n\n{item.fence}", encoding="utf-8")
        rendered = str(parse_lesson(lesson).html)
        presets = json.loads(html.unescape(re.search(r'data-presets="([^"]*)"', rendered).group(1)))
        assert presets == registry()[item.slug].defaults(), item.slug
