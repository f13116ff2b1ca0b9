"""A run that ends in an error says so in the page, and nothing drawn after hides it.

The stream is played by the browser from a canned body (a frame, then the `error` a
server sends when a worker dies), so the page's handling is tested alone and exactly.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

MESSAGE = ("PPO balances a pole stopped: the process computing it was killed (signal 9, often "
           "out of memory). Try again or use smaller settings.")


def test_an_error_after_frames_stays_on_screen(page: Page) -> None:
    frame = {"step": 189, "progress": 0.95, "charts": {}, "metrics": {"episodes": 330}}
    body = (f"event: frame\ndata: {json.dumps(frame)}\n\n"
            f"event: error\ndata: {json.dumps({'message': MESSAGE})}\n\n")
    page.route("**/api/demos/ppo-cartpole/stream", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=body))
    page.goto("/lessons/ppo")
    demo = page.locator('[data-demo="ppo-cartpole"]')
    demo.scroll_into_view_if_needed()
    demo.locator('[data-action="run"]').click()
    status = demo.locator(".demo-status")
    expect(status).to_have_text(MESSAGE)
    expect(demo.locator('[data-action="stop"]')).to_be_disabled()  # the run is over
    page.wait_for_timeout(500)  # several animation frames: the last frame was drawn first
    expect(status).to_have_text(MESSAGE)
    assert status.get_attribute("data-kind") == "error"
