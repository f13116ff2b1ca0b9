"""The RNN lesson in a real Chromium: the gradient through time on a log axis, clipping,
and the memory heatmap going dark for a vanilla RNN but staying lit for an LSTM.

Runs are kept short (the memory demos at 20 training steps) so the file costs a few
seconds of server CPU; the full runs are checked in tests/lesson_claims/test_rnn.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import FINISHED, set_range

pytestmark = pytest.mark.browser

LESSON = "/lessons/rnn"
EXPLODING = "#demo-exploding"
VANILLA = "#demo-vanilla"
LSTM = "#demo-lstm"


TRACES = """([sel, chart]) => {
  const div = document.querySelector(sel).querySelector(`.plot[data-chart="${chart}"]`);
  return (div.data || []).map(t => ({type: t.type, name: t.name, x: t.x, y: t.y, z: t.z}));
}"""


def traces(page: Page, sel: str, chart: str) -> list[dict]:
    return page.evaluate(TRACES, [sel, chart])


def run_and_wait(page: Page, sel: str, want: dict, timeout: float = 60_000) -> dict:
    """Press Run, wait for the run with ``want``; its result. The page must send the
    demo's exact defaults for every other number the lesson's claims were measured with
    (a log slider that rounds 0.005 to 0.00501 would run another experiment)."""
    demo = page.locator(sel)
    demo.locator('[data-action="run"]').click()
    page.wait_for_function(FINISHED, arg=[sel, want], timeout=timeout)
    record = page.evaluate(f"document.querySelector('{sel}').livegrad.record")
    slug = demo.get_attribute("data-demo")
    defaults = page.request.get(f"/api/demos/{slug}").json()["defaults"]
    for name in ("lr", "clip", "forget_bias", "hidden", "spectral_radius"):
        if name in defaults and name not in want and name in record["params"]:
            assert record["params"][name] == defaults[name], name
    return record["result"]


def test_gradient_line_follows_rho_and_clipping_stops_the_spikes(page: Page,
                                                                 shots: Callable) -> None:
    page.goto(LESSON)
    expect(page.locator("article.lesson h1")).to_have_text(
        "Recurrent networks and gradients through time")
    demo = page.locator(EXPLODING)
    demo.scroll_into_view_if_needed()
    result = run_and_wait(page, EXPLODING, {"spectral_radius": 0.5})
    measured, dashed = traces(page, EXPLODING, "by_time")[:2]
    # On a log axis, 51 points from k = 0 to 50, falling by about 15 decades along the line.
    assert measured["x"][0] == 0 and measured["x"][-1] == 50
    assert math.log10(measured["y"][0] / measured["y"][-1]) == pytest.approx(15, abs=0.5)
    assert abs(math.log10(measured["y"][30] / dashed["y"][30])) < 0.1
    assert result["growth_per_step"] == pytest.approx(math.log(0.5), abs=0.01)
    expect(demo.locator(".demo-metrics")).to_contain_text("-0.69")
    axis_type = page.evaluate(f"""document.querySelector('{EXPLODING}')
        .querySelector('.plot[data-chart="by_time"]').layout.yaxis.type""")
    assert axis_type == "log"

    set_range(demo.locator('[name="spectral_radius"]'), 1.5)
    result = run_and_wait(page, EXPLODING, {"spectral_radius": 1.5})
    assert result["diverged"] and not result["diverged_clipped"]
    plain, clipped, chance = traces(page, EXPLODING, "loss")[:3]
    assert plain["x"][:3] == [1, 2, 3] and plain["x"][-3:] == [98, 99, 100], plain["x"]
    assert max(y for y in plain["y"] if y is not None) > 2 * math.log(4)
    assert max(clipped["y"]) < 2 * math.log(4)
    assert chance["y"][0] == pytest.approx(math.log(4), abs=1e-5)
    shots(page, "rnn-exploding", demo)


def test_vanilla_heatmap_goes_dark_and_lstm_stays_lit(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    for sel in (VANILLA, LSTM):
        demo = page.locator(sel)
        demo.scroll_into_view_if_needed()
        set_range(demo.locator('[name="steps"]'), 20)
        result = run_and_wait(page, sel, {"steps": 20})
        heat = traces(page, sel, "grad_time")[0]
        assert heat["type"] == "heatmap"
        assert len(heat["x"]) == 51  # t = 0 … 50
        first_row = heat["z"][0]
        if sel == VANILLA:
            assert first_row[0] == -10  # dark: below 1e-10 of the last step's gradient
            assert result["first_to_last_ratio"] < 1e-12
        else:
            assert first_row[0] > -2  # lit: more than 1% of it reaches t = 0
            assert result["first_to_last_ratio"] > 1e-2
        assert first_row[-1] == 0
        held = traces(page, sel, "accuracy")[1]
        assert held["x"] == [10, 20]
        shots(page, f"rnn-memory-{sel[6:]}", demo)
