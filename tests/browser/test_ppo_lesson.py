"""The RL lesson in a real browser: PPO's return curve climbs, Stop ends the job, and a
finished run plays the balancing animation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LESSON = "/lessons/ppo"
PPO = '[data-demo="ppo-cartpole"]'

MEAN_LINE = """(sel) => {
  const div = document.querySelector(sel).querySelector('.plot[data-chart="returns"]');
  const line = (div.data || [])[1];
  return line ? Array.from(line.y) : [];
}"""

FINISHED = """(sel) => {
  const demo = document.querySelector(sel).livegrad;
  return !!(demo && demo.record && demo.record.result && !demo.controller);
}"""


def test_return_curve_climbs_and_stop_ends_the_job(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(PPO)
    demo.scroll_into_view_if_needed()
    # Keep training after solving, so the run is surely still going when we press Stop.
    box = demo.locator('input[name="stop_when_solved"]')
    if box.is_checked():
        box.uncheck()
    demo.locator('[data-action="run"]').click()
    climbing = f"(sel) => {{ const y = ({MEAN_LINE})(sel); return y.at(-1) > 100; }}"
    page.wait_for_function(climbing, arg=PPO, timeout=90_000)
    climbed = page.evaluate(MEAN_LINE, PPO)
    assert climbed[-1] > climbed[0] + 50  # the mean of the last 20 returns went up
    stop = demo.locator('[data-action="stop"]')
    stop.click()
    expect(stop).to_be_disabled(timeout=10_000)
    # Stopped mid-run, not finished: 100 000 steps take seconds, the climb a fraction.
    expect(demo.locator(".demo-status")).to_have_text("Stopped.")
    frames = page.evaluate(f"() => document.querySelector('{PPO}').livegrad.record.frames")
    page.wait_for_timeout(1500)
    # The job ended: no more frames arrive after Stop.
    assert page.evaluate(f"() => document.querySelector('{PPO}').livegrad.record.frames") == frames
    shots(page, "ppo-stopped", demo)


def test_a_solved_run_plays_the_balancing_animation(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(PPO)
    demo.scroll_into_view_if_needed()
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(FINISHED, arg=PPO, timeout=120_000)
    record = page.evaluate(f"() => document.querySelector('{PPO}').livegrad.record")
    assert record["result"]["final_mean_return"] >= 475
    assert record["result"]["solved_at_step"] > 0
    assert record.get("animated", 0) >= 1
    assert record["metrics"][-2]["mean_return_20"] >= 475  # the frame that reported it
    heat = page.evaluate(
        f"""() => document.querySelector('{PPO}')
            .querySelector('.plot[data-chart="policy"]').data[0].type""")
    assert heat == "heatmap"
    shots(page, "ppo-solved", demo)
