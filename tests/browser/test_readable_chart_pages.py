"""Charts a student can read, in a real Chromium at 1280 px (issue 16): the beam-search tree
and the Viterbi lattice across the whole demo with words that do not overlap, GridWorld's
goal and trap told apart, iteration axes in whole numbers, axis titles clear of tick labels.
Screenshots in both themes go to test-artifacts/screenshots/readable-*.png."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

BEAM = '[data-demo="beam-search"]'
WEAK_CRF = "#demo-weak-model"
GRID = "#demo-first-grid"
KMEANS = "#demo-kmeans"

# Boxes (in page pixels) of the SVG texts matching `inner` inside one chart's plot.
BOXES = """([sel, chart, inner]) => [...document.querySelector(sel)
  .querySelectorAll(`.plot[data-chart="${chart}"] ${inner}`)]
  .filter(e => e.textContent.trim() && e.getBoundingClientRect().width > 0)
  .map(e => { const r = e.getBoundingClientRect();
              return {text: e.textContent, x: r.x, y: r.y, w: r.width, h: r.height}; })"""

WIDTHS = """([sel, chart]) => { const s = document.querySelector(sel);
  const fig = s.querySelector(`.plot[data-chart="${chart}"]`).closest('figure');
  return {figure: fig.getBoundingClientRect().width,
          charts: s.querySelector('.demo-charts').getBoundingClientRect().width,
          plot: fig.querySelector('.plot').getBoundingClientRect().height}; }"""


def overlapping(boxes: list[dict], slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap by more than `slack` px both ways."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > slack and dy > slack:
                pairs.append((a["text"], b["text"]))
    return pairs


def spans_the_demo(page: Page, sel: str, chart: str) -> dict:
    sizes = page.evaluate(WIDTHS, [sel, chart])
    assert sizes["figure"] == pytest.approx(sizes["charts"], abs=2)  # both columns
    return sizes


def test_beam_tree_at_width_8_spans_the_demo_and_its_words_stay_apart(
        new_page: Callable, shots: Callable) -> None:
    for theme in ("light", "dark"):
        page = new_page(viewport={"width": 1280, "height": 900}, color_scheme=theme)
        page.goto("/lessons/transformer")
        demo = page.locator(BEAM)
        demo.scroll_into_view_if_needed()
        set_range(demo.locator('[name="beam_width"]'), 8)
        demo.locator('[data-action="run"]').click()
        wait_finished(page, {"beam_width": 8}, sel=BEAM, timeout=120_000)
        sizes = spans_the_demo(page, BEAM, "tree")
        rows = page.evaluate(f"""() => document.querySelector('{BEAM} .plot[data-chart="tree"]')
            .layout.yaxis.tickvals.length""")
        assert rows >= 9 and sizes["plot"] >= 30 * rows  # grew with its rows
        words = page.evaluate(BOXES, [BEAM, "tree", ".textpoint text"])
        assert len(words) > 2 * 8 and overlapping(words) == []
        shots(page, f"readable-beam-tree-width8-{theme}",
              demo.locator('figure:has(.plot[data-chart="tree"])'))


# 40 words in the sentence box's 200 characters.
FORTY_WORDS = ("Noor and Ana flew from Oslo to Rome , met Li at Acme in May , then Tom and Eva "
               "drove to Nice , ate at Roma Bar and went on to Bonn in June with Sam "
               "and Ida .")


def test_a_forty_word_lattice_spans_the_demo_with_readable_words(
        new_page: Callable, shots: Callable) -> None:
    assert len(FORTY_WORDS.split()) == 40 and len(FORTY_WORDS) <= 200
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto("/lessons/crf")
    demo = page.locator(WEAK_CRF)
    demo.evaluate("e => e.scrollIntoView({block: 'start'})")
    demo.locator('[name="sentence"]').fill(FORTY_WORDS)
    demo.locator('[data-action="run"]').click()
    wait_finished(page, {"sentence": FORTY_WORDS}, sel=WEAK_CRF, timeout=300_000)
    spans_the_demo(page, WEAK_CRF, "lattice")
    # Slanted words: their upright boxes overlap, the words do not. Neighbours' baselines
    # lie (gap between ticks) x sin(angle) apart, which must hold a line of their font.
    words = page.evaluate(BOXES, [WEAK_CRF, "lattice", ".xtick text"])
    assert len(words) == 40
    gap, angle, size = page.evaluate(f"""() => {{ const a = document.querySelector(
        '{WEAK_CRF} .plot[data-chart="lattice"]')._fullLayout.xaxis;
        return [a._length / (a.range[1] - a.range[0]), a.tickangle, a.tickfont.size]; }}""")
    assert gap * abs(math.sin(math.radians(angle))) >= size + 2, (gap, angle, size)
    tags = page.evaluate(BOXES, [WEAK_CRF, "lattice", ".ytick text"])
    assert len(tags) == 9 and overlapping(tags) == []
    lattice = demo.locator('figure:has(.plot[data-chart="lattice"])')
    shots(page, "readable-crf-lattice-40-words-light", lattice)
    page.emulate_media(color_scheme="dark")  # the theme follows the system's: a relayout
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    shots(page, "readable-crf-lattice-40-words-dark", lattice)
    # The transition matrix: long tag names on top, its title clear of them.
    transitions = demo.locator('figure:has(.plot[data-chart="transitions"])')
    shots(page, "readable-crf-transitions-dark", transitions)


def test_gridworld_goal_and_trap_read_apart_and_sweeps_count_in_whole_numbers(
        new_page: Callable, shots: Callable) -> None:
    for theme in ("light", "dark"):
        page = new_page(viewport={"width": 1280, "height": 900}, color_scheme=theme)
        page.goto("/lessons/ppo")
        demo = page.locator(GRID)
        demo.scroll_into_view_if_needed()
        demo.locator('[data-action="run"]').click()
        wait_finished(page, sel=GRID, timeout=60_000)
        cells = page.evaluate(BOXES, [GRID, "values", ".annotation-text"])
        texts = " ".join(c["text"] for c in cells)
        assert "★goal" in texts.replace(" ", "")
        ticks = [t["text"] for t in page.evaluate(BOXES, [GRID, "delta", ".xtick text"])]
        assert ticks and all(t.replace("−", "-").lstrip("-").isdigit() for t in ticks), ticks
        shots(page, f"readable-gridworld-{theme}", demo.locator(".demo-charts"))


def test_kmeans_iterations_tick_in_whole_numbers_and_titles_clear_their_ticks(
        page: Page, shots: Callable) -> None:
    page.goto("/lessons/kmeans")
    demo = page.locator(KMEANS)
    demo.scroll_into_view_if_needed()
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel=KMEANS, timeout=60_000)
    ticks = [t["text"] for t in page.evaluate(BOXES, [KMEANS, "inertia", ".xtick text"])]
    assert ticks and all(t.isdigit() for t in ticks), ticks  # never 0.5, 1.5
    title = page.evaluate(BOXES, [KMEANS, "inertia", ".g-xtitle text"])
    y_ticks = page.evaluate(BOXES, [KMEANS, "inertia", ".ytick text"])
    y_title = page.evaluate(BOXES, [KMEANS, "inertia", ".g-ytitle text"])
    x_ticks = page.evaluate(BOXES, [KMEANS, "inertia", ".xtick text"])
    assert not [t for t in x_ticks if overlapping([title[0], t])]
    assert not [t for t in y_ticks if overlapping([y_title[0], t])]
    expect(demo.locator('figure:has(.plot[data-chart="inertia"])')).to_be_visible()
    shots(page, "readable-kmeans-inertia", demo.locator(".demo-charts"))


FLOW = '[data-demo="gradient-flow"]'

Y_RANGE = """(sel) => document.querySelector(sel)
  .querySelector('.plot[data-chart="grad_norms"]')._fullLayout.yaxis.range"""


def test_gradient_flow_keeps_its_log_range_from_run_to_run(page: Page, shots: Callable) -> None:
    page.goto("/lessons/autograd")
    demo = page.locator(FLOW)
    demo.scroll_into_view_if_needed()
    demo.locator('[data-action="run"]').click()
    wait_finished(page, {"activation": "sigmoid"}, sel=FLOW, timeout=120_000)
    sigmoid = page.evaluate(Y_RANGE, FLOW)
    shots(page, "readable-gradient-flow-sigmoid", demo.locator(".demo-charts"))
    demo.locator('[name="activation"]').select_option("relu")
    demo.locator('[name="init"]').select_option("kaiming")
    demo.locator('[data-action="run"]').click()
    wait_finished(page, {"activation": "relu", "init": "kaiming"}, sel=FLOW, timeout=120_000)
    assert page.evaluate(Y_RANGE, FLOW) == pytest.approx(sigmoid) == [-14.2, 3.2]
    shots(page, "readable-gradient-flow-relu", demo.locator(".demo-charts"))


@pytest.mark.parametrize(("lesson", "sel", "chart"), [
    ("/lessons/transformer", "#demo-attention", "head"),
    ("/lessons/autograd", '[data-demo="jacobian"]', "vjp"),
])
def test_axis_titles_sit_clear_of_long_tick_labels(new_page: Callable, shots: Callable,
                                                   lesson: str, sel: str, chart: str) -> None:
    for theme in ("light", "dark"):
        page = new_page(viewport={"width": 1280, "height": 900}, color_scheme=theme)
        page.goto(lesson)
        demo = page.locator(sel)
        demo.scroll_into_view_if_needed()
        demo.locator('[data-action="run"]').click()
        wait_finished(page, sel=sel, timeout=60_000)
        titled = 0
        for axis in ("x", "y"):
            title = page.evaluate(BOXES, [sel, chart, f".g-{axis}title text"])
            ticks = page.evaluate(BOXES, [sel, chart, f".{axis}tick text"])
            if title:
                titled += 1
                assert [t for t in ticks if overlapping([title[0], t])] == [], axis
        assert titled
        shots(page, f"readable-{chart}-titles-{theme}",
              demo.locator(f'figure:has(.plot[data-chart="{chart}"])'))
