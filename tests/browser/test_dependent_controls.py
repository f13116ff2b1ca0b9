"""Controls another control limits (control(divides=...), control(length_of=...)): heads
offers only the divisors of d_model and follows it, saying so on heads; GAE's values box
says how many numbers it needs as the rewards box changes, before any run."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

ATTENTION = "#demo-attention"  # heads 1..8, d_model 8..64; live
TRAIN = "#demo-transformer-train"  # heads 1..4, d_model 16..64 by 16; runs on Run
GAE = '[data-demo="gae"]'  # live


def stops(slider: Locator) -> list[int]:
    """The values a slider offers: its datalist's tick marks."""
    return slider.evaluate("el => Array.from(el.list.options, o => Number(o.value))")


def params(page: Page, sel: str) -> dict:
    return page.evaluate("(sel) => document.querySelector(sel).livegrad.params()", sel)


def test_heads_offers_the_divisors_of_d_model_and_follows_it(page: Page, shots: Callable) -> None:
    page.goto("/lessons/transformer?attention.d_model=24&attention.heads=3")
    demo = page.locator(ATTENTION)
    heads, width = demo.locator('[name="heads"]'), demo.locator('[name="d_model"]')
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    assert stops(heads) == [1, 2, 3, 4, 6, 8]

    set_range(width, 32)  # 3 does not divide 32: heads moves to the nearer divisor (4 of 2, 4)
    note = demo.locator(".control-note")
    expect(note).to_have_text("heads: 3 does not divide 32; set to 4.")
    expect(heads).to_have_value("4")
    expect(demo.locator('output[for$="-heads"]')).to_have_text("4")
    assert stops(heads) == [1, 2, 4, 8]
    wait_finished(page, {"d_model": 32, "heads": 4}, sel=ATTENTION)  # run, not refused
    # The link now holds the lesson's own pair (4 heads of 32), so it names neither.
    assert "attention.heads" not in parse_qs(urlsplit(page.url).query)
    shots(page, "dependent-heads-attention", demo)

    # The student's own slide skips what is not a divisor: 4 → 5 lands on 8, 8 → 7 on 4.
    heads.focus()
    heads.press("ArrowRight")
    expect(heads).to_have_value("8")
    expect(note).to_be_hidden()  # the note was about d_model's move, not this one
    heads.press("ArrowLeft")
    expect(heads).to_have_value("4")
    set_range(width, 20)
    expect(heads).to_have_value("4")  # 4 divides 20: nothing to say
    expect(note).to_be_hidden()
    assert stops(heads) == [1, 2, 4, 5]


def test_a_link_with_heads_that_do_not_divide_opens_on_a_pair_that_runs(page: Page) -> None:
    page.goto("/lessons/transformer?attention.d_model=32&attention.heads=3")
    demo = page.locator(ATTENTION)
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    expect(demo.locator(".control-note")).to_have_text("heads: 3 does not divide 32; set to 4.")
    wait_finished(page, {"d_model": 32, "heads": 4}, sel=ATTENTION)
    assert "attention.heads" not in parse_qs(urlsplit(page.url).query)  # the lesson's 4


def test_training_demo_heads_follow_d_model_before_run(page: Page, shots: Callable) -> None:
    page.goto("/lessons/transformer?transformer-train.d_model=48&transformer-train.heads=3")
    demo = page.locator(TRAIN)
    heads = demo.locator('[name="heads"]')
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    assert stops(heads) == [1, 2, 3, 4]
    set_range(demo.locator('[name="d_model"]'), 64)
    expect(demo.locator(".control-note")).to_have_text("heads: 3 does not divide 64; set to 4.")
    assert (params(page, TRAIN)["heads"], stops(heads)) == (4, [1, 2, 4])  # what Run sends
    assert parse_qs(urlsplit(page.url).query)["transformer-train.heads"] == ["4"]
    shots(page, "dependent-heads-transformer-train", demo)


def test_gae_values_box_says_how_many_numbers_it_needs(page: Page, shots: Callable) -> None:
    page.goto("/lessons/ppo")
    demo = page.locator(GAE)
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    values = demo.locator('[name="values"]')
    note = demo.locator(".control-note")
    expect(note).to_have_text("needs 10 or 11 numbers (rewards has 10).")  # before any run
    wait_finished(page, sel=GAE)  # it runs once seen
    expect(note).to_have_attribute("data-unmet", "false")
    assert values.evaluate("el => el.closest('.control').contains(document.querySelector("
                           f"'{GAE} .control-note'))")  # under the values box

    demo.locator('[name="rewards"]').fill("0, 0, 1, 10")  # the rewards box moved
    expect(note).to_have_text("needs 4 or 5 numbers (rewards has 4); it has 10.")
    expect(note).to_have_attribute("data-unmet", "true")
    demo.locator('[name="rewards"]').press("Tab")  # a change: a live demo would rerun
    expect(demo.locator(".demo-status")).to_have_text(
        "Not run: values needs 4 or 5 numbers (rewards has 4); it has 10.")
    shots(page, "dependent-gae-values-unmet", demo)
    assert demo.evaluate("el => el.livegrad.record.params.rewards") != "0, 0, 1, 10"

    values.fill("1, 1, 1, 1, 0")
    expect(note).to_have_text("needs 4 or 5 numbers (rewards has 4).")
    expect(note).to_have_attribute("data-unmet", "false")
    values.press("Enter")
    record = wait_finished(page, {"rewards": "0, 0, 1, 10", "values": "1, 1, 1, 1, 0"}, sel=GAE)
    assert len(record["result"]["advantages"]) == 4
