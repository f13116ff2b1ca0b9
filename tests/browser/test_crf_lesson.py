"""The CRF lesson in a real Chromium: train both taggers, then tag a sentence of your own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LESSON = "/lessons/crf"
SMALL_DEMO = "#demo-weak-model"  # by its :id: (a hook and the main demo come first)

FINISHED = """([sel, sentence]) => {
  const demo = document.querySelector(sel).livegrad;
  const record = demo && demo.record;
  return !!(record && record.result && !demo.controller && record.params.sentence === sentence);
}"""

LATTICE = """(sel) => {
  const section = document.querySelector(sel);
  const div = section.querySelector('.plot[data-chart="lattice"]');
  const heat = (div.data || []).find(t => t.type === "heatmap");
  const path = (div.data || []).find(t => t.name === "CRF best path");
  return {tokens: div.layout.xaxis.ticktext, rows: heat ? heat.z.length : 0,
          columns: heat ? heat.z[0].length : 0, path: path ? path.y : []};
}"""


def run_and_wait(page: Page, sentence: str, timeout: float) -> dict:
    demo = page.locator(SMALL_DEMO)
    demo.get_by_role("button", name="▶ Run", exact=True).click()
    page.wait_for_function(FINISHED, arg=[SMALL_DEMO, sentence], timeout=timeout)
    return page.evaluate("(sel) => document.querySelector(sel).livegrad.record", SMALL_DEMO)


def test_train_then_type_a_sentence_and_see_its_lattice(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    expect(page.locator("article.lesson h1")).to_have_text("Conditional random fields for tagging")
    demo = page.locator(SMALL_DEMO)
    demo.evaluate("e => e.scrollIntoView({block: 'start'})")
    sentence_box = demo.locator('[name="sentence"]')
    first = sentence_box.input_value()

    record = run_and_wait(page, first, timeout=240_000)
    result = record["result"]
    assert result["cached"] is False
    assert 0 <= result["dev_f1"] <= 1 and 0 <= result["softmax_dev_f1"] <= 1
    lattice = page.evaluate(LATTICE, SMALL_DEMO)
    assert lattice["tokens"] == result["tokens"]
    assert (lattice["rows"], lattice["columns"]) == (9, len(result["tokens"]))
    assert len(lattice["path"]) == len(result["tokens"])

    # A new sentence: the trained models are re-used and the lattice follows the words.
    sentence_box.fill("Kwame Mensah flew to Tel Aviv on Friday")
    record = run_and_wait(page, "Kwame Mensah flew to Tel Aviv on Friday", timeout=30_000)
    assert record["result"]["cached"] is True
    lattice = page.evaluate(LATTICE, SMALL_DEMO)
    assert lattice["tokens"] == ["Kwame", "Mensah", "flew", "to", "Tel", "Aviv", "on", "Friday"]
    assert (lattice["rows"], lattice["columns"]) == (9, 8)
    expect(demo).to_contain_text("re-used from the cache")
    expect(demo).to_contain_text(" ".join(record["result"]["crf_tags"]))
    shots(page, "crf-lattice", demo.locator('.plot[data-chart="lattice"]'))
