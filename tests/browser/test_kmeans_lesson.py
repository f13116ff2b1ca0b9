"""What a student sees and does on the k-means lesson, in a real Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.demo_page import wait_finished
from tests.helpers import eventually

pytestmark = pytest.mark.browser

LESSON = "/lessons/kmeans"
FIRST_DEMO = "#demo-kmeans"  # the lesson's first full kmeans demo, by its :id:

# In-page helpers; `sel` picks the demo section (the first kmeans demo by default).
CLUSTERS = """(sel) => {
  const div = document.querySelector(sel).querySelector('.plot[data-chart="clusters"]');
  const traces = (div.data || []).filter(t => /^cluster \\d+$/.test(t.name || ""));
  return {clusters: traces.length,
          points: traces.reduce((n, t) => n + (t.x || []).length, 0)};
}"""




def clusters(page: Page, sel: str = FIRST_DEMO) -> dict:
    return page.evaluate(CLUSTERS, sel)


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


# ---- 1. reading the lesson ----------------------------------------------------------------


def test_lesson_reads_well(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    expect(page).to_have_title("k-means clustering · LiveGrad")
    expect(page.locator("article.lesson h1")).to_have_text("k-means clustering")

    # A table of contents whose links lead to headings of this page.
    toc = page.locator(".toc a")
    assert toc.count() >= 6
    targets = page.evaluate(
        "() => [...document.querySelectorAll('.toc a')].map(a => a.hash.slice(1))"
    )
    for target in targets:
        assert page.locator(f'[id="{target}"]').count() == 1, f"TOC link #{target} leads nowhere"
    page.locator(".toc a", has_text="Exercises").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#exercises")
    expect(page.locator("#exercises")).to_be_in_viewport()

    # Math typeset by KaTeX, with nothing left as raw TeX and no error.
    page.wait_for_function("() => document.querySelectorAll('.katex').length > 0")
    assert page.locator(".katex-error, .math-error").count() == 0
    unrendered = page.evaluate(
        "() => [...document.querySelectorAll('.math')].filter(m => !m.querySelector('.katex'))"
        ".map(m => m.textContent.slice(0, 60))"
    )
    assert unrendered == [], f"math left as raw TeX: {unrendered[:5]}"
    assert page.locator(".katex-display").count() >= 3  # display equations too

    # Code highlighted on the server: Pygments token classes that really change colour.
    assert page.locator(".highlight span.k").count() > 5
    assert page.locator(".highlight span.n").count() > 20
    keyword, name = (
        page.locator(f".highlight span.{cls}").first.evaluate("e => getComputedStyle(e).color")
        for cls in ("k", "n")
    )
    assert keyword != name, "keywords and names are drawn in the same colour"

    # Previous / next lesson links, when this lesson has neighbours.
    for link in page.locator(".pager a").all():
        assert (link.get_attribute("href") or "").startswith("/lessons/")
        assert link.inner_text().strip()

    # Exercises whose solutions open on click.
    exercises = page.locator("section.exercise")
    assert exercises.count() >= 3
    for i in range(3):
        details = exercises.nth(i).locator("details.solution")
        body = details.locator("> div")
        expect(body).to_be_hidden()
        details.locator("summary").click()
        expect(details).to_have_attribute("open", "")
        expect(body).to_be_visible()
    shots(page, "lesson-light", page.locator("article.lesson h1"))


# ---- 2. running the demo ------------------------------------------------------------------


def test_demo_runs_from_keyboard(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(FIRST_DEMO).first
    slider = demo.locator('input[name="k"]')
    start = int(slider.input_value())
    slider.focus()
    page.keyboard.press("ArrowRight")
    k = start + 1
    expect(slider).to_have_value(str(k))
    expect(demo.locator('output[for$="-k"]')).to_have_text(str(k))

    demo.locator('[data-action="run"]').click()
    n_points = int(demo.locator('input[name="n_points"]').input_value())
    record = wait_finished(page, {"k": k}, sel=FIRST_DEMO)
    assert record["frames"] > 1
    assert clusters(page) == {"clusters": k, "points": n_points}
    expect(demo.locator(".demo-status")).to_have_text(
        re.compile(r"^Done: \d+ frames in [\d.]+ s( · [^.]+)?\.$"))
    expect(demo.locator(".demo-progress")).to_have_attribute("aria-valuenow", "100")
    expect(demo.locator(".demo-metrics dt", has_text="inertia")).to_be_visible()
    assert query_of(page).get("kmeans.k") == [str(k)]
    shots(page, "demo-run", demo)


# ---- 3. sharing a link --------------------------------------------------------------------


def test_shared_link_reproduces_the_run(page: Page, server_url: str) -> None:
    page.goto(f"{LESSON}?kmeans.k=5&kmeans.dataset=moons&kmeans.seed=7")
    demo = page.locator(FIRST_DEMO).first
    expect(demo.locator('[name="k"]')).to_have_value("5")
    expect(demo.locator('[name="dataset"]')).to_have_value("moons")
    expect(demo.locator('[name="seed"]')).to_have_value("7")

    # It runs by itself once seen, without a click.
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    record = wait_finished(page, {"k": 5, "dataset": "moons", "seed": 7}, sel=FIRST_DEMO)
    assert clusters(page)["clusters"] == 5

    answer = httpx.post(f"{server_url}/api/demos/kmeans/run", json=record["params"], timeout=30)
    assert answer.status_code == 200, answer.text
    expected = answer.json()["result"]
    assert abs(record["result"]["inertia"] - expected["inertia"]) <= 1e-6
    assert record["result"]["labels"] == expected["labels"]
    shown = demo.locator(".demo-metrics div", has=page.locator("dt", has_text="inertia"))
    shown_value = float(shown.locator("dd").inner_text().replace(",", ""))
    assert shown_value == pytest.approx(expected["inertia"], rel=1e-3)


# ---- 4. stopping a long run ---------------------------------------------------------------


def test_stop_ends_the_job(page: Page, server_url: str) -> None:
    page.goto(LESSON)
    demo = page.locator(FIRST_DEMO).first
    demo.scroll_into_view_if_needed()
    # One burst of edits, then Run at once: the debounced auto-run never fires.
    # 500 points, not 2000: in headless software rendering a 2000-point frame takes
    # 300-500 ms to draw, longer than the 0.12 s pacing, and the page stops answering.
    demo.evaluate(
        """(el, values) => { for (const [name, v] of Object.entries(values)) {
          const input = el.querySelector(`[name="${name}"]`); input.value = String(v);
          input.dispatchEvent(new Event('input', {bubbles: true}));
          input.dispatchEvent(new Event('change', {bubbles: true})); } }""",
        {"dataset": "uniform", "n_points": 500, "k": 12, "max_iter": 300, "n_init": 20},
    )
    run, stop = demo.locator('[data-action="run"]'), demo.locator('[data-action="stop"]')
    run.dispatch_event("click")  # see the note above: actionability checks can starve
    page.wait_for_function(
        """(sel) => { const r = document.querySelector(sel).livegrad.record;
          return r && r.params.k === 12 && r.params.n_init === 20 && r.frames >= 1; }""",
        arg=FIRST_DEMO,
    )
    expect(stop).to_be_enabled()
    stop.dispatch_event("click")
    expect(stop).to_be_disabled()
    expect(demo.locator(".demo-status")).to_have_text("Stopped.")
    expect(demo).not_to_have_class(re.compile(r"\brunning\b"))
    frames = page.evaluate("(sel) => document.querySelector(sel).livegrad.record.frames",
                           FIRST_DEMO)

    # The server lets the job go (tests/test_api.py counts that it stops within a step).
    eventually(lambda: httpx.get(f"{server_url}/healthz", timeout=2).json()["jobs"]
               == {"running": 0, "queued": 0}, "the stopped job ended")
    page.wait_for_timeout(400)
    assert page.evaluate("(sel) => document.querySelector(sel).livegrad.record.frames",
                         FIRST_DEMO) == frames, "frames kept arriving after Stop"
    expect(demo.locator(".demo-status")).to_have_text("Stopped.")


# ---- 5. clicking your own points ----------------------------------------------------------


SPOTS = [(0.2, 0.25), (0.35, 0.7), (0.5, 0.45), (0.65, 0.2), (0.8, 0.75), (0.55, 0.9)]


def test_clicked_points_become_the_dataset(page: Page, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(FIRST_DEMO).first
    plot = demo.locator('.plot[data-chart="clusters"]')
    plot.scroll_into_view_if_needed()
    wait_finished(page, sel=FIRST_DEMO)  # the demo ran by itself when it came into view
    k = int(demo.locator('[name="k"]').input_value())

    for i, (fx, fy) in enumerate(SPOTS, start=1):
        plot.scroll_into_view_if_needed()
        box = plot.evaluate(
            """el => { const r = el.getBoundingClientRect(), s = el._fullLayout._size;
              return {x: r.left + s.l, y: r.top + s.t, w: s.w, h: s.h}; }"""
        )
        x, y = box["x"] + fx * box["w"], box["y"] + fy * box["h"]
        page.mouse.click(x, y)
        expect(demo.locator(".points-count")).to_have_text(f"{i} point{'' if i == 1 else 's'}")
        # The new dot is drawn where the mouse clicked (within a few pixels).
        drawn = plot.evaluate(
            """el => { const t = el.data.find(t => t.name === "your points");
              if (!t) return null;
              const L = el._fullLayout, r = el.getBoundingClientRect(), n = t.x.length - 1;
              return {n: n + 1,
                      x: r.left + L.xaxis._offset + L.xaxis.d2p(t.x[n]),
                      y: r.top + L.yaxis._offset + L.yaxis.d2p(t.y[n])}; }"""
        )
        assert drawn is not None and drawn["n"] == i
        # y: up to ~8 px drift remains because the legend row changes the plot height.
        assert abs(drawn["x"] - x) < 4 and abs(drawn["y"] - y) < 10, (
            f"click {i} at ({x:.0f}, {y:.0f}) drew its dot at ({drawn['x']:.0f}, {drawn['y']:.0f})"
        )

    expect(demo.locator('[name="dataset"]')).to_have_value("custom")
    record = wait_finished(page, {"dataset": "custom"}, sel=FIRST_DEMO)
    assert len(record["params"]["points"]) == 6
    assert clusters(page) == {"clusters": k, "points": 6}
    shots(page, "custom-points", demo.locator(".demo-actions"))


# ---- 6. reset and export ------------------------------------------------------------------


def test_reset_then_export_json(page: Page) -> None:
    page.goto(f"{LESSON}?kmeans.k=6")
    demo = page.locator(FIRST_DEMO).first
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")  # a link runs once seen
    wait_finished(page, {"k": 6}, sel=FIRST_DEMO)
    # Reset restores this instance's values in the lesson, not the demo's defaults.
    presets = json.loads(demo.get_attribute("data-presets") or "{}")
    defaults = json.loads(demo.get_attribute("data-defaults") or "{}")
    assert presets["k"] != defaults["k"]
    demo.locator('[data-action="reset"]').click()
    expect(demo.locator('[name="k"]')).to_have_value(str(presets["k"]))
    expect(demo.locator('output[for$="-k"]')).to_have_text(str(presets["k"]))
    assert not [key for key in query_of(page) if key.startswith("kmeans.")]
    record = wait_finished(page, {"k": presets["k"], "n_points": presets["n_points"]},
                           sel=FIRST_DEMO)

    with page.expect_download() as info:
        demo.locator('[data-action="export"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".json")
    data = json.loads(open(download.path(), encoding="utf-8").read())
    assert data["demo"] == "kmeans"
    assert data["params"]["k"] == presets["k"]
    assert data["result"]["inertia"] == pytest.approx(record["result"]["inertia"])
    assert len([t for t in data["charts"]["clusters"]
                if t["name"].startswith("cluster")]) == presets["k"]


# ---- 7. dark theme ------------------------------------------------------------------------


def test_theme_toggle_persists(page: Page, new_page: Callable, shots: Callable) -> None:
    page.goto(LESSON)
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    page.locator("[data-theme-toggle]").click()
    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate("localStorage.getItem('livegrad-theme')") == "dark"
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    rgb = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert sum(rgb) < 3 * 80, f"dark theme with a light background: {background}"
    page.locator(FIRST_DEMO).first.scroll_into_view_if_needed()
    wait_finished(page, sel=FIRST_DEMO)
    font = page.evaluate(
        "(sel) => document.querySelector(sel).querySelector('.plot')._fullLayout.font.color",
        FIRST_DEMO,
    )
    assert font == page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--fg').trim()"
    )
    shots(page, "lesson-dark", page.locator(FIRST_DEMO).first)

    dark = new_page(color_scheme="dark")
    dark.goto(LESSON)
    expect(dark.locator("html")).to_have_attribute("data-theme", "dark")
    assert dark.evaluate("localStorage.getItem('livegrad-theme')") is None


# ---- 8. the index -------------------------------------------------------------------------


def test_index_search_and_tags(page: Page, shots: Callable) -> None:
    page.goto("/")
    cards = page.locator("article.card")
    assert cards.count() >= 1
    kmeans = page.locator('article.card[data-lesson="kmeans"]')
    expect(kmeans.locator("h2 a")).to_have_attribute("href", "/lessons/kmeans")
    shots(page, "index")

    page.locator("#q").fill("inertia")
    page.locator("#q").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=inertia"))
    expect(kmeans.locator("mark").first).to_have_text(re.compile("inertia", re.IGNORECASE))
    expect(page.locator(".result-count")).to_contain_text("inertia")
    shots(page, "index-search")

    page.goto("/?q=zzzzqqq")
    expect(page.locator("article.card")).to_have_count(0)
    expect(page.locator(".empty")).to_be_visible()

    page.goto("/")
    page.locator("nav.tags a.tag", has_text="clustering").click()
    expect(page).to_have_url(re.compile(r"[?&]tag=clustering"))
    expect(page.locator("nav.tags a.tag.active")).to_have_text("clustering")
    expect(kmeans).to_be_visible()
    for card in page.locator("article.card").all():
        assert "clustering" in card.locator(".card-tags").inner_text()
    kmeans.locator("h2 a").click()
    expect(page).to_have_url(re.compile(r"/lessons/kmeans$"))


# ---- 9. a phone -----------------------------------------------------------------------------


def test_phone_width_has_no_sideways_scroll(new_page: Callable, shots: Callable) -> None:
    phone = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                     is_mobile=True, has_touch=True)
    phone.goto(LESSON)
    phone.wait_for_function("() => document.querySelectorAll('.katex').length > 0")
    phone.locator(FIRST_DEMO).first.scroll_into_view_if_needed()
    wait_finished(phone, sel=FIRST_DEMO)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the lesson scrolls sideways: {width}px wide"
    wide = phone.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > 391
            && !e.closest('pre, .math, table, .katex-display'))
          .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == [], f"elements wider than the screen: {wide}"
    shots(phone, "phone-lesson", phone.locator("article.lesson h1"))
    shots(phone, "phone-demo", phone.locator(FIRST_DEMO).first)
    phone.goto("/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shots(phone, "phone-index")
