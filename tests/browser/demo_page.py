"""What browser tests ask of a demo on the page, written once."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

# True once the demo's latest run has ended and was run with the wanted parameters.
FINISHED = """([sel, want]) => {
  const demo = document.querySelector(sel).livegrad;
  const record = demo && demo.record;
  if (!record || !record.result || demo.controller) return false;
  return Object.keys(want).every(k => JSON.stringify(record.params[k]) === JSON.stringify(want[k]));
}"""


def wait_finished(page: Page, want: dict | None = None, sel: str = "[data-demo]",
                  timeout: float = 20_000) -> dict:
    """Wait until the demo's latest run (with params matching `want`) has ended; its record."""
    page.wait_for_function(FINISHED, arg=[sel, want or {}], timeout=timeout)
    return page.evaluate("(sel) => document.querySelector(sel).livegrad.record", sel)


def set_range(slider: Locator, value: float) -> None:
    """Move a range slider the way a drag does: value, then input and change events."""
    slider.evaluate(
        """(el, v) => { el.value = String(v);
          el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new Event('change', {bubbles: true})); }""",
        value,
    )
