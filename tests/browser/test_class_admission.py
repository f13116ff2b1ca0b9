"""A class of 30 that never sees a dead end (issue 18): 30 browsers behind one address press
Run at once against a server with 2 slots and a short queue. Each browser is its own
client (a signed cookie, not the shared IP), so a per-client rate limit refuses none of
them for being one of many; the server turns away what does not fit with a Retry-After
from its real queue, and every page tries again by itself until its run is done."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.helpers import ServerProcess

pytestmark = pytest.mark.browser

STUDENTS = 30
SLOTS, QUEUE = 2, 4
# The first students to press ask for a big run (seconds each), so that slots and queue are
# certainly full while the rest press: those are turned away however fast this machine is.
# The others ask for a small run, which keeps the test short.
BIG = "class.n_points=2000&class.k=8&class.n_init=10"
LESSON = """---
title: One demo
summary: A class tries k-means.
order: 1
tags: [test]
level: beginner
minutes: 1
---

## Try it

```demo kmeans
:id: class
:autorun: false
n_points: 300
k: 3
n_init: 1
```
"""

DONE = ("() => { const d = document.querySelector('#demo-class').livegrad; "
        "return !!(d.record && d.record.result); }")
RUN = "() => document.querySelector('#demo-class [data-action=run]').click()"


def test_thirty_browsers_behind_one_address_all_get_their_run_without_pressing_again(
        browser: Browser, tmp_path: Path):
    """(The pages' 429s are counted from their responses.)"""
    (tmp_path / "class.md").write_text(LESSON)
    with ServerProcess(lessons_dir=tmp_path, max_jobs=SLOTS, max_queue=QUEUE, rate_per_minute=2,
                       job_seconds=60) as server:
        pages, refused = [], [0] * STUDENTS
        contexts = [browser.new_context(viewport={"width": 900, "height": 900})
                    for _ in range(STUDENTS)]
        try:
            for i, context in enumerate(contexts):
                page = context.new_page()
                page.on("response", lambda r, i=i: r.status == 429 and refused.__setitem__(
                    i, refused[i] + 1))
                big = f"&{BIG}" if i < SLOTS + QUEUE else ""
                page.goto(f"{server.url}/lessons/class?class.seed={i}{big}")  # 30 different runs
                pages.append(page)
            # Every student presses Run once, all together.
            for page in pages:
                page.evaluate(RUN)
            for page in pages:
                status = page.locator("#demo-class .demo-status")
                # While they wait, pages say why and what happens next, never a dead end.
                text = status.inner_text()
                assert not re.search(r"error|failed|try again later", text, re.I), text
                page.wait_for_function(DONE, timeout=180_000)
                assert re.match(r"^Done: ", status.inner_text())
            cookies = {c["value"] for ctx in contexts for c in ctx.cookies()
                       if c["name"] == "livegrad_browser"}
        finally:
            for context in contexts:
                context.close()
    assert len(cookies) == STUDENTS  # 30 clients, although one address
    # Only 2 compute and 4 wait at a time: pages were turned away and came back by
    # themselves (the test never pressed Run twice). Had the rate limit counted the
    # shared address, 28 pages would have waited minutes each and the test timed out.
    assert sum(1 for n in refused if n) >= 1, refused
