"""The transformer lesson in a real Chromium: type a sentence, read the maps, train, stop."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import FINISHED, set_range
from tests.helpers import eventually

pytestmark = pytest.mark.browser

LESSON = "/lessons/transformer"
ATTENTION = "#demo-attention"  # by its :id:; a smaller instance opens the lesson
TRAIN = '[data-demo="transformer-train"]'
BEAM = '[data-demo="beam-search"]'


TRACES = """([sel, chart]) => {
  const div = document.querySelector(sel).querySelector(`.plot[data-chart="${chart}"]`);
  return (div.data || []).map(t => ({type: t.type, y: t.y, x: t.x, n: (t.x || []).length}));
}"""


def traces(page: Page, sel: str, chart: str) -> list[dict]:
    return page.evaluate(TRACES, [sel, chart])


def test_typed_sentence_becomes_labelled_heatmaps(page: Page, shots: Callable, watch) -> None:
    page.goto(LESSON)
    expect(page.locator("article.lesson h1")).to_have_text("The Transformer")
    demo = page.locator(ATTENTION).first
    demo.scroll_into_view_if_needed()
    box = demo.locator('[name="text"]')
    box.fill("the dog chased the ball")
    box.press("Enter")
    sentence = "the dog chased the ball"
    page.wait_for_function(FINISHED, arg=[ATTENTION, {"text": sentence}], timeout=20_000)

    heads = int(demo.locator('[name="heads"]').input_value())
    maps = traces(page, ATTENTION, "maps")
    assert [t["type"] for t in maps] == ["heatmap"] * heads  # one map per head
    head = traces(page, ATTENTION, "head")[0]
    # Tokens on both axes, repeated words made unique, the first word on top.
    assert head["x"] == ["the·1", "dog", "chased", "the·2", "ball"]
    assert head["y"] == ["ball", "the·2", "chased", "dog", "the·1"]
    record = page.evaluate(f"document.querySelector('{ATTENTION}').livegrad.record")
    for row in record["result"]["weights"][0]:
        assert sum(row) == pytest.approx(1, abs=1e-4)
    expect(demo.locator(".demo-metrics")).to_contain_text("5")
    shots(page, "transformer-attention", demo)

    # Causal mask: the checkbox re-runs the demo and the upper triangle empties.
    demo.locator('[name="causal"]').check()
    page.wait_for_function(FINISHED, arg=[ATTENTION, {"causal": True}], timeout=20_000)
    weights = page.evaluate(
        f"document.querySelector('{ATTENTION}').livegrad.record.result.weights")
    assert all(w == 0 for head in weights for i, row in enumerate(head) for w in row[i + 1:])

    # Too many tokens: refused, and the message names the field and the limit.
    box.fill(" ".join(["word"] * 40))
    box.press("Enter")
    expect(demo.locator(".demo-status")).to_contain_text("32", timeout=10_000)
    expect(demo.locator(".demo-status")).to_contain_text("text")
    # (Chromium logs the 422 too; the browser watch knows refused runs are expected.)


def test_training_streams_curves_and_maps_then_stops(page: Page, server_url: str,
                                                     shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(TRAIN).first
    demo.scroll_into_view_if_needed()
    # Without positions the run never reaches the goal, so it is still going when we stop.
    demo.locator('[name="positional"]').select_option("none")
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(
        """(sel) => { const div = document.querySelector(sel)
            .querySelector('.plot[data-chart="accuracy"]');
          const held = (div.data || [])[1];
          const maps = document.querySelector(sel).querySelector('.plot[data-chart="maps"]');
          return held && held.x.length >= 3 && (maps.data || []).length >= 2; }""",
        arg=TRAIN, timeout=30_000)
    loss = traces(page, TRAIN, "loss")[0]
    assert loss["n"] >= 20 and all(0 < y < 5 for y in loss["y"])
    maps = traces(page, TRAIN, "maps")
    assert len(maps) == 2 and maps[0]["type"] == "heatmap"  # 1 layer × 2 heads
    first = traces(page, TRAIN, "accuracy")[1]["n"]
    page.wait_for_function(
        """([sel, n]) => document.querySelector(sel).querySelector(
            '.plot[data-chart="accuracy"]').data[1].x.length > n""",
        arg=[TRAIN, first], timeout=20_000)  # the curve keeps growing

    stop = demo.locator('[data-action="stop"]')
    expect(stop).to_be_enabled()
    stop.click()
    expect(demo.locator(".demo-status")).to_have_text("Stopped.")
    shots(page, "transformer-train-stopped", demo)
    eventually(lambda: httpx.get(f"{server_url}/healthz", timeout=2).json()["jobs"]
               == {"running": 0, "queued": 0}, "the stopped job ended")


def test_a_beam_of_two_drops_the_best_first_word(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(BEAM)
    demo.scroll_into_view_if_needed()
    set_range(demo.locator('[name="beam_width"]'), 2)
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(FINISHED, arg=[BEAM, {"beam_width": 2}], timeout=60_000)
    metrics = demo.locator(".demo-metrics")
    expect(metrics).to_contain_text("cat slept .")  # "a small/big cat slept ."
    expect(metrics).not_to_contain_text("my cat sat")
    bars = traces(page, BEAM, "widths")[0]
    assert bars["y"] == list(range(1, 9))
    colors = page.evaluate(f"""() => document.querySelector('{BEAM}')
        .querySelector('.plot[data-chart="widths"]').data[0].marker.color""")
    assert colors[1] != colors[0] and colors.count(colors[1]) == 1  # width 2 highlighted
    assert bars["x"][2] > bars["x"][1] > bars["x"][0]  # wider beams found likelier sentences
    tree = page.evaluate(f"""() => document.querySelector('{BEAM}')
        .querySelector('.plot[data-chart="tree"]').data.map(t => ({{name: t.name, x: t.x,
        text: t.text}}))""")
    kept, dropped = tree[1], tree[2]
    def first_words(trace: dict) -> set[str]:
        return {t.split()[0] for x, t in zip(trace["x"], trace["text"], strict=True) if x == 1}

    first_kept, first_dropped = first_words(kept), first_words(dropped)
    assert first_kept == {"the", "a"} and "my" in first_dropped  # the beam lost "my" at once
    shots(page, "transformer-beam-search", demo)
