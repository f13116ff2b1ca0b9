"""Every lesson in a real browser: every demo runs and draws, and no page has a serious
accessibility problem (axe-core). Lessons are read from the lessons folder, so a new
lesson is covered without touching this file."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.config import ROOT
from tests.helpers import ServerProcess

pytestmark = pytest.mark.browser

SLUGS = sorted(path.stem for path in (ROOT / "lessons").glob("*.md"))

CHART_HAS_DATA = """section => [...section.querySelectorAll('.plot')].some(plot =>
    (plot.data || []).some(trace => ['x', 'y', 'z'].some(k => (trace[k] || []).length > 0)))"""


# Once KaTeX has been over every formula: the formulas it refused (with throwOnError off
# it draws them in red and the page looks fine to a test), and any text outside code and
# formulas that still holds a "$" (math the Markdown did not recognise, shown raw).
FORMULA_PROBLEMS = r"""() => {
  const maths = [...document.querySelectorAll('.lesson-body .math')];
  if (!window.katex || !maths.every(m => m.querySelector('.katex, .katex-error')
                                        || m.classList.contains('math-error'))) return null;
  const errors = [...document.querySelectorAll('.katex-error, .math-error')].map(
    e => (e.getAttribute('title') || '') + ' in ' + e.textContent.slice(0, 60));
  const body = document.querySelector('.lesson-body');
  const skip = 'pre, code, .math, .katex, .demo, .dollar';  // .dollar: an author's \\$
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const dollars = [];
  while (walker.nextNode()) {
    const text = walker.currentNode;  // a price ("$5") is prose, not math
    if (/\$(?!\d)/.test(text.nodeValue) && !text.parentElement.closest(skip)) {
      dollars.push(text.nodeValue.trim().slice(0, 80));
    }
  }
  return {formulas: maths.length, errors: errors, raw_dollars: dollars};
}"""


def formula_problems(page: Page) -> dict:
    """What went wrong with the page's math: {"errors": [...], "raw_dollars": [...]}."""
    found = page.wait_for_function(FORMULA_PROBLEMS, timeout=15_000).json_value()
    return {k: v for k, v in found.items() if k != "formulas"}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_demo_of_the_lesson_runs_and_draws(page: Page, slug: str, shots) -> None:
    page.goto(f"/lessons/{slug}")
    expect(page.locator("h1")).to_be_visible()
    assert formula_problems(page) == {"errors": [], "raw_dollars": []}
    demos = page.locator("section[data-demo]")
    assert demos.count() >= 1, f"{slug} has no live demo"
    for i in range(demos.count()):
        demo = demos.nth(i)
        name = demo.get_attribute("data-demo")
        demo.scroll_into_view_if_needed()
        demo.locator('[data-action="run"]').click()
        # The charts fill from the stream: the first drawn frame is enough to prove it.
        page.wait_for_function(CHART_HAS_DATA, arg=demo.element_handle(), timeout=45_000)
        stop = demo.locator('[data-action="stop"]')
        # Press Stop if the run is still going (it may finish between looking and pressing).
        stop.evaluate("button => button.disabled || button.click()")
        expect(stop).to_be_disabled()
        status = demo.locator(".demo-status")
        assert status.get_attribute("data-kind") != "error", f"{name}: {status.inner_text()}"
        shots(page, f"lesson-{slug}-demo-{i + 1}-{name}", demo)


BROKEN = r"""---
title: Broken math
summary: A formula KaTeX refuses, and math the Markdown does not see.
---

## Math

This renders: $a^2 + b^2 = c^2$, and so does a price of $5, or \$x written as a dollar.

$$
\frac{1}{2
$$

A space inside the dollars leaves them raw: $x $.

```demo kmeans
k: 2
```
"""


def test_a_broken_formula_or_raw_math_fails_the_lesson_check(browser, tmp_path) -> None:
    # Before, this lesson rendered red in the browser and every test passed.
    (tmp_path / "broken.md").write_text(BROKEN)
    with ServerProcess(lessons_dir=str(tmp_path)) as server:
        context = browser.new_context(base_url=server.url)
        try:
            page = context.new_page()
            page.goto("/lessons/broken")
            problems = formula_problems(page)
        finally:
            context.close()
    (error,) = problems["errors"]
    assert "KaTeX parse error" in error and "\\frac{1}{2" in error
    assert problems["raw_dollars"] == ["A space inside the dollars leaves them raw: $x $."]


AXE_PAGES = ["/"] + [f"/lessons/{slug}" for slug in SLUGS]


@pytest.mark.parametrize("path", AXE_PAGES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violation(new_page, path: str, theme: str) -> None:
    page = new_page(viewport={"width": 1280, "height": 900}, color_scheme=theme)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)


@pytest.mark.parametrize("slug", SLUGS)
def test_lesson_page_weight_stays_under_800_kb_gzipped(new_page, slug: str) -> None:
    page = new_page(viewport={"width": 1280, "height": 900})
    sizes: dict[str, int] = {}

    def record(response) -> None:
        if "/api/" in response.url:  # the demos' own streams are data, not page weight
            return
        length = response.header_value("content-length")
        sizes[response.url] = int(length) if length else len(response.body())

    page.on("response", record)
    page.goto(f"/lessons/{slug}")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    print(f"{slug}: {len(sizes)} requests, {total / 1000:.0f} kB on the wire")
    assert total < 800_000, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]


@pytest.mark.parametrize("slug", SLUGS)
def test_phone_width_never_scrolls_sideways(new_page, slug: str) -> None:
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"/lessons/{slug}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    controls = page.locator("section[data-demo] .demo-controls").first
    columns = controls.evaluate("e => getComputedStyle(e).gridTemplateColumns.split(' ').length")
    assert columns == 1  # controls stack


# The top of the first thing a student can touch (a visible control of a demo, or its Run
# button), in screens: page offset / viewport height.
FIRST_INTERACTIVE = """() => {
  const touchable = [...document.querySelectorAll(
      '.lesson-body section[data-demo] .demo-controls :is(input, select, textarea),'
      + ' .lesson-body section[data-demo] [data-action="run"]')]
    .filter(e => e.type !== 'hidden' && e.getClientRects().length > 0);
  const tops = touchable.map(e => e.getBoundingClientRect().top + window.scrollY);
  return Math.min(...tops) / window.innerHeight;
}"""


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("width", "height", "screens"), [(1280, 900, 2), (390, 844, 4)])
def test_something_to_touch_within_the_first_screens(new_page, slug: str, width: int,
                                                     height: int, screens: int) -> None:
    # Issue 16: at 1280 px the first control sat 3 to 12 screens into a lesson, 6 to 18
    # on a phone.
    phone = width < 500
    page = new_page(viewport={"width": width, "height": height}, is_mobile=phone,
                    has_touch=phone)
    page.goto(f"/lessons/{slug}")
    page.wait_for_load_state("networkidle")
    first = page.evaluate(FIRST_INTERACTIVE)
    print(f"{slug} at {width} px: first control at {first:.2f} screens")
    assert first < screens
