"""Control kinds the other browser tests leave alone (static/js/runtime/controls.js): a
log-scale slider read from and written to a shared link, a select of numbers, the CSV
export, and clearing clicked points."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

ATTENTION = "#demo-attention"  # its temperature slider moves over log10
KMEANS = "#demo-kmeans"  # the lesson's first full kmeans demo (a hook with k only opens the lesson)


def test_a_log_slider_reads_and_writes_its_value_not_its_position(page: Page) -> None:
    page.goto("/lessons/transformer?attention.temperature=0.2")
    demo = page.locator(ATTENTION)
    slider = demo.locator('[name="temperature"]')
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    wait_finished(page, {"temperature": 0.2}, sel=ATTENTION)  # a link runs once seen
    assert float(slider.input_value()) == pytest.approx(-0.7)  # log10(0.2), on the 0.01 grid
    expect(demo.locator('output[for$="-temperature"]')).to_have_text("0.2")
    assert slider.get_attribute("aria-valuetext") == "temperature τ 0.2"

    set_range(slider, -1)  # position -1: the value 0.1
    expect(demo.locator('output[for$="-temperature"]')).to_have_text("0.1")
    wait_finished(page, {"temperature": 0.1}, sel=ATTENTION)  # a live demo reruns
    assert parse_qs(urlsplit(page.url).query)["attention.temperature"] == ["0.1"]


def test_a_log_slider_sends_a_value_off_its_grid_exactly_until_it_is_moved(page: Page) -> None:
    # log10(0.25) = -0.602 sits between grid points: the slider shows -0.60, which alone
    # would read 10^-0.6 = 0.251, and the run would not be the one the link asked for.
    page.goto("/lessons/transformer?attention.temperature=0.25")
    demo = page.locator(ATTENTION)
    slider = demo.locator('[name="temperature"]')
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    wait_finished(page, {"temperature": 0.25}, sel=ATTENTION)
    assert float(slider.input_value()) == pytest.approx(-0.6)
    expect(demo.locator('output[for$="-temperature"]')).to_have_text("0.25")
    set_range(slider, -0.59)  # one step up: now the slider's own value
    expect(demo.locator('output[for$="-temperature"]')).to_have_text("0.257")
    wait_finished(page, {"temperature": 0.257}, sel=ATTENTION)


def test_csv_export_has_a_row_per_charted_point(page: Page) -> None:
    page.goto("/lessons/kmeans?kmeans.n_points=60")
    demo = page.locator(KMEANS)
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")  # a link runs once seen
    wait_finished(page, {"n_points": 60}, sel=KMEANS)
    with page.expect_download() as info:
        demo.locator('[data-action="export-csv"]').click()
    download = info.value
    assert download.suggested_filename == "livegrad-kmeans.csv"
    rows = open(download.path(), encoding="utf-8").read().splitlines()
    assert rows[0] == "chart,trace,index,x,y"
    assert sum(row.startswith("clusters,cluster") for row in rows) == 60


def test_clear_points_empties_the_list_and_the_chart(page: Page) -> None:
    page.goto("/lessons/kmeans")
    demo = page.locator(KMEANS)
    plot = demo.locator('.plot[data-chart="clusters"]')
    plot.scroll_into_view_if_needed()
    wait_finished(page, sel=KMEANS)
    box = plot.evaluate("""el => { const r = el.getBoundingClientRect(), s = el._fullLayout._size;
                           return {x: r.left + s.l + s.w / 2, y: r.top + s.t + s.h / 2}; }""")
    page.mouse.click(box["x"], box["y"])
    expect(demo.locator(".points-count")).to_have_text("1 point")
    expect(demo.locator('[name="dataset"]')).to_have_value("custom")
    demo.locator('[data-action="clear-points"]').click()
    expect(demo.locator(".points-count")).to_have_text("0 points")
    assert demo.locator('[name="points"]').input_value() == "[]"
    assert plot.evaluate("el => el.data.length") == 0
