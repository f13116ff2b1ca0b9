"""The Chinese edition in a real browser: every page and every demo of every lesson in
zh, with no English left in the interface, no serious accessibility problem, and a
screenshot of each Chinese lesson (Debian's fonts-noto-cjk draws it).

"English left" means a Latin word in the interface's text or its title/aria-label/
placeholder attributes that is not allowed: code, math, chart tick labels and data are
skipped, and so are the names and data tokens the catalogue deliberately keeps in English
(an entry whose translation is itself, e.g. "LSTM", "B-LOC", "the"). The lesson's own
prose is the translator's (it may gloss a term in English); its demos, exercise and
solution labels, callout titles and code-fold buttons are the interface's, so they count.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.config import ROOT
from app.i18n import catalogue
from tests.browser.test_every_lesson import CHART_HAS_DATA, formula_problems

pytestmark = pytest.mark.browser

SLUGS = sorted(path.stem for path in (ROOT / "lessons").glob("*.md"))
# Names read the same in Chinese (the glossary's "kept in English" list) and the site's own.
NAMES = {"livegrad", "pytorch", "plotly", "jupyter", "api", "csv", "json", "softmax", "relu",
         "tanh", "sigmoid", "adam", "sgd", "bleu", "gae", "ppo", "rlhf", "dpo", "lstm", "gru",
         "rnn", "crf", "bilstm", "kl", "tv", "transformer", "word2vec", "skip", "gram",
         "cartpole", "english", "katex", "sse", "id", "max", "min", "log", "exp", "argmax",
         "live", "grad", "png", "svg", "home", "end", "ctrl", "space", "esc", "tab",
         # functions a student types, values and units that read the same in Chinese
         "sin", "cos", "tan", "sqrt", "abs", "inf", "nan", "markdown", "mb", "qk"}


def proper_names() -> set[str]:
    """Names the translations keep (Lloyd, Viterbi, Bradley–Terry): capitalised Latin words
    of the Chinese lessons' prose, outside code and math."""
    from app.lessons import LessonLibrary

    texts = [lesson.text for lesson in LessonLibrary(ROOT / "lessons").all("zh")]
    return {w.lower() for text in texts for w in re.findall(r"\b[A-Z][A-Za-z]+", text)}


def allowed_words() -> set[str]:
    kept = {msgid for msgid, text in catalogue("zh").items() if text == msgid}
    words = {w.lower() for text in kept for w in re.findall(r"[A-Za-z][A-Za-z0-9]*[A-Za-z]", text)}
    return words | NAMES | proper_names()


# Text a student reads as the interface: everything but the lesson's prose, code, math,
# chart ticks, trace text (data) and text boxes (a student's own words).
ENGLISH_LEFT = r"""() => {
  // The translator's words: the lesson, its headings (contents, pager), a fence's caption.
  const prose = '.lesson-body, .lesson-header .lede, .card p:not(.card-meta), .card h2, h1, '
      + 'title, .toc, .pager a, .demo-caption';
  const interfaceInProse = '.demo, details.solution > summary, .code-fold > summary, '
      + '.copy-code, .translation-notice';
  // Code, math, data: tick labels, per-point text, a chart's data table, a text box.
  const skip = 'pre, code, kbd, .math, .katex, script, style, textarea, [lang="en"], '
      + '.xaxislayer-above, .yaxislayer-above, .textpoint, .catalogue-slug, .source-name, '
      + '.chart-data, .demo-caption';
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const look = (text, where) => {
    for (const word of text.match(/[A-Za-z][A-Za-z0-9]*[A-Za-z]/g) || []) {
      found.push([word, text.trim().slice(0, 90), where]);
    }
  };
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!element || element.closest(skip)) continue;
    if (element.closest(prose) && !element.closest(interfaceInProse)) continue;
    look(node.nodeValue, element.className && element.className.baseVal !== undefined
      ? element.tagName : (element.className || element.tagName));
  }
  const labelled = '[title], [aria-label], [placeholder], [aria-valuetext]';
  for (const element of document.querySelectorAll(labelled)) {
    if (element.closest(skip)) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'aria-valuetext']) {
      const value = element.getAttribute(name);
      if (value) look(value, `${element.tagName}[${name}]`);
    }
  }
  return found;
}"""


def english_left(page: Page, allowed: set[str]) -> list[str]:
    found = page.evaluate(ENGLISH_LEFT)
    return sorted({f"{word!r} in “{text}” ({where})" for word, text, where in found
                   if word.lower() not in allowed})


@pytest.mark.parametrize("slug", SLUGS)
def test_chinese_lesson_and_its_demos_have_no_english_interface(new_page, slug, shots):
    page = new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"/zh/lessons/{slug}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert formula_problems(page) == {"errors": [], "raw_dollars": []}
    shots(page, f"zh-lesson-{slug}")
    demos = page.locator("section[data-demo]")
    for i in range(demos.count()):
        demo = demos.nth(i)
        demo.scroll_into_view_if_needed()
        demo.locator('[data-action="run"]').click()
        page.wait_for_function(CHART_HAS_DATA, arg=demo.element_handle(), timeout=45_000)
        stop = demo.locator('[data-action="stop"]')
        stop.evaluate("button => button.disabled || button.click()")
        expect(stop).to_be_disabled()
        if i == 0:
            shots(page, f"zh-lesson-{slug}-demo", demo)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    left = english_left(page, allowed_words())
    assert not left, (f"{len(left)} English words left on /zh/lessons/{slug}:\n"
                      + "\n".join(left[:40]))


@pytest.mark.parametrize("path", ["/zh/", "/zh/?q=梯度", "/zh/demos", "/zh/status"])
def test_chinese_pages_have_no_english_interface(new_page, path, shots):
    page = new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(path)
    left = english_left(page, allowed_words())
    assert not left, f"{len(left)} English words left on {path}:\n" + "\n".join(left[:40])
    if path in ("/zh/", "/zh/demos"):
        shots(page, "zh-index" if path == "/zh/" else "zh-demos")


@pytest.mark.parametrize("path", ["/zh/", "/zh/demos"] + [f"/zh/lessons/{s}" for s in SLUGS])
def test_chinese_pages_no_serious_accessibility_violation(new_page, path):
    page = new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    serious = [f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)


def test_the_language_switch_goes_both_ways_and_is_remembered(new_page):
    page = new_page(viewport={"width": 1280, "height": 900})  # Chromium asks for en-US
    page.goto("/lessons/rnn")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".language-switch").click()
    expect(page).to_have_url(re.compile(r"/zh/lessons/rnn$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    # Remembered: an English address now opens in Chinese, until English is chosen.
    page.goto("/demos")
    expect(page).to_have_url(re.compile(r"/zh/demos$"))
    page.locator(".language-switch").click()
    expect(page).to_have_url(re.compile(r"/demos$"))
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_chinese_reader_lands_in_chinese(new_page):
    page = new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto("/lessons/kmeans")
    expect(page).to_have_url(re.compile(r"/zh/lessons/kmeans$"))
    # A bad value in a demo is refused in Chinese, naming the control.
    demo = page.locator("section[data-demo]").first
    status = demo.locator(".demo-status")
    page.evaluate("""() => { const s = document.querySelector('section[data-demo]');
        const input = s.querySelector('input[name="k"]');
        input.min = '0'; input.max = '99'; input.value = '99';
        input.dispatchEvent(new Event('input', {bubbles: true}));
        input.dispatchEvent(new Event('change', {bubbles: true})); }""")
    demo.locator('[data-action="run"]').click()
    expect(status).to_contain_text("k")
    expect(status).to_have_attribute("data-kind", "error")
    assert re.search(r"[\u4e00-\u9fff]", status.inner_text())
