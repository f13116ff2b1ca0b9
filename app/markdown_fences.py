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
import difflib
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from app.config import ROOT
from app.i18n import gettext, t

_BACKTICKED = re.compile(r"(?<!`)`([^`]+)`(?!`)")


class LessonError(ValueError):
    """A mistake in a lesson's source that the author must fix.

    ``line`` is the 1-based line of the lesson file the mistake is on (None: the file as
    a whole); ``key`` names what in a demo fence it is about (a preset key, or an option
    such as ``:hide:``), so the fence's own line can be found; ``file`` (the file's name)
    and ``excerpt`` (``(line number, text)`` pairs around the mistake) are filled in by
    app/lessons.py; ``problems`` lists every mistake found in the file, this one first.
    ``str()`` is ``file:line: message``, the form editors and compilers use.
    """

    def __init__(self, message: str, line: int | None = None, *, key: str | None = None,
                 end_line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.end_line = end_line  # the last line of the construct (a fence), if known
        self.key = key
        self.file: str | None = None
        self.excerpt: list[tuple[int, str]] = []
        self.problems: list[LessonError] = [self]

    def at(self, line: int | None, end_line: int | None = None) -> LessonError:
        """Place the mistake on ``line`` unless it already knows a more precise one."""
        if self.line is None:
            self.line, self.end_line = line, end_line
        return self

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        return f"{where}: {self.message}" if where else self.message

    @property
    def message_html(self) -> Markup:
        """The message for a page: each `name` in backticks as code, the rest escaped."""
        return Markup(_BACKTICKED.sub(r"<code>\1</code>", str(escape(self.message))))


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean `kmeans-elbow`?)`` for the nearest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


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
    """A demo fence's slug, option lines (name → text) and the YAML text after them.

    ``line`` is the file line of the opening ```` ``` ````, ``option_lines`` the line of
    each option and ``presets_line`` that of the first preset (0 when not known).
    """

    slug: str
    options: dict[str, str]
    presets_text: str
    line: int = 0
    option_lines: dict[str, int] = field(default_factory=dict)
    presets_line: int = 0

    def line_of(self, key: str | None) -> int | None:
        """The line of an option (``:hide:``) or of a preset key; None if not known."""
        if not self.line:
            return None
        if key and key.startswith(":"):
            return self.option_lines.get(key.strip(":"), self.line)
        if key:
            top = key.split(".")[0]
            for number, text in enumerate(self.presets_text.splitlines()):
                if re.match(rf"{re.escape(top)}\s*:", text):
                    return self.presets_line + number
        return self.line


def parse_demo_fence(slug: str, body: str, line: int = 0) -> DemoFence:
    """Split the ``:name: value`` lines at the top of a demo fence from its presets.

    ``line`` is the file line of the fence's opening ```` ``` ```` (0: not known).
    """
    lines = body.splitlines(keepends=True)
    options: dict[str, str] = {}
    option_lines: dict[str, int] = {}
    first_preset = 0
    for first_preset, text in enumerate(lines):  # noqa: B007 - the loop finds the index
        match = _OPTION_LINE.match(text.rstrip("\r\n"))
        if not match:
            break
        name, value = match.group(1), match.group(2) or ""
        at = line + 1 + first_preset if line else None
        if name not in DEMO_OPTIONS:
            raise LessonError(f"demo {slug}: unknown option :{name}: (the options are "
                              f"{', '.join(f':{o}:' for o in DEMO_OPTIONS)})"
                              f"{did_you_mean(f':{name}:', [f':{o}:' for o in DEMO_OPTIONS])}", at)
        if name in options:
            raise LessonError(f"demo {slug}: option :{name}: given twice", at)
        if not value:
            raise LessonError(f"demo {slug}: option :{name}: needs a value", at)
        options[name] = value
        option_lines[name] = at or 0
    else:
        first_preset = len(lines)
    for number, text in enumerate(lines[first_preset:], start=first_preset):
        if _OPTION_LINE.match(text.rstrip("\r\n")):  # an option below a preset
            raise LessonError(f"demo {slug}: the option {text.strip()} comes after a preset: "
                              "options open the fence, before any `key: value` line",
                              line + 1 + number if line else None)
    return DemoFence(slug, options, "".join(lines[first_preset:]), line, option_lines,
                     line + 1 + first_preset if line else 0)


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
                "instance an `:id: <name>` line, so that links to one never lead to another",
                fence.line_of(None))
        instance = given or fence.slug
        if not INSTANCE_ID.match(instance):
            raise LessonError(f"demo {fence.slug}: :id: {instance!r} must be lower-case words "
                              "joined by hyphens, like two-moons", fence.line_of(":id:"))
        if instance in ids:
            raise LessonError(f"demo {fence.slug}: the instance id {instance!r} is already taken "
                              "by another demo of this lesson", fence.line_of(":id:"))
        ids.append(instance)
    return ids


def demo_options(fence: DemoFence, render_inline: Callable[[str], str],
                 compact: bool) -> DemoOptions:
    """The presentation options of a parsed fence; ``:hide:`` names are checked by the demo."""
    given = fence.options
    autorun = given.get("autorun", "true").lower()
    if autorun not in ("true", "false"):
        raise LessonError(f"demo {fence.slug}: :autorun: is true or false, not {autorun!r}",
                          fence.line_of(":autorun:"))
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
        files = [str(f.relative_to(ROOT)) for f in sorted((ROOT / "app").rglob("*.py"))]
        raise LessonError(f"source fence: {path_part!r} is not a Python file under app/"
                          f"{did_you_mean(path_part, files)}")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    definitions = _definitions(ast.parse(text))
    if name:
        node = definitions.get(name)
        if node is None:
            raise LessonError(
                f"source fence: {path_part} has no top-level function or class {name!r}"
                f"{did_you_mean(name, definitions)}")
        first = _first_line(node)
        code = "\n".join(lines[first - 1 : node.end_lineno]) + "\n"
        where = t("{path} · {name} (lines {first}–{last})", path=path_part, name=name,
                  first=first, last=node.end_lineno)
        return path_part, where, code
    elided = [node for key, node in definitions.items() if f"{path_part}:{key}" in shown]
    for node in sorted(elided, key=_first_line, reverse=True):  # bottom up: indices hold
        body_start = node.body[0].lineno
        if body_start == node.lineno:  # a one-line definition: nothing to fold
            continue
        indent = re.match(r"\s*", lines[body_start - 1]).group(0)
        lines[body_start - 1 : node.end_lineno] = [f"{indent}...  # shown above"]
    names = ", ".join(node.name for node in elided)
    caption = path_part + (t(" · whole file, the bodies of {names} (shown above) left out",
                             names=names) if elided else "")
    return path_part, caption, "\n".join(lines).rstrip() + "\n"


def render_listing(caption: str, code_html: str, lines: int, language: str = "python") -> str:
    """A captioned listing with a Copy button; longer than FOLD_LINES, it starts folded."""
    pre = (f'<pre class="highlight" data-lang="{html.escape(language)}">'
           f"<code>{code_html}</code></pre>")
    if lines > FOLD_LINES:
        fold = t("Show code ({lines} lines)", lines=lines)
        pre = f'<details class="code-fold"><summary>{fold}</summary>{pre}</details>'
    return (
        f'<figure class="source"><figcaption><span class="source-name">{html.escape(caption)}'
        '</span><button type="button" class="small quiet copy-code" data-copy-code '
        f'title="{gettext("Copy the code")}">{gettext("Copy")}</button></figcaption>'
        f"{pre}</figure>\n"
    )


def source_fence(spec: str, env: dict[str, Any], highlight: Callable[[str, str], str]) -> str:
    """The HTML of a ``source`` fence; ``env`` remembers what earlier ones showed."""
    shown: set[str] = env.setdefault("sources_shown", set())
    path, caption, code = read_source(spec, frozenset(shown))
    if ":" in spec:
        shown.add(spec)
    return render_listing(caption, highlight(code, "python"), code.count("\n"))
