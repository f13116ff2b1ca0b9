"""Honest state (issue 16): the page says what a demo does, what its charts show, and never
passes an old result off as the new one. Each promise on the demo the issue names and on
one other."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.demo_page import set_range, wait_finished

pytestmark = pytest.mark.browser

RECORD = "(sel) => document.querySelector(sel).livegrad.record"


def section(page: Page, instance: str) -> tuple[Locator, str]:
    sel = f"#demo-{instance}"
    return page.locator(sel), sel


def record_of(page: Page, sel: str) -> dict | None:
    return page.evaluate(RECORD, sel)


def show(demo: Locator) -> None:
    """Scroll the demo to the middle of the screen, as a student reading it would."""
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")


def set_value(demo: Locator, name: str, value) -> None:
    """Change a control the way the student does: its value, then input and change."""
    demo.locator(f'[name="{name}"]').evaluate(
        """(el, v) => { el.value = String(v);
          el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new Event('change', {bubbles: true})); }""", value)


def canned_stream(page: Page, slug: str, frames: list[dict], result: dict) -> None:
    """The next streams of `slug` answer these frames and a done, all at once."""
    body = "".join(f"event: frame\ndata: {json.dumps(f)}\n\n" for f in frames)
    body += f"event: done\ndata: {json.dumps({'result': result, 'frames': len(frames)})}\n\n"
    page.route(f"**/api/demos/{slug}/stream*", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream", "X-Cache": "miss"}, body=body))


# ---- 1. the status line says what the demo does; stale and refused results look it -------


@pytest.mark.parametrize(("lesson", "instance", "live"), [
    ("crf", "crf-tagger", False), ("autograd", "gradient-flow", False),
    ("kmeans", "kmeans", True), ("ppo", "gridworld", True)])
def test_before_any_run_the_status_says_what_starts_it(page: Page, lesson, instance, live):
    page.goto(f"/lessons/{lesson}")
    demo, _ = section(page, instance)
    expected = "Runs when you change a control." if live else "Press Run."
    expect(demo.locator(".demo-status")).to_have_text(expected)


@pytest.mark.parametrize(("lesson", "instance", "control", "other"), [
    ("autograd", "gradient-flow", "depth", 3), ("transformer", "transformer-train", "steps", 150)])
def test_a_control_moved_after_a_run_marks_its_results_out_of_date(
        page: Page, shots: Callable, lesson, instance, control, other):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel=sel, timeout=60_000)
    status = demo.locator(".demo-status")
    expect(status).to_have_text(re.compile(r"^Done: "))
    before = demo.locator(f'[name="{control}"]').input_value()

    set_value(demo, control, other)
    expect(status).to_have_text("Out of date: the controls changed since this run. Press Run.")
    expect(demo).to_have_class(re.compile(r"\bstale\b"))
    expect(demo.locator(".demo-charts")).to_have_css("opacity", "0.4")
    if instance == "gradient-flow":
        shots(page, "honest-out-of-date", demo.locator(".demo-actions"))

    set_value(demo, control, before)  # back to the values of the run: up to date again
    expect(status).to_have_text(re.compile(r"^Done: "))
    expect(demo).not_to_have_class(re.compile(r"\bstale\b"))


@pytest.mark.parametrize(("lesson", "instance"), [("kmeans", "kmeans"), ("ppo", "gridworld")])
def test_a_refused_value_is_named_on_its_field_and_dims_the_old_charts(
        page: Page, shots: Callable, lesson, instance):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    first = wait_finished(page, sel=sel)  # a live demo runs once seen
    seed = demo.locator('[name="seed"]')
    seed.fill("-1")
    seed.press("Enter")
    error = demo.locator(".control:has([name=seed]) .control-error")
    expect(error).to_contain_text("seed")
    expect(seed).to_have_attribute("aria-invalid", "true")
    status = demo.locator(".demo-status")
    expect(status).to_have_text(
        re.compile(r"^Not run: .*The dimmed charts are from the last run\.$"))
    assert status.get_attribute("data-kind") == "error"
    expect(demo).to_have_class(re.compile(r"\bstale\b"))
    assert record_of(page, sel)["result"] is None  # nothing new was computed...
    assert first["result"] is not None  # ...and the charts still hold the first run
    if instance == "kmeans":
        shots(page, "honest-refused", demo.locator(".control:has([name=seed])"))

    seed.fill("3")
    seed.press("Enter")
    wait_finished(page, {"seed": 3}, sel=sel)
    expect(error).to_have_count(0)
    expect(demo).not_to_have_class(re.compile(r"\bstale\b"))


# ---- 2. nothing runs before it is seen; short runs show every step ------------------------


def test_a_live_demo_runs_only_once_it_is_seen(page: Page) -> None:
    page.goto("/lessons/kmeans")
    page.wait_for_function("() => document.querySelector('#demo-circles').livegrad")
    for instance in ("circles", "no-clusters"):
        assert record_of(page, f"#demo-{instance}") is None, f"{instance} ran unseen"
    demo, sel = section(page, "circles")
    show(demo)
    wait_finished(page, sel=sel)
    assert record_of(page, "#demo-no-clusters") is None


def test_autorun_false_waits_for_run(page: Page) -> None:
    def off(route):
        html = route.fetch().text().replace('data-instance="circles"',
                                            'data-instance="circles" data-autorun="false"')
        route.fulfill(body=html, headers={"Content-Type": "text/html; charset=utf-8"})

    page.route("**/lessons/kmeans", off)
    page.goto("/lessons/kmeans")
    demo, sel = section(page, "circles")
    show(demo)
    page.wait_for_timeout(800)  # an auto-run would have started by now
    assert record_of(page, sel) is None
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel=sel)


@pytest.mark.parametrize(("lesson", "slug"), [("autograd", "jacobian"), ("ppo", "gae")])
def test_a_short_run_that_arrives_at_once_shows_each_step(page: Page, lesson, slug):
    frames = [{"step": i, "progress": i / 3, "charts": {}, "metrics": {"step_seen": i}}
              for i in (1, 2, 3)]
    canned_stream(page, slug, frames, {"steps": 3})
    page.goto(f"/lessons/{lesson}")
    demo = page.locator(f'[data-demo="{slug}"]').first
    sel = f"#{demo.get_attribute('id')}"
    show(demo)
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, sel=sel)
    assert record["frames"] == 3
    assert record["drawn"] == 3, "frames that arrived together were drawn as one"


# ---- 3. final numbers stay ---------------------------------------------------------------


def test_the_last_numbers_stay_when_a_run_ends(page: Page) -> None:
    frames = [{"step": 1, "progress": 0.5, "charts": {}, "metrics": {"loss": 0.5, "accuracy": 0.7}},
              {"step": 2, "progress": 1.0, "charts": {}, "metrics": {"loss": 0.25}}]
    canned_stream(page, "transformer-train", frames, {"loss": 0.25})
    page.goto("/lessons/transformer")
    demo, sel = section(page, "transformer-train")
    show(demo)
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel=sel)
    chips = dict(zip(demo.locator(".demo-metrics dt").all_inner_texts(),
                     demo.locator(".demo-metrics dd").all_inner_texts(), strict=True))
    assert chips.get("loss") == "0.25" and chips.get("held out accuracy", chips.get("accuracy"))


@pytest.mark.parametrize(("lesson", "instance"), [
    ("transformer", "transformer-train"), ("ppo", "ppo-cartpole")])
def test_a_real_run_ends_with_its_numbers_on_screen(page: Page, lesson, instance):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, sel=sel, timeout=60_000)
    page.wait_for_timeout(300)  # a few animation frames after the end
    last = {k: v for k, v in record["metrics"][-1].items() if k != "step"}  # step: the frame's
    values = demo.locator(".demo-metrics dd").all_inner_texts()
    assert len(values) >= len(last) and all(v.strip() for v in values)
    if instance == "transformer-train":  # its own "step" chip ends at the last step trained
        label = page.locator("dt", has_text=re.compile("^step$"))
        step = demo.locator(".demo-metrics div", has=label)
        expect(step.locator("dd")).to_have_text(f"{record['result']['steps_run']:,}")


# ---- 4. a replay says so and can skip to the end -----------------------------------------


@pytest.mark.parametrize(("lesson", "instance"), [
    ("transformer", "transformer-train"), ("crf", "crf-tagger")])
def test_a_replay_says_so_and_skips_to_the_end(page: Page, shots: Callable, lesson, instance):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    run = demo.locator('[data-action="run"]')
    # A seed no other test uses: the first run computes, frame by frame (crf-tagger would
    # otherwise reuse models another test trained in this worker and end in one frame,
    # leaving nothing to replay slowly enough to see, or to skip).
    seed = demo.locator('[name="seed"]')
    seed.fill("4242")
    seed.press("Enter")
    first = wait_finished(page, {"seed": 4242}, sel=sel, timeout=60_000)
    assert first["frames"] > 5
    skip = demo.locator('[data-action="skip"]')
    # The same values again: the server replays its recording, as long as the run took
    # (a second or two on a fast machine). The student presses Skip as soon as it shows:
    # pressed in the page, since a round trip from the test could come after the end.
    said = page.evaluate("""(sel) => new Promise((resolve) => {
      const section = document.querySelector(sel);
      const skip = section.querySelector('[data-action="skip"]');
      const look = () => {
        if (skip.hidden) { requestAnimationFrame(look); return; }
        const status = section.querySelector('.demo-status').textContent;
        skip.click();
        resolve(status);
      };
      section.querySelector('[data-action="run"]').click();
      look();
    })""", sel)
    assert re.match(r"^(Replayed from cache… step|Starting)", said), said
    again = wait_finished(page, sel=sel)
    expect(demo.locator(".demo-status")).to_have_text(
        re.compile(r"^Done: \d+ frames in [\d.]+ s · replayed from cache, skipped to the end\.$"))
    assert again["frames"] == first["frames"] and again["result"] == first["result"]
    expect(skip).to_be_hidden()
    if instance == "crf-tagger":  # a replay as the student sees it (or its end)
        run.click()
        expect(skip).to_be_visible()
        shots(page, "honest-replay", demo.locator(".demo-actions"))


# ---- 5. Enter runs ------------------------------------------------------------------------


@pytest.mark.parametrize(("lesson", "instance", "box", "text", "value"), [
    ("crf", "crf-tagger", "sentence", "Alice lives in Paris", "Alice lives in Paris"),
    ("kmeans", "kmeans", "seed", "9", 9)])
def test_enter_in_a_box_runs_the_demo(page: Page, lesson, instance, box, text, value):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    field = demo.locator(f'[name="{box}"]')
    field.fill(text)
    field.press("Enter")
    record = wait_finished(page, {box: value}, sel=sel, timeout=60_000)
    assert record["params"][box] == value


# ---- 6. reset, and what is shown = what the link holds = what is sent ---------------------


@pytest.mark.parametrize(("lesson", "instance", "moves"), [
    ("kmeans", "two-moons", {"k": 5, "dataset": "blobs"}),
    ("ppo", "gridworld", {"gamma": 0.5})])
def test_reset_returns_to_this_instances_preset(page: Page, lesson, instance, moves):
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    presets = json.loads(demo.get_attribute("data-presets") or "{}")
    show(demo)
    for name, value in moves.items():
        set_value(demo, name, value)
    wait_finished(page, moves, sel=sel)
    demo.locator('[data-action="reset"]').click()
    record = wait_finished(page, {k: presets[k] for k in moves}, sel=sel)
    assert record["params"] == presets
    assert not [k for k in parse_qs(urlsplit(page.url).query) if k.startswith(f"{instance}.")]


SHOWN = """(sel) => Object.fromEntries([...document.querySelector(sel)
  .querySelectorAll('.demo-controls [name]')].map(el => [el.name,
    el.type === 'checkbox' ? el.checked : el.value]))"""


@pytest.mark.parametrize(("lesson", "instance", "moves"), [
    ("kmeans", "kmeans", {"k": 6, "dataset": "circles", "n_init": 3}),
    ("autograd", "gradient-flow", {"depth": 4, "lr": -1.5})])
def test_what_a_control_shows_the_link_holds_and_the_run_sends_agree(
        page: Page, new_page: Callable, lesson, instance, moves):
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}"))
            if "/stream" in r.url else None)
    page.goto(f"/lessons/{lesson}")
    demo, sel = section(page, instance)
    show(demo)
    for name, value in moves.items():
        if demo.locator(f'input[type=range][name="{name}"]').count():
            set_range(demo.locator(f'[name="{name}"]'), value)
        else:
            set_value(demo, name, value)
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, sel=sel, timeout=60_000)
    assert sent[-1] == record["params"]
    shown = page.evaluate(SHOWN, sel)
    link = page.url

    other = new_page(viewport={"width": 1280, "height": 900})
    other_sent: list[dict] = []
    other.on("request", lambda r: other_sent.append(json.loads(r.post_data or "{}"))
             if "/stream" in r.url else None)
    other.goto(link)
    other_demo = other.locator(sel)
    show(other_demo)
    if not other_demo.get_attribute("data-live") == "true":
        other_demo.locator('[data-action="run"]').click()
    again = wait_finished(other, sel=sel, timeout=60_000)
    assert other_sent[-1] == sent[-1] == again["params"]
    assert other.evaluate(SHOWN, sel) == shown
    assert other.url == link


# ---- 7. a link with clicked points reproduces the run -------------------------------------


def kmeans_demo_after_its_first_run(page: Page, instance: str) -> tuple[Locator, str]:
    """A k-means demo of the lesson, seen, after the run seeing it starts."""
    page.goto("/lessons/kmeans")
    demo, sel = section(page, instance)
    show(demo)
    wait_finished(page, sel=sel)
    return demo, sel


def click_spots(page: Page, demo: Locator, spots: list[tuple[float, float]]) -> None:
    plot = demo.locator('.plot[data-chart="clusters"]')
    for fx, fy in spots:
        show(plot)
        box = plot.evaluate("""el => { const r = el.getBoundingClientRect();
          const s = el._fullLayout._size;
          return {x: r.left + s.l, y: r.top + s.t, w: s.w, h: s.h}; }""")
        page.mouse.click(box["x"] + fx * box["w"], box["y"] + fy * box["h"])


SPOTS = [(0.2, 0.25), (0.3, 0.7), (0.5, 0.45), (0.7, 0.2), (0.8, 0.8)]


@pytest.mark.parametrize("instance", ["kmeans", "kmeans-elbow"])
def test_a_link_with_clicked_points_reproduces_the_run(page: Page, new_page: Callable, instance):
    demo, sel = kmeans_demo_after_its_first_run(page, instance)
    if instance == "kmeans-elbow":
        set_value(demo, "k_max", 4)
        wait_finished(page, {"k_max": 4}, sel=sel)
    click_spots(page, demo, SPOTS)
    record = wait_finished(page, {"dataset": "custom"}, sel=sel)
    assert len(record["params"]["points"]) == len(SPOTS)
    assert f"{instance}.points" in parse_qs(urlsplit(page.url).query)

    other = new_page(viewport={"width": 1280, "height": 900})
    other.goto(page.url)
    other_demo = other.locator(sel)
    show(other_demo)
    again = wait_finished(other, sel=sel)
    assert again["params"] == record["params"] and again["result"] == record["result"]
    expect(other_demo.locator(".demo-status")).to_have_text(re.compile(r"^Done: "))


# ---- 8. placing points: a hint, not an error; n_points hides ------------------------------


@pytest.mark.parametrize("instance", ["kmeans", "kmeans-elbow"])
def test_placing_points_hints_instead_of_erring(page: Page, shots: Callable, instance):
    demo, sel = kmeans_demo_after_its_first_run(page, instance)
    n_points = demo.locator(".control:has([name=n_points])")
    expect(n_points).to_be_visible()
    k_name = "k" if instance == "kmeans" else "k_max"
    need = int(demo.locator(f'[name="{k_name}"]').input_value())

    status = demo.locator(".demo-status")
    click_spots(page, demo, SPOTS[:1])
    expect(demo.locator('[name="dataset"]')).to_have_value("custom")
    expect(n_points).to_be_hidden()  # it draws nothing when the points are yours
    expect(status).to_have_text(f"Add {need - 1} more points to run.")
    assert status.get_attribute("data-kind") == "hint"
    assert demo.locator(".control-error").count() == 0
    if instance == "kmeans":
        shots(page, "honest-points-hint", demo.locator(".demo-actions"))

    set_value(demo, "dataset", "blobs")
    expect(n_points).to_be_visible()


# ---- the same states in the dark theme (screenshots for review) ---------------------------


def test_honest_states_read_in_the_dark(new_page: Callable, shots: Callable) -> None:
    page = new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page.goto("/lessons/kmeans")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    demo, sel = section(page, "kmeans")
    show(demo)
    wait_finished(page, sel=sel)
    seed = demo.locator('[name="seed"]')
    seed.fill("-1")
    seed.press("Enter")
    expect(demo.locator(".control-error")).to_have_count(1)
    shots(page, "honest-refused-dark", demo.locator(".control:has([name=seed])"))
    seed.fill("0")
    click_spots(page, demo, SPOTS[:1])
    expect(demo.locator(".demo-status")).to_have_attribute("data-kind", "hint")
    shots(page, "honest-points-hint-dark", demo.locator(".demo-actions"))

    page.goto("/lessons/autograd")
    demo, sel = section(page, "gradient-flow")
    show(demo)
    demo.locator('[data-action="run"]').click()
    wait_finished(page, sel=sel)
    set_value(demo, "depth", 3)
    expect(demo.locator(".demo-status")).to_have_attribute("data-kind", "stale")
    shots(page, "honest-out-of-date-dark", demo.locator(".demo-actions"))
