"""Issue 16, interaction first, in a real browser: the table of contents folds away on a
phone, long listings fold behind "Show code" and copy to the clipboard, and controls a
lesson hides are not shown but still sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import wait_finished

pytestmark = pytest.mark.browser


def test_on_a_phone_the_table_of_contents_is_one_line_under_the_title(new_page) -> None:
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/lessons/kmeans")
    toc = page.locator("nav.toc")
    summary = toc.locator("summary")
    expect(summary).to_have_text("On this page")
    expect(toc.locator("ol")).to_be_hidden()
    title, box = page.locator("article.lesson h1").bounding_box(), toc.bounding_box()
    assert box["y"] > title["y"] + title["height"]  # under the title, not above it
    assert box["height"] < 80  # one line, where the open list filled the first screen
    summary.click()
    expect(toc.locator("ol")).to_be_visible()
    toc.get_by_role("link", name="Exercises").click()
    expect(toc.locator("ol")).to_be_hidden()  # it folds again once the student has gone
    assert page.evaluate("location.hash") == "#exercises"


def test_on_a_wide_screen_the_table_of_contents_stands_open_beside_the_lesson(page) -> None:
    page.goto("/lessons/kmeans")
    toc = page.locator("nav.toc")
    expect(toc.locator("ol")).to_be_visible()
    body = page.locator(".lesson-body").bounding_box()
    assert toc.bounding_box()["x"] + toc.bounding_box()["width"] <= body["x"]


def test_a_long_listing_opens_on_show_code_and_copies_offline(new_page) -> None:
    page = new_page(viewport={"width": 1280, "height": 900},
                    permissions=["clipboard-read", "clipboard-write"])
    page.goto("/lessons/autograd")
    figure = page.locator("figure.source", has_text="scalar_engine.py · Value")
    code = figure.locator("pre code")
    expect(code).to_be_hidden()
    show = figure.get_by_text("Show code (")
    expect(show).to_have_text("Show code (165 lines)")
    show.click()
    expect(code).to_be_visible()
    figure.get_by_role("button", name="Copy").click()
    expect(figure.get_by_role("button", name="✓ Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code.text_content()
    assert copied.startswith("class Value") and copied.count("\n") >= 164


def test_the_whole_file_listing_does_not_repeat_functions_shown_above(page: Page) -> None:
    page.goto("/lessons/kmeans")
    whole = page.locator("figure.source", has_text="whole file")
    expect(whole.locator(".source-name")).to_contain_text(
        "the bodies of assign_to_nearest, update_centroids, lloyd_steps, Restarts, kmeans")
    text = whole.locator("pre code").text_content()
    assert text.count("...  # shown above") == 5
    assert "def lloyd_steps(" in text and "for _ in range(max_iter)" not in text


def test_hidden_controls_are_not_shown_but_send_the_lessons_values(page: Page) -> None:
    page.goto("/lessons/kmeans")
    hook = page.locator("#demo-first-look")
    expect(hook.locator("h3")).to_have_text("Four groups, three centres")
    visible = hook.locator(".control:visible")
    expect(visible).to_have_count(1)
    expect(visible.locator("input")).to_have_attribute("name", "k")
    hook.get_by_role("button", name="▶ Run", exact=True).click()
    record = wait_finished(page, {"k": 3}, sel="#demo-first-look")
    assert record["params"]["dataset"] == "blobs" and record["params"]["n_points"] == 400
    assert record["params"]["max_iter"] == 20 and record["params"]["init"] == "random"
