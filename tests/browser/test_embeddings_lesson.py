"""The embeddings lesson in a real Chromium: an n-gram model answers a typed context, and
word2vec trains live, then answers a new word from its kept vectors.

CPU: the n-gram runs cost about 0.3 s each on the server; the word2vec training about
2 s; the rest is the browser drawing (about 20 s of wall time in all on a quiet machine).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import FINISHED

pytestmark = pytest.mark.browser

LESSON = "/lessons/embeddings"
NGRAM = "#demo-ngram"
WORD2VEC = "#demo-word2vec"
COUNTRIES = {"france", "germany", "italy", "spain", "japan", "china", "russia", "greece",
             "portugal", "poland", "sweden", "turkey"}

TRACES = """([sel, chart]) => {
  const div = document.querySelector(sel).querySelector(`.plot[data-chart="${chart}"]`);
  return (div.data || []).map(t => ({name: t.name, x: t.x, y: t.y, text: t.text}));
}"""


def traces(page: Page, sel: str, chart: str) -> list[dict]:
    return page.evaluate(TRACES, [sel, chart])


def record(page: Page, sel: str) -> dict:
    return page.evaluate("(sel) => document.querySelector(sel).livegrad.record", sel)


def test_a_typed_context_shows_what_comes_next(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    expect(page.locator("article.lesson h1")).to_have_text(
        "Word embeddings, from counting n-grams to word2vec")
    demo = page.locator(NGRAM)
    demo.evaluate("e => e.scrollIntoView({block: 'start'})")
    # A live demo: it runs by itself once in view.
    page.wait_for_function(FINISHED, arg=[NGRAM, {"context": "the capital of"}],
                           timeout=30_000)
    bars = traces(page, NGRAM, "next")[0]
    assert set(bars["y"]) <= COUNTRIES and len(bars["y"]) == 10
    curves = traces(page, NGRAM, "perplexity")
    assert [len(t["x"]) for t in curves[:6]] == [4] * 6  # four k, yours, training: n = 1..4
    assert curves[1]["y"][0] > 70 > curves[1]["y"][3]  # k = 0.01 falls from ~77
    expect(demo.locator(".demo-metrics")).to_contain_text("sampled sentence 1")
    shots(page, "embeddings-ngram", demo)

    box = demo.locator('[name="context"]')
    box.fill("the dog")
    box.press("Enter")
    page.wait_for_function(FINISHED, arg=[NGRAM, {"context": "the dog"}], timeout=30_000)
    assert "barks" in traces(page, NGRAM, "next")[0]["y"]
    assert record(page, NGRAM)["result"]["context"] == ["the", "dog"]


def test_word2vec_trains_then_answers_a_new_word_without_training(
        page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(WORD2VEC)
    demo.evaluate("e => e.scrollIntoView({block: 'start'})")
    demo.get_by_role("button", name="▶ Run", exact=True).click()
    page.wait_for_function(FINISHED, arg=[WORD2VEC, {"word": "paris"}], timeout=90_000)
    result = record(page, WORD2VEC)["result"]
    assert result["analogy_accuracy"] >= 0.8 and result["analogy_answer"] == "tokyo"
    loss = traces(page, WORD2VEC, "loss")[0]
    assert len(loss["x"]) >= 30 and loss["y"][-1] < loss["y"][0]
    projection = traces(page, WORD2VEC, "projection")
    assert [t["name"] for t in projection][:3] == ["country", "capital", "language"]
    assert "paris" in projection[1]["text"]
    neighbours = traces(page, WORD2VEC, "neighbours")[0]["y"]
    assert neighbours == result["neighbours"]["paris"]
    expect(demo.locator(".demo-metrics")).to_contain_text("tokyo ✓")
    shots(page, "embeddings-word2vec", demo)

    # Another word: the trained vectors are re-used, no training.
    box = demo.locator('[name="word"]')
    box.fill("dog")
    demo.get_by_role("button", name="▶ Run", exact=True).click()
    page.wait_for_function(FINISHED, arg=[WORD2VEC, {"word": "dog"}], timeout=30_000)
    expect(demo).to_contain_text("re-used from the cache")
    assert {"puppy", "barks"} & set(traces(page, WORD2VEC, "neighbours")[0]["y"])

    # A word the corpus does not have: refused, naming the field and the word.
    box.fill("atlantis")
    demo.get_by_role("button", name="▶ Run", exact=True).click()
    expect(demo.locator(".demo-status")).to_contain_text("atlantis", timeout=10_000)
    expect(demo.locator(".demo-status")).to_contain_text("word")
