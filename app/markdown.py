"""Lesson Markdown → HTML: math, highlighted code, callouts, exercises, demos, source.

The dialect on top of CommonMark (raw HTML is off, so a lesson cannot inject script):

* ``$…$`` and ``$$…$$`` math, typeset by KaTeX in the browser (app/markdown_math.py);
* ``::: note Title`` … ``:::`` callouts (``note``, ``tip``, ``warning``);
* ``:::: exercise Title`` … ``::::`` with a nested ``::: solution`` that collapses;
* a fence ``demo <slug>`` whose YAML body presets the demo's parameters, after option
  lines (``:id:``, ``:title:``, ...) and a ``::: gallery`` for demos side by side;
* a fence ``source <path>[:<name>]`` that shows a function, class or file of app/,
  read from the source so the lesson and the code never drift apart
  (both fences: app/markdown_fences.py).

Every ``##``/``###`` heading gets an id of its own (its words, math included) and a
place in the table of contents.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.markdown_fences import (
    DemoOptions,
    LessonError,
    demo_options,
    instance_ids,
    parse_demo_fence,
    source_fence,
)
from app.markdown_math import MATH_TOKENS, math_plugin

CALLOUTS = ("note", "tip", "warning")
_FORMATTER = HtmlFormatter(nowrap=True)
# Ids the page around a lesson uses (templates/base.html), kept free for it.
PAGE_IDS = frozenset({"main"})
_ID_ATTRIBUTE = re.compile(r'\sid="([^"]+)"')
# Commands that only style their argument: \mathbb{R} reads as "R" in a heading's id.
_TEX_STYLING = frozenset({
    "mathbb", "mathbf", "mathcal", "mathit", "mathrm", "mathsf", "mathtt", "boldsymbol",
    "text", "textbf", "textit", "operatorname", "displaystyle", "left", "right",
    "big", "Big", "bigl", "bigr", "Bigl", "Bigr",
})
# Renders one demo fence: (slug, presets, instance id, options) -> HTML. Set by the caller.
DemoRenderer = Callable[[str, dict[str, Any], str, DemoOptions], str]


class LessonYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading numbers the way ML people write them.

    PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: ``1e-3``,
    ``3e5`` and ``-.5`` stay strings and a preset ``learning_rate: 1e-3`` is refused.
    YAML 1.2's core schema reads them as floats; 1.1's ``1_000`` still works.
    """


LessonYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"
               r"|^[-+]?\.[0-9][0-9_]*$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Front matter or a demo fence's presets; raises yaml.YAMLError."""
    return yaml.load(text, Loader=LessonYamlLoader)  # a SafeLoader: no Python objects


def highlight_code(code: str, language: str) -> str:
    """Pygments HTML (classes, no inline styles) or escaped text for unknown languages."""
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return html.escape(code)
    return highlight(code, lexer, _FORMATTER)


def _render_fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    token = tokens[idx]
    kind, _, arg = token.info.strip().partition(" ")
    arg = arg.strip()
    if kind == "demo":
        return token.meta["html"]  # rendered while parsing, by _render_demos
    if kind == "source":
        return source_fence(arg, env, highlight_code)
    language = html.escape(kind)
    return (
        f'<pre class="highlight" data-lang="{language}"><code>'
        f"{highlight_code(token.content, kind)}</code></pre>\n"
    )


def _demo_fences(state: StateCore) -> list[tuple[Token, bool]]:
    """The demo fences of a lesson, each with whether it stands in a ``::: gallery``.

    A gallery holds demo fences only: anything else in it is a LessonError.
    """
    found, gallery_level = [], None
    for token in state.tokens:
        if token.type == "container_gallery_open":
            gallery_level = token.level
        elif token.type == "container_gallery_close":
            gallery_level = None
        is_demo = token.type == "fence" and token.info.strip().partition(" ")[0] == "demo"
        if gallery_level is not None and token.level == gallery_level + 1 and not is_demo:
            raise LessonError("a ::: gallery holds demo fences only, side by side; "
                              f"put the {token.type.removesuffix('_open')} outside it")
        if is_demo:
            found.append((token, gallery_level is not None))
    return found


def _render_demos(demo_renderer: DemoRenderer) -> Callable[[StateCore], None]:
    """Render demo fences while parsing, so headings know the element ids they bring."""

    def render_demos(state: StateCore) -> None:
        tokens = _demo_fences(state)
        fences = [parse_demo_fence(token.info.strip().partition(" ")[2].strip(), token.content)
                  for token, _ in tokens]
        for (token, in_gallery), fence, instance in zip(tokens, fences, instance_ids(fences),
                                                        strict=True):
            try:
                presets = load_yaml(fence.presets_text) or {}
            except yaml.YAMLError as exc:
                raise LessonError(
                    f"demo {fence.slug}: presets are not valid YAML: {exc}") from exc
            if not isinstance(presets, dict):
                raise LessonError(f"demo {fence.slug}: presets must be `key: value` lines")
            options = demo_options(fence, state.md.renderInline, compact=in_gallery)
            state.env.setdefault("demos", []).append(fence.slug)
            token.meta["html"] = demo_renderer(fence.slug, presets, instance, options)
            state.env.setdefault("element_ids", set()).update(
                _ID_ATTRIBUTE.findall(token.meta["html"]))

    return render_demos


def _gallery(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return '<div class="demo-gallery">\n' if tokens[idx].nesting == 1 else "</div>\n"


def _title_after(md: MarkdownIt, name: str, info: str) -> str:
    """A callout's or exercise's title as HTML: math and code work there as in a heading."""
    return md.renderInline(info.strip()[len(name) :].strip()).strip()


def _callout(md: MarkdownIt, name: str) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
        if tokens[idx].nesting != 1:
            return "</aside>\n"
        title = _title_after(md, name, tokens[idx].info) or name.capitalize()
        return (
            f'<aside class="callout callout-{name}" role="note">'
            f'<p class="callout-title">{title}</p>\n'
        )

    return render


def _exercise(md: MarkdownIt) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
        if tokens[idx].nesting != 1:
            return "</section>\n"
        env["exercises"] = number = env.get("exercises", 0) + 1
        title = _title_after(md, "exercise", tokens[idx].info)
        heading = f"Exercise {number}" + (f": {title}" if title else "")
        return f'<section class="exercise"><p class="exercise-title">{heading}</p>\n'

    return render


def _solution(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting != 1:
        return "</div></details>\n"
    return '<details class="solution"><summary>Show solution</summary><div>\n'


def readable_tex(tex: str) -> str:
    """``\\nabla f`` → ``nabla f``: command names become words, styling commands go."""
    words = re.sub(r"\\([A-Za-z]+)",
                   lambda m: " " if m.group(1) in _TEX_STYLING else f" {m.group(1)} ", tex)
    # \, \; \{ ... (spacing, escaped symbols) and ^ _ { } only join the words: x^2 → "x 2".
    return re.sub(r"\\.|[\^_{}]", " ", words)


def heading_slug(children: Sequence[Token]) -> str:
    """A heading's words, math included, in lower case joined by hyphens."""
    words = []
    for child in children:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in MATH_TOKENS:
            words.append(f" {readable_tex(child.content)} ")
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
    kept = re.sub(r"[^\w\s-]", "", "".join(words).lower())
    return re.sub(r"[\s-]+", "-", kept).strip("-")


def _heading_ids(state: StateCore) -> None:
    """A non-empty id for every h2/h3, unique on the page: repeats get -2, -3, ...

    Every heading's own slug is reserved before any repeat is numbered, so a repeat
    never takes the id of a later heading; ids the page, a demo or an equation label
    already use count as taken.
    """
    headings = [(i, t) for i, t in enumerate(state.tokens)
                if t.type == "heading_open" and t.tag in ("h2", "h3")]
    taken = set(PAGE_IDS) | state.env.get("element_ids", set())
    taken |= {t.info for t in state.tokens if t.type == "math_block_label"}
    wanted = [heading_slug(state.tokens[i + 1].children or []) or f"section-{number}"
              for number, (i, _) in enumerate(headings, start=1)]
    claimed = taken | set(wanted)
    for (_, token), slug in zip(headings, wanted, strict=True):
        if slug in taken:  # a repeat, or an id the page already uses
            slug = next(f"{slug}-{n}" for n in itertools.count(2) if f"{slug}-{n}" not in claimed)
            claimed.add(slug)
        taken.add(slug)
        token.attrSet("id", slug)


def build_markdown(demo_renderer: DemoRenderer) -> MarkdownIt:
    """The one Markdown parser every lesson goes through."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(math_plugin)
    md.core.ruler.push("demos", _render_demos(demo_renderer))
    md.core.ruler.push("heading_ids", _heading_ids)
    # The plugin keeps the ids set above and adds the "#" permalinks.
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    for name in CALLOUTS:
        md.use(container_plugin, name, render=_callout(md, name))
    md.use(container_plugin, "exercise", render=_exercise(md))
    md.use(container_plugin, "solution", render=_solution)
    md.use(container_plugin, "gallery", render=_gallery)
    md.add_render_rule("fence", _render_fence)
    return md


def table_of_contents(md: MarkdownIt, tokens: Sequence[Token]) -> list[dict[str, Any]]:
    """Headings h2/h3 with their anchors, as plain text and as rendered inline HTML."""
    toc = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3") and token.attrGet("id"):
            inline = tokens[i + 1]
            # The heading's own text without the "#" permalink the anchors plugin appends.
            children = list(inline.children or [])
            cut = next((j for j, c in enumerate(children)
                        if c.type == "link_open" and c.attrGet("class") == "header-anchor"), None)
            children = children[:cut] if cut is not None else children
            rendered = md.renderer.renderInline(children, md.options, {})
            toc.append({"level": int(token.tag[1]), "id": token.attrGet("id"),
                        "text": inline.content, "html": Markup(rendered.strip())})
    return toc


def plain_text(tokens: Sequence[Token]) -> str:
    """The words of a lesson, for search and reading time: no markup, no math, no code."""
    words = []
    for token in tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type in ("text", "code_inline", "escaped_dollar"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        words.append(" ")
    return " ".join("".join(words).split())


def render_markdown(md: MarkdownIt, source: str) -> tuple[str, dict[str, Any], list[Token]]:
    env: dict[str, Any] = {}
    tokens = md.parse(source, env)
    return md.renderer.render(tokens, md.options, env), env, tokens


def lesson_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if p.is_file())
