"""The seq2seq lesson in a real Chromium: train, read the cross-attention maps, type a
date (the trained model is re-used), and a typed input the task cannot read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import FINISHED, set_range

pytestmark = pytest.mark.browser

LESSON = "/lessons/seq2seq"
TRANSLATE = "#demo-translate"

PLOT = """([sel, chart]) => {
  const div = document.querySelector(sel).querySelector(`.plot[data-chart="${chart}"]`);
  return {data: (div.data || []).map(t => ({type: t.type, x: t.x, y: t.y, z: t.z})),
          layout: div.layout || {}};
}"""


def plot(page: Page, chart: str) -> dict:
    return page.evaluate(PLOT, [TRANSLATE, chart])


def test_train_then_translate_a_typed_date_with_the_same_model(page: Page,
                                                               shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(TRANSLATE)
    demo.scroll_into_view_if_needed()
    set_range(demo.locator('[name="steps"]'), 200)  # enough for most dates, ~2 s of CPU
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(FINISHED, arg=[TRANSLATE, {"steps": 200}], timeout=60_000)

    scores = plot(page, "scores")["data"]
    assert [len(t["x"]) for t in scores] == [9, 9]  # steps 0, 25, …, 200
    assert scores[1]["y"][-1] > 80  # BLEU, on its 0–100 scale
    exposure = plot(page, "exposure")["data"]
    assert all(0 <= y <= 1 for t in exposure for y in t["y"])
    attention = plot(page, "attention")
    assert [t["type"] for t in attention["data"]] == ["heatmap"] * 2  # 1 layer × 2 heads
    rows = attention["layout"]["yaxis"]["ticktext"]
    assert rows[-1] == "&lt;/s&gt;"  # EOS, escaped: Plotly reads tick text as HTML
    assert attention["layout"]["xaxis"]["ticktext"] == list("2026-11-29")
    for row in attention["data"][0]["z"]:
        assert sum(row) == pytest.approx(1, abs=1e-4)  # each output token's weights
    record = page.evaluate(f"document.querySelector('{TRANSLATE}').livegrad.record")
    result = record["result"]
    assert len(result["cross_attention"][0][0]) == len(rows)  # [layers][heads][out][in]
    assert 0 <= result["exact_match"] <= 1 and result["output"].split() == rows[:-1]
    shots(page, "seq2seq-trained", demo)

    box = demo.locator('[name="source"]')
    box.fill("1999-01-05")
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(FINISHED, arg=[TRANSLATE, {"source": "1999-01-05"}], timeout=20_000)
    metrics = demo.locator(".demo-metrics")
    expect(metrics).to_contain_text("re-used")
    expect(metrics).to_contain_text("5 January 1 9 9 9")
    assert plot(page, "attention")["layout"]["xaxis"]["ticktext"] == list("1999-01-05")

    box.fill("1999/01/05")  # a character the task never reads: refused, saying which
    demo.locator('[data-action="run"]').click()
    status = demo.locator(".demo-status")
    expect(status).to_contain_text("source", timeout=10_000)
    expect(status).to_contain_text("'/'")
