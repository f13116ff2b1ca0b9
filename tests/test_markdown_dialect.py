"""Issue 12: the lesson dialect renders ordinary text the way a reader expects.

Display math wherever a ``$$`` line stands, prices that stay prices (Pandoc's
``tex_math_dollars`` rule), an id and a ToC entry for every heading, and numbers in
demo presets and front matter written the way ML people write them.
"""

from __future__ import annotations

import html
import json
import re
import textwrap

import pytest

from app.lessons import parse_lesson
from app.markdown import build_markdown, load_yaml, render_markdown, table_of_contents

_MATH = re.compile(r'<(span|div) class="math (inline|block|display)">\s*(.*?)\s*</\1>', re.S)


def fake_demo(slug: str, presets: dict, instance: str, options: object = None) -> str:
    """The ids a real demo brings: its section and its controls, named after the instance."""
    return f'<section class="demo" id="demo-{instance}"><input id="{instance}-k"></section>\n'


def render(source: str) -> tuple[str, list[dict]]:
    md = build_markdown(fake_demo)
    page, _, tokens = render_markdown(md, textwrap.dedent(source))
    return page, table_of_contents(md, tokens)


def math_in(page: str) -> list[tuple[str, str]]:
    """(how it is shown, TeX) of every formula: "inline" or "display"."""
    return [("inline" if kind == "inline" else "display", html.unescape(tex))
            for _, kind, tex in _MATH.findall(page)]


def write_lesson(folder, body: str, front: str = "") -> object:
    path = folder / "lesson.md"
    path.write_text(f"---\ntitle: T\nsummary: S.\n{front}---\n\n{textwrap.dedent(body)}")
    return parse_lesson(path)


@pytest.mark.parametrize("source", [
    # lessons/kmeans.md, step 3 of k-means++: the list item went inline between two "$".
    "1. Pick $x$ with probability\n   $$\n   P(x) = 1\n   $$\n2. Repeat.\n",
    "- an item\n  $$\n  P(x) = 1\n  $$\n",
    "A line of text\n$$\nP(x) = 1\n$$\nand the sentence goes on.\n",
    "A line of text\n$$P(x) = 1$$\n",
    "> A quote\n> $$\n> P(x) = 1\n> $$\n",
    "::: note Display math\nSee\n$$\nP(x) = 1\n$$\n:::\n",
    ":::: exercise E\nQ\n\n::: solution\nSo\n$$\nP(x) = 1\n$$\n:::\n::::\n",
    "| a | b |\n|---|---|\n| $$P(x) = 1$$ | c |\n",
])
def test_display_math_works_under_a_line_of_text_in_lists_quotes_callouts_and_cells(source):
    page, _ = render(source)
    assert math_in(page)[-1] == ("display", "P(x) = 1")
    assert "$" not in page


def test_an_unclosed_double_dollar_spoils_only_its_own_paragraph():
    # Blank lines end a $$ block (as in LaTeX): the heading below is not swallowed.
    page, toc = render("Text\n$$ oops\n\n## Next\n\n$$\nx = 1\n$$\n")
    assert [entry["id"] for entry in toc] == ["next"]
    assert math_in(page) == [("display", "x = 1")]


@pytest.mark.parametrize(("source", "formulas"), [
    ("A GPU hour costs $5 and a CPU hour costs $10.", []),
    ("Costs $5 each, while $n$ items cost more.", ["n"]),
    ("$x$ equals 2", ["x"]),  # dollarmath's allow_digits=False would refuse this one
    ("Between $x$ and $y$.", ["x", "y"]),
    ("Not math: $ x $, $x $, $ x$ and $x$2.", []),
    ("Signs and powers: $-0.6745$ and $10^{-9}$.", ["-0.6745", "10^{-9}"]),
    (r"Escaped: \$5, \$x$ and a dollar in math $\$5$.", [r"\$5"]),
    ("Stars and underscores: $a_1 * b_2 * c_3$ and $c *d* e$.", ["a_1 * b_2 * c_3", "c *d* e"]),
])
def test_an_opening_dollar_needs_a_character_after_it_and_a_closing_one_no_digit(
        source, formulas):
    page, _ = render(source)
    assert [tex for _, tex in math_in(page)] == formulas
    assert "<em>" not in page  # emphasis characters inside math stay math


def test_an_escaped_dollar_is_a_dollar_sign_the_html_marks_as_meant():
    page, _ = render(r"A \$5 coffee and \$PATH.")
    dollar = '<span class="dollar">&#36;</span>'
    assert f"A {dollar}5 coffee and {dollar}PATH." in page
    assert html.unescape(page).count("$") == 2


@pytest.mark.parametrize(("headings", "ids"), [
    (["## $\\nabla f$", "## $\\nabla f$"], ["nabla-f", "nabla-f-2"]),
    (["## Loss $L$ and `n_init`"], ["loss-l-and-n_init"]),
    (["## Why divide by $\\sqrt{d_k}$?"], ["why-divide-by-sqrt-d-k"]),
    (["## $\\mathbb{R}^d$ and $J^\\ast$"], ["r-d-and-j-ast"]),
    (["## $+$", "### ???"], ["section-1", "section-2"]),
    # A repeat never takes the id another heading has by its own words.
    (["## A", "## A", "## A 2"], ["a", "a-3", "a-2"]),
    (["## Section 2", "## $=$"], ["section-2", "section-2-2"]),
    (["## nabla f", "### $\\nabla f$"], ["nabla-f", "nabla-f-2"]),
])
def test_every_heading_gets_a_readable_unique_id_and_a_toc_entry(headings, ids):
    page, toc = render("\n\n".join(headings) + "\n")
    assert re.findall(r'<h[23] id="([^"]*)"', page) == ids
    assert [entry["id"] for entry in toc] == ids


def test_heading_ids_keep_clear_of_the_page_demo_and_equation_ids():
    page, toc = render("""
        ## Main

        ## Demo kmeans

        ## kmeans k

        ## eq1

        ```demo kmeans
        k: 3
        ```

        $$x = 1$$ (eq1)
        """)
    assert [entry["id"] for entry in toc] == ["main-2", "demo-kmeans-2", "kmeans-k-2", "eq1-2"]
    ids = re.findall(r' id="([^"]*)"', page)
    assert len(ids) == len(set(ids)) == 7


def test_toc_entries_show_a_headings_code_and_math():
    _, toc = render("## Using `n_init` and $k$\n")
    assert str(toc[0]["html"]) == (
        'Using <code>n_init</code> and <span class="math inline">k</span>')


def test_callout_and_exercise_titles_typeset_math_and_code():
    page, _ = render("""
        ::: note Why $\\sqrt{d_k}$?
        Text.
        :::

        :::: exercise Tune `lr` to $10^{-3}$
        Q.
        ::::
        """)
    assert '<p class="callout-title">Why <span class="math inline">\\sqrt{d_k}</span>?</p>' in page
    assert ('Exercise 1: Tune <code>lr</code> to <span class="math inline">10^{-3}</span>'
            in page)
    assert "$" not in page


@pytest.mark.parametrize(("text", "value"), [
    ("1e-3", 0.001), ("1E-3", 0.001), ("3e5", 300000.0), ("-2.5e-4", -0.00025),
    ("+1.5e3", 1500.0), (".5", 0.5), ("-.5", -0.5), ("1_000", 1000), ("0.1", 0.1), ("7", 7),
    ("1e-3x", "1e-3x"), ("e5", "e5"), ("1.2.3", "1.2.3"), ("k-means++", "k-means++"),
])
def test_yaml_reads_numbers_the_way_ml_people_write_them(text, value):
    loaded = load_yaml(f"v: {text}")["v"]
    assert loaded == value and type(loaded) is type(value)


def test_a_demo_preset_in_scientific_notation_is_accepted(lessons_dir):
    lesson = write_lesson(lessons_dir, "```demo crf-tagger\nlearning_rate: 1e-3\n```\n")
    presets = re.search(r'data-presets="([^"]*)"', str(lesson.html)).group(1)
    assert json.loads(html.unescape(presets))["learning_rate"] == 0.001


def test_front_matter_numbers_in_scientific_notation_are_numbers(lessons_dir):
    lesson = write_lesson(lessons_dir, "Text.\n", front="minutes: 1.2e1\norder: 2e0\n")
    assert (lesson.minutes, lesson.order) == (12, 2)
