"""A lesson written to attack its readers renders inert in a real browser."""

from __future__ import annotations

import pytest

from tests.helpers import ServerProcess

pytestmark = pytest.mark.browser

HOSTILE = r"""---
title: Totally normal lesson
summary: Nothing to see here.
---

## Attacks

<script>window.__pwned = "script"</script>

<img src="x" onerror="window.__pwned = 'onerror'">

[click me](javascript:window.__pwned='link') and <a href="javascript:alert(1)">raw</a>

Math with a link: $\href{javascript:window.__pwned='katex'}{click}$ and
$\url{javascript:alert(1)}$ and $\htmlId{x}{y}$.

```demo kmeans
k: 2
```
"""


def test_script_handlers_links_and_katex_href_do_nothing(browser, tmp_path):
    (tmp_path / "hostile.md").write_text(HOSTILE)
    with ServerProcess(lessons_dir=str(tmp_path)) as server:
        context = browser.new_context(base_url=server.url)
        violations = []
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and violations.append(m.text))
        response = page.goto("/lessons/hostile")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]
        page.wait_for_load_state("networkidle")
        for link in page.locator(".lesson-body a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript:"), href
        assert page.locator(".lesson-body script, .lesson-body img[onerror]").count() == 0
        assert page.locator(".katex").count() >= 2  # the math still renders, as text
        page.locator(".lesson-body").click()
        assert page.evaluate("window.__pwned") is None
        assert not violations, violations
        context.close()
