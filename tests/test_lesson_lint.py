"""The lesson lint (tests/lesson_lint.py) over every lesson, and proof that it bites.

A hostile lesson gathers the mis-renderings of issue 12: display math right under a
line of text (list item, paragraph, quote, callout), ``$$`` in a table cell, two
prices, headings made of math, headings that repeat or meet ids the page already uses.
Rendered the way LiveGrad did before (the plugins' defaults) the lint reports them;
rendered by the lesson dialect it reports nothing.
"""

from __future__ import annotations

import textwrap

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from app.lessons import parse_lesson
from app.markdown import table_of_contents
from tests.helpers import LESSONS
from tests.lesson_lint import lint_lesson

HOSTILE = r"""
## $\nabla f$

3. Pick point $x$ with probability
   $$
   P(x) = \frac{D(x)^2}{\sum_{x'} D(x')^2}
   $$

A GPU hour costs $5 and a CPU hour costs $10.

## $\nabla f$

A paragraph line
$$
y = 2
$$

> A quote
> $$
> q = 1
> $$

::: note Display math in a callout
Text
$$
z = 3
$$
:::

| price | formula |
|---|---|
| \$5 | $$\frac{1}{2}$$ |

## Loss $L$ and `n_init`

## Main

## kmeans k

```demo kmeans
k: 3
```
"""


def lint(lesson) -> list[tuple[str, str]]:
    return lint_lesson(str(lesson.html), [t["id"] for t in lesson.toc],
                       [str(t["html"]) for t in lesson.toc])


@pytest.mark.parametrize("path", sorted(LESSONS.glob("*.md")), ids=lambda p: p.stem)
def test_every_lesson_passes_the_lint(path):
    assert lint(parse_lesson(path)) == []


def test_the_lint_reports_the_hostile_lesson_rendered_as_before_issue_12():
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin)
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    md.use(container_plugin, "note")
    tokens = md.parse(HOSTILE)
    html = md.renderer.render(tokens, md.options, {})
    toc = table_of_contents(md, tokens)
    findings = lint_lesson(html, [t["id"] for t in toc], [str(t["html"]) for t in toc])
    kinds = [kind for kind, _ in findings]
    # Two unpaired $ for each of list item, paragraph, quote, callout and table cell.
    assert kinds.count("stray-dollar") == 10, findings
    assert ("prose-in-math", "'CPU hour costs' in $5 and a CPU hour costs$") in findings
    assert ("heading-without-id", "heading 1") in findings


def test_the_lint_reports_ids_that_collide_or_miss_the_table_of_contents():
    html = (
        '<h2 id="main">Main</h2><h2 id="kmeans-k">k</h2><h3>No id</h3><h3 id="late">Late</h3>'
        '<section class="demo" id="demo-kmeans"><h3 id="demo-kmeans-title">k-means</h3>'
        '<input id="kmeans-k"></section>'
    )
    findings = lint_lesson(html, ["main", "kmeans-k", "gone"])
    assert sorted(findings) == [
        ("duplicate-id", "kmeans-k"),
        ("heading-without-id", "heading 3"),
        ("not-in-toc", "late"),  # a demo's own title is not a lesson heading
        ("page-id", "main"),
        ("toc-leads-nowhere", "gone"),
    ]


def test_the_lint_lets_prices_and_escaped_dollars_through_but_not_lone_ones():
    html = "<p>Costs $5, or &#36;x; code <code>$HOME</code>, and a lone $ sign.</p>"
    assert [kind for kind, _ in lint_lesson(html, [])] == ["stray-dollar"]


def test_the_hostile_lesson_passes_the_lint_in_the_lesson_dialect(lessons_dir):
    path = lessons_dir / "hostile.md"
    path.write_text(f"---\ntitle: Hostile\nsummary: Issue 12.\n---\n{HOSTILE}", encoding="utf-8")
    lesson = parse_lesson(path)
    assert lint(lesson) == []
    page = str(lesson.html)
    assert page.count('<div class="math block">') == 4
    assert '<span class="math display">\\frac{1}{2}</span>' in page
    assert "A GPU hour costs $5 and a CPU hour costs $10." in page
    assert [t["id"] for t in lesson.toc] == [
        "nabla-f", "nabla-f-2", "loss-l-and-n_init", "main-2", "kmeans-k-2"]


def test_a_heading_in_a_callout_keeps_the_lint_quiet(lessons_dir):
    # The callout title is not a heading: only ## and ### lines are, wherever they sit.
    path = lessons_dir / "nested.md"
    path.write_text("---\ntitle: N\nsummary: S.\n---\n" + textwrap.dedent("""
        ::: tip Price $5
        ## Inside
        :::
        """), encoding="utf-8")
    lesson = parse_lesson(path)
    assert lint(lesson) == [] and [t["id"] for t in lesson.toc] == ["inside"]
