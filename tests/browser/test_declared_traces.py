"""Charts declare their traces: the page draws them before Run, and each run starts from them.

Streams are canned by the browser (``page.route``), so what the page does with a chart's
declared traces is tested alone: the gae demo declares a bar trace and a line for its
"episode" chart (app/demos/gae.py).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from app.demos import registry

pytestmark = pytest.mark.browser

DEMO = '[data-demo="gae"]'
NAMES = """(sel) => {
  const div = document.querySelector(sel).querySelector('.plot[data-chart="episode"]');
  return (div.data || []).map(t => ({name: t.name, type: t.type, n: (t.x || []).length}));
}"""


def declared(chart: str) -> list[str]:
    """The trace names the gae demo declares for ``chart`` (what /api/demos serves)."""
    return [t["name"] for c in registry()["gae"].describe()["charts"] if c["id"] == chart
            for t in c["traces"]]


def canned(frames: list[dict]) -> str:
    body = "".join(f"event: frame\ndata: {json.dumps(f)}\n\n" for f in frames)
    return body + f"event: done\ndata: {json.dumps({'frames': len(frames), 'result': {}})}\n\n"


def test_declared_traces_are_drawn_before_any_frame_arrives(page: Page) -> None:
    page.route("**/api/demos/gae/stream", lambda route: None)  # the stream never answers
    page.goto("/lessons/ppo")
    demo = page.locator(DEMO)
    demo.scroll_into_view_if_needed()
    traces = page.evaluate(NAMES, DEMO)
    assert [t["name"] for t in traces] == declared("episode") == ["reward r_t", "value V(s_t)"]
    assert [t["n"] for t in traces] == [0, 0]  # axes and legend, no data yet


def test_every_run_starts_from_the_declared_traces(page: Page) -> None:
    # Each run appends one point to the bars: two runs must show one point, not two.
    frame = {"step": 1, "progress": 1.0, "metrics": {},
             "charts": {"episode": {"op": "extend", "traces": [0], "x": [[3]], "y": [[7]],
                                    "max_points": 100}}}
    page.route("**/api/demos/gae/stream", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=canned([frame])))
    page.goto("/lessons/ppo")
    demo = page.locator(DEMO)
    demo.scroll_into_view_if_needed()
    status = demo.locator(".demo-status")
    for _ in range(2):
        demo.locator('[data-action="run"]').click()
        expect(status).to_contain_text("Done")
        page.wait_for_timeout(200)  # a few animation frames: drawing is batched per frame
    traces = page.evaluate(NAMES, DEMO)
    assert [t["name"] for t in traces] == ["reward r_t", "value V(s_t)"]
    assert [t["n"] for t in traces] == [1, 0]
