"""The two fences of the lesson dialect that bring content from the app: demo and source.

A ``demo <slug>`` fence may open with option lines, MyST style, before its YAML presets::

    ```demo kmeans
    :id: two-moons
    :title: Two moons
    :caption: k-means draws a straight border, so it cuts each moon in two.
    :hide: n_points, init
    :autorun: false
    dataset: moons
    ```

``:id:`` names the instance (its anchor ``#demo-<id>`` and its keys in a shared link);
a demo used once defaults to its slug, a demo used more than once needs an id on every
instance, so inserting a demo never renames another. Demo fences inside a ``::: gallery``
container render compact, side by side.

A ``source <path>[:<name>]`` fence shows code of app/; a whole-file listing leaves out
the definitions earlier source fences of the lesson already showed, and a listing of
more than FOLD_LINES lines starts folded behind "Show code (N lines)".
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from app.config import ROOT


class LessonError(ValueError):
    """A mistake in a lesson's source that the author must fix."""


DEMO_OPTIONS = ("id", "title", "caption", "hide", "autorun")
_OPTION_LINE = re.compile(r"^:([A-Za-z_-]+):(?:[ \t]+(.*?))?[ \t]*$")
INSTANCE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
FOLD_LINES = 25  # a listing longer than this starts folded


@dataclass(frozen=True)
class DemoOptions:
    """How one demo fence presents its instance; the defaults are a plain demo."""

    title: Markup | None = None  # replaces the demo's title in the heading (inline Markdown)
    caption: Markup | None = None  # one line under the heading (inline Markdown)
    hide: tuple[str, ...] = ()  # controls not shown; they still send their preset values
    autorun: bool = True  # False: the section says data-autorun="false"
    compact: bool = False  # inside a ::: gallery


@dataclass(frozen=True)
class DemoFence:
    """A demo fence's slug, option lines (name → text) and the YAML text after them."""

    slug: str
    options: dict[str, str]
    presets_text: str


def parse_demo_fence(slug: str, body: str) -> DemoFence:
    """Split the ``:name: value`` lines at the top of a demo fence from its presets."""
    lines = body.splitlines(keepends=True)
    options: dict[str, str] = {}
    first_preset = 0
    for first_preset, line in enumerate(lines):  # noqa: B007 - the loop finds the index
        match = _OPTION_LINE.match(line.rstrip("\r\n"))
        if not match:
            break
        name, value = match.group(1), match.group(2) or ""
        if name not in DEMO_OPTIONS:
            raise LessonError(f"demo {slug}: unknown option :{name}: "
                              f"(the options are {', '.join(f':{o}:' for o in DEMO_OPTIONS)})")
        if name in options:
            raise LessonError(f"demo {slug}: option :{name}: given twice")
        if not value:
            raise LessonError(f"demo {slug}: option :{name}: needs a value")
        options[name] = value
    else:
        first_preset = len(lines)
    return DemoFence(slug, options, "".join(lines[first_preset:]))


def instance_ids(fences: list[DemoFence]) -> list[str]:
    """Each fence's instance id: its ``:id:``, or its slug when the demo appears once."""
    uses: dict[str, int] = {}
    for fence in fences:
        uses[fence.slug] = uses.get(fence.slug, 0) + 1
    ids: list[str] = []
    for fence in fences:
        given = fence.options.get("id")
        if given is None and uses[fence.slug] > 1:
            raise LessonError(
                f"demo {fence.slug} appears {uses[fence.slug]} times in this lesson: give each "
                "instance an `:id: <name>` line, so that links to one never lead to another")
        instance = given or fence.slug
        if not INSTANCE_ID.match(instance):
            raise LessonError(f"demo {fence.slug}: :id: {instance!r} must be lower-case words "
                              "joined by hyphens, like two-moons")
        if instance in ids:
            raise LessonError(f"demo {fence.slug}: the instance id {instance!r} is already taken "
                              "by another demo of this lesson")
        ids.append(instance)
    return ids


def demo_options(fence: DemoFence, render_inline: Callable[[str], str],
                 compact: bool) -> DemoOptions:
    """The presentation options of a parsed fence; ``:hide:`` names are checked by the demo."""
    given = fence.options
    autorun = given.get("autorun", "true").lower()
    if autorun not in ("true", "false"):
        raise LessonError(f"demo {fence.slug}: :autorun: is true or false, not {autorun!r}")
    hide = tuple(name.strip() for name in given.get("hide", "").split(",") if name.strip())

    def inline(name: str) -> Markup | None:
        return Markup(render_inline(given[name]).strip()) if name in given else None

    return DemoOptions(title=inline("title"), caption=inline("caption"), hide=hide,
                       autorun=autorun == "true", compact=compact)


# ---- source fences ------------------------------------------------------------------


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    return {node.name: node for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def read_source(spec: str, shown: frozenset[str] = frozenset()) -> tuple[str, str, str]:
    """``app/ml/kmeans.py:lloyd_steps`` → (path, caption, code) of that top-level definition.

    A whole file (no ``:name``) keeps only the signature of each definition named in
    ``shown`` (``path:name`` of earlier fences), its body replaced by "shown above".
    """
    path_part, _, name = spec.partition(":")
    path = (ROOT / path_part).resolve()
    if not path.is_relative_to(ROOT / "app") or path.suffix != ".py" or not path.is_file():
        raise LessonError(f"source fence: {path_part!r} is not a Python file under app/")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    definitions = _definitions(ast.parse(text))
    if name:
        node = definitions.get(name)
        if node is None:
            raise LessonError(
                f"source fence: {path_part} has no top-level function or class {name!r}")
        first = _first_line(node)
        code = "\n".join(lines[first - 1 : node.end_lineno]) + "\n"
        return path_part, f"{path_part} · {name} (lines {first}–{node.end_lineno})", code
    elided = [node for key, node in definitions.items() if f"{path_part}:{key}" in shown]
    for node in sorted(elided, key=_first_line, reverse=True):  # bottom up: indices hold
        body_start = node.body[0].lineno
        if body_start == node.lineno:  # a one-line definition: nothing to fold
            continue
        indent = re.match(r"\s*", lines[body_start - 1]).group(0)
        lines[body_start - 1 : node.end_lineno] = [f"{indent}...  # shown above"]
    names = ", ".join(node.name for node in elided)
    caption = path_part + (f" · whole file, the bodies of {names} (shown above) left out"
                           if elided else "")
    return path_part, caption, "\n".join(lines).rstrip() + "\n"


def render_listing(caption: str, code_html: str, lines: int, language: str = "python") -> str:
    """A captioned listing with a Copy button; longer than FOLD_LINES, it starts folded."""
    pre = (f'<pre class="highlight" data-lang="{html.escape(language)}">'
           f"<code>{code_html}</code></pre>")
    if lines > FOLD_LINES:
        pre = (f'<details class="code-fold"><summary>Show code ({lines} lines)</summary>'
               f"{pre}</details>")
    return (
        f'<figure class="source"><figcaption><span class="source-name">{html.escape(caption)}'
        '</span><button type="button" class="small quiet copy-code" data-copy-code '
        f'title="Copy the code">Copy</button></figcaption>{pre}</figure>\n'
    )


def source_fence(spec: str, env: dict[str, Any], highlight: Callable[[str, str], str]) -> str:
    """The HTML of a ``source`` fence; ``env`` remembers what earlier ones showed."""
    shown: set[str] = env.setdefault("sources_shown", set())
    path, caption, code = read_source(spec, frozenset(shown))
    if ":" in spec:
        shown.add(spec)
    return render_listing(caption, highlight(code, "python"), code.count("\n"))
