"""Lesson Markdown → HTML: math, highlighted code, callouts, exercises, demos, source.

The dialect on top of CommonMark (raw HTML is off, so a lesson cannot inject script):

* ``$…$`` and ``$$…$$`` math, typeset by KaTeX in the browser;
* ``::: note Title`` … ``:::`` callouts (``note``, ``tip``, ``warning``);
* ``:::: exercise Title`` … ``::::`` with a nested ``::: solution`` that collapses;
* a fence ``demo <slug>`` whose YAML body presets the demo's parameters;
* a fence ``source <path>[:<name>]`` that shows a function, class or file of app/,
  read from the source so the lesson and the code never drift apart.
"""

from __future__ import annotations

import ast
import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.config import ROOT


class LessonError(ValueError):
    """A mistake in a lesson's source that the author must fix."""


CALLOUTS = ("note", "tip", "warning")
_FORMATTER = HtmlFormatter(nowrap=True)
# Renders one demo fence: (slug, presets, instance id) -> HTML. Set by the caller.
DemoRenderer = Callable[[str, dict[str, Any], str], str]


def highlight_code(code: str, language: str) -> str:
    """Pygments HTML (classes, no inline styles) or escaped text for unknown languages."""
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return html.escape(code)
    return highlight(code, lexer, _FORMATTER)


def read_source(spec: str) -> tuple[str, str]:
    """``app/ml/kmeans.py:lloyd_steps`` → (caption, code) of that top-level definition."""
    path_part, _, name = spec.partition(":")
    path = (ROOT / path_part).resolve()
    if not path.is_relative_to(ROOT / "app") or path.suffix != ".py" or not path.is_file():
        raise LessonError(f"source fence: {path_part!r} is not a Python file under app/")
    text = path.read_text(encoding="utf-8")
    if not name:
        return path_part, text.rstrip() + "\n"
    lines = text.splitlines()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                code = "\n".join(lines[first - 1 : node.end_lineno]) + "\n"
                return f"{path_part} · {name} (lines {first}–{node.end_lineno})", code
    raise LessonError(f"source fence: {path_part} has no top-level function or class {name!r}")


def _render_fence(demo_renderer: DemoRenderer) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
        token = tokens[idx]
        kind, _, arg = token.info.strip().partition(" ")
        arg = arg.strip()
        if kind == "demo":
            try:
                presets = yaml.safe_load(token.content) or {}
            except yaml.YAMLError as exc:
                raise LessonError(f"demo {arg}: presets are not valid YAML: {exc}") from exc
            if not isinstance(presets, dict):
                raise LessonError(f"demo {arg}: presets must be `key: value` lines")
            count = env.setdefault("demo_count", {})
            count[arg] = count.get(arg, 0) + 1
            instance = arg if count[arg] == 1 else f"{arg}-{count[arg]}"
            env.setdefault("demos", []).append(arg)
            return demo_renderer(arg, presets, instance)
        if kind == "source":
            caption, code = read_source(arg)
            return (
                f'<figure class="source"><figcaption>{html.escape(caption)}</figcaption>'
                f'<pre class="highlight"><code>{highlight_code(code, "python")}</code></pre>'
                "</figure>\n"
            )
        language = html.escape(kind)
        return (
            f'<pre class="highlight" data-lang="{language}"><code>'
            f"{highlight_code(token.content, kind)}</code></pre>\n"
        )

    return render


def _title_after(name: str, info: str) -> str:
    return info.strip()[len(name) :].strip()


def _callout(name: str) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
        if tokens[idx].nesting != 1:
            return "</aside>\n"
        title = _title_after(name, tokens[idx].info) or name.capitalize()
        return (
            f'<aside class="callout callout-{name}" role="note">'
            f'<p class="callout-title">{html.escape(title)}</p>\n'
        )

    return render


def _exercise(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting != 1:
        return "</section>\n"
    env["exercises"] = number = env.get("exercises", 0) + 1
    title = _title_after("exercise", tokens[idx].info)
    heading = f"Exercise {number}" + (f": {html.escape(title)}" if title else "")
    return f'<section class="exercise"><p class="exercise-title">{heading}</p>\n'


def _solution(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting != 1:
        return "</div></details>\n"
    return '<details class="solution"><summary>Show solution</summary><div>\n'


def build_markdown(demo_renderer: DemoRenderer) -> MarkdownIt:
    """The one Markdown parser every lesson goes through."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(dollarmath_plugin)
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    for name in CALLOUTS:
        md.use(container_plugin, name, render=_callout(name))
    md.use(container_plugin, "exercise", render=_exercise)
    md.use(container_plugin, "solution", render=_solution)
    md.add_render_rule("fence", _render_fence(demo_renderer))
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
            if child.type in ("text", "code_inline"):
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
