"""The lesson lint: markup a reader would see as broken in a rendered lesson.

It reads the HTML with the standard library's parser and reports, one finding each:

* ``stray-dollar``: a ``$`` in a text node (outside code and math) that is not a price
  (``$5``). Such a dollar is a math delimiter that did not pair. A dollar the author
  escaped (``\\$``) comes as the character reference ``&#36;`` and is no finding,
  which is why character references are not converted before the check.
* ``prose-in-math``: inline math holding a run of plain words, e.g. "5 and a CPU hour
  costs" when two prices paired up as a formula.
* ``heading-without-id``, ``duplicate-id``, ``page-id`` (an id the page around the
  lesson uses), ``not-in-toc`` and ``toc-leads-nowhere``: every h2/h3 heading of the
  lesson (a demo's own title is not one) has an id of its own and an entry in the
  table of contents.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from html.parser import HTMLParser

from app.markdown import PAGE_IDS

_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
_QUIET = {"code", "pre", "script", "style"}  # text in them is not prose
_STRAY_DOLLAR = re.compile(r"\$(?!\d)")
# \text{...} and friends hold words on purpose.
_TEX_WORDS = re.compile(r"\\(?:text\w*|operatorname\*?|math\w+|mbox)\s*\{[^{}]*\}")
_PLAIN_WORD = re.compile(r"[A-Za-z]{2,}[.,;:!?]?")


class _LessonReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[tuple[str, str]] = []  # (tag, role) of the open elements
        self.texts: list[str] = []
        self.inline_math: list[str] = []
        self.ids: list[str] = []
        self.headings: list[str | None] = []

    def _inside(self, role: str) -> bool:
        return any(r == role for _, r in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        if attr.get("id") is not None:
            self.ids.append(attr["id"] or "")
        if tag in ("h2", "h3") and not self._inside("demo"):
            self.headings.append(attr.get("id") or None)
        if tag in _VOID:
            return
        role = "math" if "math" in classes else "demo" if "demo" in classes else tag
        if role == "math" and "inline" in classes:
            role = "inline-math"
            self.inline_math.append("")
        self.open.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self._inside("inline-math"):
            self.inline_math[-1] += data
        elif not self._inside("math") and not any(r in _QUIET for _, r in self.open):
            self.texts.append(data)

    def handle_entityref(self, name: str) -> None:
        if self._inside("inline-math"):  # the formula's source, as KaTeX will read it
            self.inline_math[-1] += {"amp": "&", "lt": "<", "gt": ">"}.get(name, " ")


def _prose(tex: str) -> str | None:
    """The longest run of plain words in a formula, if it is two words or more."""
    run: list[str] = []
    best: list[str] = []
    for token in _TEX_WORDS.sub(" ", tex).split():
        run = [*run, token] if _PLAIN_WORD.fullmatch(token) else []
        best = max(best, run, key=len)
    return " ".join(best) if len(best) >= 2 else None


def lint_lesson(
    html: str, toc_ids: Sequence[str], toc_html: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Findings as (kind, what): empty for a clean lesson."""
    page = _LessonReader()
    page.feed(html)
    page.close()
    findings = []
    for fragment in toc_html:  # ToC entries are rendered headings: same text rules
        entry = _LessonReader()
        entry.feed(fragment)
        page.texts += entry.texts
        page.inline_math += entry.inline_math
    for text in page.texts:
        for match in _STRAY_DOLLAR.finditer(text):
            findings.append(("stray-dollar", text[max(0, match.start() - 30) : match.end() + 30]))
    for tex in page.inline_math:
        if words := _prose(tex):
            findings.append(("prose-in-math", f"{words!r} in ${tex.strip()}$"))
    findings += [("heading-without-id", f"heading {n}")
                 for n, heading_id in enumerate(page.headings, 1) if not heading_id]
    findings += [("duplicate-id", i) for i, n in Counter(page.ids).items() if n > 1]
    findings += [("page-id", i) for i in page.ids if i in PAGE_IDS]
    headings = [h for h in page.headings if h]
    findings += [("not-in-toc", h) for h in headings if h not in toc_ids]
    findings += [("toc-leads-nowhere", t) for t in toc_ids if t not in headings]
    return findings
