"""What a student sees and does on the autograd lesson, in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

LESSON = "/lessons/autograd"
GRAPH = "#demo-autograd-graph"  # by its :id:; a smaller instance opens the lesson
FLOW = '[data-demo="gradient-flow"]'




NODES = """(sel) => {
  const div = document.querySelector(sel).querySelector('.plot[data-chart="graph"]');
  const trace = (div.data || []).find(t => t.name === "nodes");
  return trace ? trace.text : [];
}"""


def test_lesson_reads_with_math_code_and_exercises(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    expect(page.locator("article.lesson h1")).to_have_text(
        "Automatic differentiation and gradient flow")
    page.wait_for_function("() => document.querySelectorAll('.katex').length > 20")
    assert page.locator(".katex-error, .math-error").count() == 0
    # The scalar engine is shown from its source file, highlighted.
    source = page.locator("figure.source", has_text="scalar_engine.py")
    expect(source.first).to_be_visible()
    source.first.get_by_text("Show code").click()  # 165 lines: the listing starts folded
    assert "_backward" in source.first.inner_text()
    exercises = page.locator("section.exercise")
    assert exercises.count() >= 3
    details = exercises.first.locator("details.solution")
    details.locator("summary").click()
    expect(details.locator("> div")).to_be_visible()
    shots(page, "autograd-lesson")


def test_type_an_expression_and_see_the_graph_and_gradients(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(GRAPH).first
    demo.scroll_into_view_if_needed()
    wait_finished(page, sel=GRAPH)  # it ran by itself with the lesson's example
    first = page.evaluate(NODES, GRAPH)
    assert any(label.startswith("<b>sin</b>") for label in first)

    set_range(demo.locator('input[name="x"]'), 2)
    box = demo.locator('input[name="expression"]')
    box.fill("x*x*x + y")
    box.press("Enter")
    record = wait_finished(page, {"expression": "x*x*x + y", "x": 2}, sel=GRAPH)
    assert record["result"]["value"] == pytest.approx(8 - 0.7)
    assert record["result"]["gradients"] == {"x": 12.0, "y": 1.0, "z": 0.0}
    assert record["result"]["max_abs_diff"] <= 1e-9

    labels = page.evaluate(NODES, GRAPH)
    # x, y, two products and a sum; every node's gradient has been revealed.
    assert len(labels) == 5
    assert "<b>x</b><br>2<br>∂ 12" in labels
    assert not any("∂ ?" in label for label in labels)
    expect(demo.locator(".demo-metrics div", has=page.locator("dt", has_text="∂f/∂x"))
           .locator("dd")).to_have_text("12")
    shots(page, "autograd-graph", demo)


def test_infinite_results_are_shown_and_bad_input_is_named(page: Page, watch) -> None:
    page.goto(LESSON)
    demo = page.locator(GRAPH).first
    demo.scroll_into_view_if_needed()
    box = demo.locator('input[name="expression"]')
    box.fill("x/0")
    box.press("Enter")
    record = wait_finished(page, {"expression": "x/0"}, sel=GRAPH)
    assert record["result"]["value"] == "inf"
    assert any("<br>inf<br>" in label for label in page.evaluate(NODES, GRAPH))

    box.fill("x.__class__")
    box.press("Enter")
    status = demo.locator(".demo-status")
    message = "expression: unexpected character '.' at position 2"
    # Said on the status line and under the box; the last run's charts stay, dimmed.
    expect(status).to_have_text(f"Not run: {message}. The dimmed charts are from the last run.")
    expect(demo.locator(".control:has([name=expression]) .control-error")).to_have_text(message)
    expect(demo).to_have_class(re.compile(r"\bstale\b"))
    # The browser logs the refused request (422) as a failed resource: expected here.


def test_gradient_flow_bars_vanish_for_a_deep_sigmoid_net(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(FLOW).first
    demo.scroll_into_view_if_needed()
    expect(demo.locator('[name="activation"]')).to_have_value("sigmoid")
    set_range(demo.locator('input[name="steps"]'), 5)
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, {"steps": 5, "depth": 20}, sel=FLOW, timeout=60_000)
    norms = record["result"]["grad_norms"]
    assert len(norms) == 20 and norms[0] / norms[-1] < 1e-6
    chart = page.evaluate(
        """(sel) => { const div = document.querySelector(sel)
            .querySelector('.plot[data-chart="grad_norms"]');
          return {type: div._fullLayout.yaxis.type, bars: div.data[0].y.length,
                  dashes: div.data[1].name, dashed: div.data[1].y.length}; }""", FLOW)
    assert chart == {"type": "log", "bars": 20, "dashes": "step 1", "dashed": 20}
    expect(demo.locator(".demo-metrics div", has=page.locator("dt", has_text="at step 1"))
           .locator("dd")).to_contain_text("e-11")
    shots(page, "gradient-flow", demo)
