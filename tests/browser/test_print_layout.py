"""A lesson prints as a handout (issue 18): no controls, buttons, timeline, navigation or
table of contents; charts as last drawn; code and formulas wrapped; solutions left out,
except in the teacher's copy (?copy=teacher), which prints them open."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.demo_page import wait_finished

pytestmark = pytest.mark.browser

SHOWN = """(sel) => Array.from(document.querySelectorAll(sel)).map(el => {
  const box = el.getBoundingClientRect();
  return getComputedStyle(el).display !== 'none' && box.width > 0 && box.height > 0;
})"""


def shown(page: Page, selector: str) -> list[bool]:
    return page.evaluate(SHOWN, selector)


@pytest.mark.parametrize("copy", ["", "teacher"])
def test_a_printed_lesson_is_a_handout(page: Page, shots, copy: str):
    page.goto(f"/lessons/kmeans?copy={copy}" if copy else "/lessons/kmeans")
    demo = page.locator("#demo-kmeans")
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    wait_finished(page, sel="#demo-kmeans", timeout=60_000)  # a live demo: it ran in view
    drawn = demo.locator(".plot").first.evaluate("d => d.data.length")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".toc", ".pager", ".demo-controls", ".demo-actions",
                   ".demo-timeline", ".chart-data", ".modebar-container"):
        assert not any(shown(page, hidden)), f"{hidden} prints"
    assert all(shown(page, "#demo-kmeans .plot"))  # the charts, as last drawn
    assert demo.locator(".plot").first.evaluate("d => d.data.length") == drawn
    assert page.evaluate("() => getComputedStyle(document.querySelector('pre')).whiteSpace") \
        == "pre-wrap"
    solutions = shown(page, "details.solution > div")
    assert solutions and all(solutions) == bool(copy) and any(solutions) == bool(copy)
    pdf = page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    shots(page, f"print-kmeans{'-teacher' if copy else ''}")
