"""A share URL from GET /api/lessons/{slug} opens the page on those values, read by the
page's own parsing (share.js, controls.js)."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import Browser

from app.demos import registry
from tests.helpers import ServerProcess
from tests.test_lesson_api import LESSON

pytestmark = pytest.mark.browser


def test_a_share_url_sets_the_controls_in_a_browser(browser: Browser, tmp_path):
    """Shared at k=2 and the moons, the link still opens on them after the fence changed
    to k=5."""
    (tmp_path / "clusters.md").write_text(LESSON)
    with ServerProcess(lessons_dir=str(tmp_path)) as server:
        moons = httpx.get(f"{server.url}/api/lessons/clusters").json()["instances"][0]
        (tmp_path / "clusters.md").write_text(
            LESSON.replace("dataset: moons\nk: 2\n", "dataset: blobs\nk: 5\n"))
        page = browser.new_page(base_url=server.url)
        try:
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(moons["share_url"])
            presets = page.locator("#demo-two-moons").get_attribute("data-presets")
            assert json.loads(presets)["k"] == 5  # the page's own preset changed...
            # ...and the link still sets what was shared.
            page.wait_for_function("document.querySelector('#two-moons-k').value === '2'")
            assert page.locator("#two-moons-dataset").input_value() == "moons"
            assert page.locator("#plain-k").input_value() == str(
                registry()["kmeans"].defaults()["k"])  # another instance: untouched
            assert errors == []
        finally:
            page.close()
