"""A student's controls over a run (issue 17): the timeline (pause, step, scrub), pinning a
run to compare the next one with, and each chart's data table. All generic: each is driven
on three different demos.

What the charts show is checked against the run's own frames folded here, in Python,
independently of the page's code: a react op replaces a chart's traces, an extend op
appends to them."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

FRAMES = "(sel) => document.querySelector(sel).livegrad.timeline.frames"
DECLARED = "(sel) => JSON.parse(document.querySelector(sel).dataset.charts)"
# What each chart draws now: its traces' x, y and z (and names, for the ghosts).
DRAWN = """(sel) => Object.fromEntries(Object.entries(document.querySelector(sel).livegrad.charts)
  .map(([id, c]) => [id, (c.div.data || []).map(t => ({name: t.name ?? null, x: t.x ?? null,
                                                         y: t.y ?? null, z: t.z ?? null}))]))"""

# (lesson, instance, a parameter to change for a second run, its new value)
DEMOS = [
    ("kmeans", "kmeans", "seed", 1),
    ("autograd", "gradient-flow", "seed", 1),
    ("transformer", "transformer-train", "seed", 1),
]


def folded(frames: list[dict], declared: dict, chart: str, last: int) -> list[dict]:
    """Chart `chart`'s traces after frames[0..last]: declared, then each op applied."""
    traces = copy.deepcopy(declared.get("traces") or [])
    for frame in frames[: last + 1]:
        op = (frame.get("charts") or {}).get(chart)
        if not op:
            continue
        if op["op"] in ("react", "animate"):
            traces = copy.deepcopy(op["data"])
        elif op["op"] == "extend":
            for k, index in enumerate(op["traces"]):
                trace = traces[index]
                for axis in ("x", "y"):
                    trace[axis] = ((trace.get(axis) or []) + op[axis][k])[-op["max_points"]:]
    return traces


def as_drawn(traces: list[dict]) -> list[tuple]:
    return [(t.get("x"), t.get("y"), t.get("z")) for t in traces]


def expected_at(page: Page, sel: str, last: int) -> dict[str, list[tuple]]:
    frames = page.evaluate(FRAMES, sel)
    return {c["id"]: as_drawn(folded(frames, c, c["id"], last))
            for c in page.evaluate(DECLARED, sel)}


def drawn_now(page: Page, sel: str) -> dict[str, list[tuple]]:
    return {chart: as_drawn([t for t in traces if not (t["name"] or "").startswith("pinned")
                             and "(pinned)" not in (t["name"] or "")])
            for chart, traces in page.evaluate(DRAWN, sel).items()}


def eventually(check: Callable[[], bool], tries: int = 50) -> bool:
    """True once `check()` holds (the page draws on its next animation frame)."""
    for _ in range(tries):
        if check():
            return True
        time.sleep(0.1)
    return check()


def open_demo(page: Page, lesson: str, instance: str) -> tuple[Locator, str]:
    page.goto(f"/lessons/{lesson}")
    sel = f"#demo-{instance}"
    demo = page.locator(sel)
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    return demo, sel


def run_and_wait(page: Page, demo: Locator, sel: str, want: dict | None = None) -> dict:
    demo.locator('[data-action="run"]').click()
    return wait_finished(page, want, sel=sel, timeout=90_000)


def change(demo: Locator, name: str, value) -> None:
    """Set a control as the student does (demo_page.set_range: value, input, change)."""
    set_range(demo.locator(f'[name="{name}"]'), value)


# ---- the timeline --------------------------------------------------------------------


@pytest.mark.parametrize(("lesson", "instance", "_name", "_value"), DEMOS)
def test_scrubbing_redraws_every_chart_as_of_that_frame(page: Page, shots, lesson, instance,
                                                        _name, _value):
    demo, sel = open_demo(page, lesson, instance)
    run_and_wait(page, demo, sel)
    frames = page.evaluate(FRAMES, sel)
    n = len(frames)
    assert n >= 4, f"{instance} ran {n} frames: too few to scrub"
    readout = demo.locator(".timeline-readout")
    expect(readout).to_have_text(f"frame {n} of {n} · step {frames[-1]['step']}")

    scrubber = demo.locator(".timeline-scrubber")
    scrubber.focus()
    page.keyboard.press("Home")
    for _ in range(2):
        page.keyboard.press("ArrowRight")  # frame 3: two steps forward from the first
    expect(readout).to_have_text(re.compile(rf"^frame 3 of {n} · step {frames[2]['step']}"))
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, 2))
    page.keyboard.press("ArrowLeft")
    expect(readout).to_have_text(re.compile(r"^frame 2 of "))
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, 1))

    middle = n // 2  # the scrubber dragged: an input event at that value
    scrubber.evaluate("(el, v) => { el.value = String(v); "
                      "el.dispatchEvent(new Event('input', {bubbles: true})); }", middle)
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, middle))
    # The metric chips are those of that frame too (each metric's latest value by then).
    chips = dict(zip(demo.locator(".demo-metrics dt").all_inner_texts(),
                     demo.locator(".demo-metrics dd").all_inner_texts(), strict=True))
    latest = {}
    for frame in frames[: middle + 1]:
        latest.update(frame.get("metrics") or {})
    assert len(chips) == len(latest)
    expect(demo.locator('[data-action="pause"]')).to_have_text("▶ Resume")
    shots(page, f"timeline-scrubbed-{instance}", demo)

    page.keyboard.press("End")  # back to the end, following again
    expect(readout).to_have_text(f"frame {n} of {n} · step {frames[-1]['step']}")
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, n - 1))
    expect(demo.locator('[data-action="pause"]')).to_have_text("❚❚ Pause")


def test_a_run_replayed_from_the_cache_scrubs_the_same_way(page: Page):
    demo, sel = open_demo(page, "autograd", "gradient-flow")
    change(demo, "seed", 4343)  # a seed no other test runs: the first run computes
    computed = run_and_wait(page, demo, sel, {"seed": 4343})
    first_frames = page.evaluate(FRAMES, sel)
    replayed = run_and_wait(page, demo, sel)  # the same values: the cache answers
    assert (computed["cache"], replayed["cache"]) == ("miss", "hit")
    assert page.evaluate(FRAMES, sel) == first_frames
    demo.locator(".timeline-scrubber").focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    expect(demo.locator(".timeline-readout")).to_have_text(re.compile(r"^frame 2 of "))
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, 1))


@pytest.mark.parametrize(("lesson", "instance"), [
    ("transformer", "transformer-train"), ("crf", "crf-tagger"), ("ppo", "ppo-cartpole")])
def test_pause_keeps_the_run_going_and_resume_catches_up(page: Page, lesson, instance):
    demo, sel = open_demo(page, lesson, instance)
    change(demo, "seed", 4545)  # a run no other test makes: computed, not replayed
    demo.locator('[data-action="run"]').click()
    # The student presses Pause while the run is young: at the second frame, pressed in
    # the page (a round trip from the test could come after a fast run's last frame).
    held = page.evaluate("""(sel) => new Promise((resolve) => {
      const demo = document.querySelector(sel).livegrad;
      const look = () => {
        if (demo.timeline.frames.length < 2) { requestAnimationFrame(look); return; }
        document.querySelector(`${sel} [data-action="pause"]`).click();
        resolve(demo.timeline.cursor);
      };
      look();
    })""", sel)
    wait_finished(page, sel=sel, timeout=120_000)
    frames = page.evaluate(FRAMES, sel)
    assert len(frames) > held + 1, "the run went on while paused"
    # Still the frame it was paused at, and it says how many arrived since.
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, held))
    behind = len(frames) - 1 - held
    expect(demo.locator(".timeline-readout")).to_have_text(re.compile(rf"· {behind} newer$"))

    demo.locator(".timeline-scrubber").focus()
    page.keyboard.press(" ")  # Space resumes: straight to the newest frame
    expect(demo.locator(".timeline-readout")).to_have_text(
        f"frame {len(frames)} of {len(frames)} · step {frames[-1]['step']}")
    assert eventually(lambda: drawn_now(page, sel) == expected_at(page, sel, len(frames) - 1))


# ---- compare with a pinned run -------------------------------------------------------


@pytest.mark.parametrize(("lesson", "instance", "name", "value"), DEMOS)
def test_a_pinned_run_stays_as_ghosts_under_the_next_and_a_table_compares_them(
        page: Page, shots, lesson, instance, name, value):
    demo, sel = open_demo(page, lesson, instance)
    first = run_and_wait(page, demo, sel)
    pinned_draw = drawn_now(page, sel)
    pin = demo.locator('[data-action="pin"]')
    pin.click()
    expect(pin).to_have_text("Unpin")
    table = demo.locator(".demo-compare")
    expect(table).to_contain_text("Same settings as the pinned run.")

    change(demo, name, value)
    second = run_and_wait(page, demo, sel, {name: value})
    assert first["params"][name] != second["params"][name]
    drawn = page.evaluate(DRAWN, sel)
    declared = {c["id"]: c for c in page.evaluate(DECLARED, sel)}
    frames = page.evaluate(FRAMES, sel)
    ghosted = 0
    for chart, traces in drawn.items():
        ghosts = [t for t in traces if (t["name"] or "").startswith("pinned run")
                  or "(pinned)" in (t["name"] or "")]
        appended = sorted({i for f in frames for op in [(f.get("charts") or {}).get(chart)]
                           if op and op["op"] == "extend" for i in op["traces"]})
        if not appended:
            assert not ghosts, f"{chart} appends nothing, so it has no ghosts"
            continue
        ghosted += 1
        # The pinned run's appended curves, as they ended, named after what differs.
        assert [(g["x"], g["y"]) for g in ghosts] == [
            (pinned_draw[chart][i][0], pinned_draw[chart][i][1]) for i in appended]
        assert ghosts[0]["name"] == f"pinned run: {name} {first['params'][name]}"
        # ... over this run's curves, which are this run's own.
        assert drawn_now(page, sel)[chart] == expected_at(page, sel, len(frames) - 1)[chart]
        assert declared[chart]
    assert ghosted >= 1

    differs = table.locator("tr.differs")
    expect(differs).to_have_count(1)
    expect(differs.locator("th")).to_have_text(f"≠ {name}")
    expect(differs.locator("td")).to_have_text([str(first["params"][name]), str(value)])
    # The result's key numbers side by side: one row per scalar of the result.
    scalars = [k for k, v in first["result"].items() if isinstance(v, int | float | str | bool)]
    rows = {r.locator("th").inner_text(): r.locator("td").all_inner_texts()
            for r in table.locator("tbody tr").all() if r.locator("td").count() == 2}
    assert set(scalars[:10]) <= set(rows)
    shots(page, f"pinned-{instance}", demo)

    pin.click()  # unpin: the ghosts and the table go
    expect(table).to_be_hidden()
    assert eventually(lambda: all(not (t["name"] or "").startswith("pinned run")
                                  for ts in page.evaluate(DRAWN, sel).values() for t in ts))


# ---- data tables, the mode bar, axe -----------------------------------------------------


def test_a_chart_data_table_lists_the_numbers_drawn_at_the_timeline_frame(page: Page, shots):
    demo, sel = open_demo(page, "kmeans", "kmeans")
    run_and_wait(page, demo, sel)
    inertia = demo.locator('.chart:has(.plot[data-chart="inertia"])')
    inertia.locator(".chart-data summary").click()
    scrubber = demo.locator(".timeline-scrubber")
    scrubber.evaluate("el => { el.value = '3'; "
                      "el.dispatchEvent(new Event('input', {bubbles: true})); }")
    want = [t for t in expected_at(page, sel, 3)["inertia"] if t[1]]
    rows = inertia.locator(".chart-data-body table").first.locator("tbody tr")
    expect(rows).to_have_count(len(want[0][1]))
    first_row = rows.first.locator("th, td").all_inner_texts()
    assert [float(v) for v in first_row] == pytest.approx([want[0][0][0], want[0][1][0]], rel=1e-5)
    shots(page, "data-table-kmeans", inertia)

    # Plotly's mode-bar tools are named buttons reachable by Tab.
    tools = demo.locator(".modebar-btn")
    assert tools.count() > 0
    for i in range(tools.count()):
        assert tools.nth(i).get_attribute("role") == "button"
        assert tools.nth(i).get_attribute("tabindex") == "0"
        assert tools.nth(i).get_attribute("aria-label")

    pin = demo.locator('[data-action="pin"]')
    pin.click()
    results = Axe().run(page)
    serious = [f"{v['id']}: {v['help']} — {v['nodes'][0]['html'][:120]}"
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)


# ---- what a chart and the chips say around a run ------------------------------------------


def test_an_empty_chart_says_what_fills_it_until_a_run_draws(page: Page):
    demo, sel = open_demo(page, "crf", "first-tags")  # Press Run: trains for seconds
    annotations = ("(sel) => Array.from(document.querySelectorAll(sel + ' .plot'))"
                   ".map(d => (d.layout.annotations || []).map(a => a.text).join())")
    before = page.evaluate(annotations, sel)
    assert before and all(text == "Press ▶ Run to draw this" for text in before), before
    change(demo, "epochs", 1)
    run_and_wait(page, demo, sel, {"epochs": 1})
    assert "Press ▶ Run to draw this" not in page.evaluate(annotations, sel)


def test_chips_get_every_frames_metrics_even_when_frames_arrive_together(page: Page):
    # Names no demo labels: a chip reads the name with spaces.
    frames = [{"step": 1, "progress": 0.3, "charts": {}, "metrics": {"first_m": 1}},
              {"step": 2, "progress": 0.6, "charts": {}, "metrics": {"first_m": 2,
                                                                     "second_m": 5.5}},
              {"step": 3, "progress": 1.0, "charts": {}, "metrics": {"third_m": 2}}]
    body = "".join(f"event: frame\ndata: {json.dumps(f)}\n\n" for f in frames)
    body += 'event: done\ndata: {"result": {}, "frames": 3}\n\n'
    page.route("**/api/demos/kmeans-elbow/stream*", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream", "X-Cache": "miss"}, body=body))
    demo, sel = open_demo(page, "kmeans", "kmeans-elbow")
    run_and_wait(page, demo, sel)
    chips = dict(zip(demo.locator(".demo-metrics dt").all_inner_texts(),
                     demo.locator(".demo-metrics dd").all_inner_texts(), strict=True))
    assert (chips.get("first m"), chips.get("second m"), chips.get("third m")) == (
        "2", "5.5", "2"), chips
    expect(demo.locator(".demo-status")).to_have_text(re.compile(r"^Done: 3 frames in "))
