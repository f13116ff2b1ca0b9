"""The runtime speaks the page's language (issue 23): on a page that carries translations
in <script type="application/json" id="livegrad-messages"> (templates/base.html), the
status line, the metric chips and the timeline say them; the rest falls back to English."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.demo_page import wait_finished

pytestmark = pytest.mark.browser

MESSAGES = {
    "Runs when you change a control.": "改动控件即运行。",
    "Done: {frames} in {seconds} s{note}.": "完成：{frames}，用时 {seconds} 秒{note}。",
    "{n} frames": "{n} 帧",
    "frame {frame} of {frames} · step {step}": "第 {frame}/{frames} 帧 · 第 {step} 步",
    "Zoom": "缩放",  # Plotly's own words, through its locale
}


def with_messages(route: Route) -> None:
    """The English lesson page, as a page in Chinese carries the runtime's words."""
    response = route.fetch()
    element = ('<script type="application/json" id="livegrad-messages">'
               f"{json.dumps(MESSAGES, ensure_ascii=False)}</script>")
    html = response.text().replace('<html lang="en">', '<html lang="zh">', 1)
    html = html.replace("<head>", f"<head>{element}", 1)
    route.fulfill(response=response, body=html)


def test_a_page_with_translations_shows_them_in_the_status_line(page: Page) -> None:
    frames = [{"step": s, "progress": s / 2, "charts": {}, "metrics": {"inertia": 10.0 / s},
               "metric_labels": {"inertia": "惯性"}} for s in (1, 2)]
    body = "".join(f"event: frame\ndata: {json.dumps(f)}\n\n" for f in frames)
    body += f"event: done\ndata: {json.dumps({'result': {}, 'frames': 2})}\n\n"
    languages = []

    def stream(route: Route) -> None:
        languages.append(route.request.headers.get("accept-language"))
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream", "X-Cache": "miss"},
                      body=body)

    page.route("**/api/demos/kmeans/stream*", stream)
    page.route("**/lessons/kmeans", with_messages)
    page.goto("/lessons/kmeans")

    # A demo not yet run says how it starts, translated.
    expect(page.locator("#demo-two-moons .demo-status")).to_have_text("改动控件即运行。")
    demo = page.locator("#demo-first-look")
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel="#demo-first-look")
    assert languages and set(languages) == {"zh"}, languages  # the server answers in Chinese
    status = demo.locator(".demo-status").inner_text()
    assert re.fullmatch(r"完成：2 帧，用时 [0-9.]+ 秒。", status), status
    # The frame's words for its metric name, and a readout the catalogue lacks: English.
    expect(demo.locator(".demo-metrics dt")).to_have_text(["惯性"])
    expect(demo.locator(".timeline-readout")).to_have_text("第 2/2 帧 · 第 2 步")
    expect(demo.locator('.demo-timeline [data-action="pause"]')).to_have_text("❚❚ Pause")
    expect(demo.locator('.modebar-btn[data-attr="dragmode"][data-val="zoom"]').first) \
        .to_have_attribute("aria-label", "缩放")

    # t() itself: a known message with its placeholders, an unknown one as it is.
    said = page.evaluate("""async () => {
      const { t } = await import("livegrad/i18n.js");
      return [t("{n} frames", { n: 3 }), t("Stopped."), t("{a} and {b}", { a: 1 })];
    }""")
    assert said == ["3 帧", "Stopped.", "1 and {b}"]
