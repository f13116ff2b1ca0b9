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

Every ``##``/``###`` heading gets an id of its own (its words, math included, or the
``{#id}`` it ends with) and a place in the table of contents.

Mistakes fail loudly: each is a LessonError on its line of the file (an unknown callout
kind, a ``:::`` line that closes nothing, a solution outside an exercise, a container
never closed, a bad fence option, preset or source...), with the nearest valid name when
there is one. Parsing notes every mistake of the lesson and raises them together at the
end, the first by line carrying the rest in ``problems``.
"""

from __future__ import annotations

import functools
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
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.util import ClassNotFound

from app.i18n import DEFAULT_LANGUAGE, N_, current_language, gettext, lang_path, t
from app.markdown_fences import (
    DemoFence,
    DemoOptions,
    LessonError,
    demo_options,
    did_you_mean,
    instance_ids,
    parse_demo_fence,
    read_source,
    source_fence,
)
from app.markdown_math import MATH_TOKENS, math_plugin

CALLOUTS = ("note", "tip", "warning")
# A callout without a title of its own is called by its kind, in the page's language.
CALLOUT_NAMES = {"note": N_("Note"), "tip": N_("Tip"), "warning": N_("Warning")}
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


def _line(token: Token) -> int | None:
    """The file line a block token starts on (lessons are parsed with their front
    matter blanked out, so token lines are file lines)."""
    return token.map[0] + 1 if token.map else None


def _problem(state: StateCore, error: LessonError) -> None:
    """Note a mistake; every one is raised together once parsing is done."""
    state.env.setdefault("problems", []).append(error)


def _demo_fences(state: StateCore) -> list[tuple[Token, bool]]:
    """The demo fences of a lesson, each with whether it stands in a ``::: gallery``.

    A gallery holds demo fences only: anything else in it is a mistake.
    """
    found, gallery_level = [], None
    for token in state.tokens:
        if token.type == "container_gallery_open":
            gallery_level = token.level
        elif token.type == "container_gallery_close":
            gallery_level = None
        is_demo = token.type == "fence" and token.info.strip().partition(" ")[0] == "demo"
        if gallery_level is not None and token.level == gallery_level + 1 and not is_demo \
                and token.nesting != -1:
            _problem(state, LessonError(
                "a ::: gallery holds demo fences only, side by side; "
                f"put the {token.type.removesuffix('_open')} outside it", _line(token)))
        if is_demo:
            found.append((token, gallery_level is not None))
    return found


def _render_demos(demo_renderer: DemoRenderer) -> Callable[[StateCore], None]:
    """Render demo fences while parsing, so headings know the element ids they bring.

    A fence with a mistake is noted (with the line of the option or preset key it is
    about) and the others are still checked, so an author sees every mistake at once.
    """

    def render_demos(state: StateCore) -> None:
        tokens, fences = [], []
        for token, in_gallery in _demo_fences(state):
            if not token.info.strip().partition(" ")[2].strip():
                _problem(state, LessonError("a demo fence names no demo: write ```demo <slug>, "
                                            "like ```demo kmeans; the demos are listed at /demos",
                                            _line(token)))
                continue
            try:
                fences.append(parse_demo_fence(token.info.strip().partition(" ")[2].strip(),
                                               token.content, _line(token) or 0))
                tokens.append((token, in_gallery))
            except LessonError as exc:
                _problem(state, exc.at(_line(token), token.map and token.map[1]))
        try:
            instances = instance_ids(fences)
        except LessonError as exc:
            _problem(state, exc)
            return
        for (token, in_gallery), fence, instance in zip(tokens, fences, instances, strict=True):
            try:
                _render_demo(state, demo_renderer, token, fence, instance, in_gallery)
            except LessonError as exc:
                _problem(state, exc.at(fence.line_of(exc.key), token.map and token.map[1]))

    return render_demos


def _render_demo(state: StateCore, demo_renderer: DemoRenderer, token: Token, fence: DemoFence,
                 instance: str, in_gallery: bool) -> None:
    try:
        presets = load_yaml(fence.presets_text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        last = max(0, len(fence.presets_text.splitlines()) - 1)  # not the closing ```
        line = fence.presets_line + min(mark.line, last) if mark and fence.presets_line else None
        raise LessonError(f"demo {fence.slug}: presets are not valid YAML: {exc}", line) from exc
    if not isinstance(presets, dict):
        raise LessonError(f"demo {fence.slug}: presets must be `key: value` lines",
                          fence.presets_line or None)
    options = demo_options(fence, state.md.renderInline, compact=in_gallery)
    state.env.setdefault("demos", []).append(fence.slug)
    token.meta["html"] = demo_renderer(fence.slug, presets, instance, options)
    state.env.setdefault("element_ids", set()).update(_ID_ATTRIBUTE.findall(token.meta["html"]))


# ---- the dialect's own mistakes: containers and fences --------------------------------

CONTAINERS = (*CALLOUTS, "exercise", "solution", "gallery")
_COLON_LINE = re.compile(r"^(:{3,})[ \t]*(\S*)")
# Fence kinds a typo away from a lesson fence ("Demo kmeans", "sources app/...").
_LESSON_FENCES = ("demo", "source")


def _closing_marked(rule: Any) -> Any:
    """mdit_py_plugins' container rule, noting on the open token when no closing line was
    found: such a container silently runs to the end of the lesson (or of its parent)."""

    def container(state: Any, start: int, end: int, silent: bool) -> bool:
        count = len(state.tokens)
        found = rule(state, start, end, silent)
        if found and not silent:
            opened = state.tokens[count]
            # The rule leaves state.line past the closing line when it found one.
            opened.meta["unclosed"] = state.line == opened.map[1]
        return found

    return container


def _describe(token: Token) -> str:
    return f"{token.markup} {token.type.removeprefix('container_').removesuffix('_open')}"


def _check_containers(state: StateCore) -> None:
    """Callouts, exercises, solutions and galleries: opened, closed and nested right."""
    stack: list[Token] = []
    for token in state.tokens:
        if token.type.startswith("container_") and token.nesting == 1:
            kind = token.type.removeprefix("container_").removesuffix("_open")
            if token.meta.get("unclosed"):
                parent = next((t for t in reversed(stack) if t.map and t.map[1] == token.map[1]),
                              None)
                where = (f"before the `{_describe(parent)}` it stands in ends on line "
                         f"{token.map[1] + 1}" if parent else "and runs to the end of the lesson")
                _problem(state, LessonError(
                    f"`{_describe(token)}` is never closed {where}: end it with a line "
                    f"`{token.markup}`", _line(token)))
            if kind == "solution" and not any(t.type == "container_exercise_open" for t in stack):
                _problem(state, LessonError(
                    "a `::: solution` belongs inside an exercise: put it between "
                    "`:::: exercise` and the exercise's closing `::::`", _line(token)))
            outer = stack[-1] if stack else None
            if outer is not None and len(outer.markup) <= len(token.markup):
                # The inner one's closing line closes the outer one: the rest spills out.
                outer_kind = outer.type.removeprefix("container_").removesuffix("_open")
                fix = ("open exercises with four colons, `:::: exercise`"
                       if outer_kind == "exercise" else
                       f"give the outer one more colons, `{outer.markup}: {outer_kind}`")
                _problem(state, LessonError(
                    f"the {outer_kind} opened with {len(outer.markup)} colons holds a {kind} "
                    f"opened with {len(token.markup)}: the `{token.markup}` that closes the "
                    f"{kind} closes the {outer_kind} too; {fix}", _line(outer)))
            stack.append(token)
        elif token.type.startswith("container_") and token.nesting == -1:
            stack.pop()


def _check_stray_colons(state: StateCore) -> None:
    """A ``:::`` line that no container took is text on the page: an unknown callout kind
    (``::: nte``), or a closing line with nothing open."""
    for token in state.tokens:
        if token.type != "inline" or not token.map:
            continue
        unknown_open = 0
        for number, text in enumerate(token.content.splitlines(), start=token.map[0] + 1):
            match = _COLON_LINE.match(text.strip())
            if not match:
                continue
            markup, kind = match.groups()
            if kind:
                unknown_open += 1
                _problem(state, LessonError(
                    f"unknown callout kind `{kind}` in `{markup} {kind}`: the kinds are "
                    f"{', '.join(CALLOUTS)}; also exercise, solution and gallery"
                    f"{did_you_mean(kind.lower(), CONTAINERS)}", number))
            elif unknown_open:
                unknown_open -= 1  # the closing line of the unknown one reported above
            else:
                _problem(state, LessonError(
                    f"a `{markup}` line that closes nothing: is a callout or exercise closed "
                    "twice, or a solution's closing line one colon short?", number))


def _check_fences(state: StateCore) -> None:
    """``source`` fences name a file and definition that exist; near-misses of ``demo``
    and ``source`` are not shown as code."""
    for token in state.tokens:
        if token.type != "fence":
            continue
        kind, _, arg = token.info.strip().partition(" ")
        if kind == "source":
            try:
                read_source(arg.strip())
            except LessonError as exc:
                _problem(state, exc.at(_line(token), token.map and token.map[1]))
            if token.content.strip():
                _problem(state, LessonError(
                    "a source fence shows the code it names; its body is ignored, so leave "
                    f"it empty (it holds {token.content.strip().splitlines()[0]!r})",
                    token.map[0] + 2 if token.map else None))  # the body's first line
        elif kind not in _LESSON_FENCES and arg.strip() and kind.lower() not in _lexer_names():
            guess = did_you_mean(kind.lower(), _LESSON_FENCES)
            if guess:
                _problem(state, LessonError(
                    f"a fence of kind `{kind}` is shown as code{guess}", _line(token)))


@functools.cache
def _lexer_names() -> frozenset[str]:
    return frozenset(alias for _, aliases, _, _ in get_all_lexers() for alias in aliases)


def _check_dialect(state: StateCore) -> None:
    _check_containers(state)
    _check_stray_colons(state)
    _check_fences(state)


def _raise_problems(state: StateCore) -> None:
    """Every mistake noted while parsing, as one LessonError (the first, by line)."""
    problems = state.env.get("problems")
    if problems:
        problems.sort(key=lambda error: error.line or 0)
        first = problems[0]
        first.problems = problems
        raise first


def _gallery(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return '<div class="demo-gallery">\n' if tokens[idx].nesting == 1 else "</div>\n"


def _title_after(md: MarkdownIt, name: str, info: str) -> str:
    """A callout's or exercise's title as HTML: math and code work there as in a heading."""
    return md.renderInline(info.strip()[len(name) :].strip()).strip()


def _callout(md: MarkdownIt, name: str) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
        if tokens[idx].nesting != 1:
            return "</aside>\n"
        title = _title_after(md, name, tokens[idx].info) or gettext(CALLOUT_NAMES[name])
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
        heading = (t("Exercise {number}: {title}", number=number, title=title) if title
                   else t("Exercise {number}", number=number))
        return f'<section class="exercise"><p class="exercise-title">{heading}</p>\n'

    return render


def _solution(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting != 1:
        return "</div></details>\n"
    return f'<details class="solution"><summary>{gettext("Show solution")}</summary><div>\n'


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


# "## Heading {#its-id}": a heading that names its own id (a translation keeps the English
# heading's id, so links into the lesson work in every language).
_OWN_ID = re.compile(r"\s*\{#([A-Za-z][\w-]*)\}\s*$")


def _own_id(inline: Token) -> str | None:
    """The id a heading names at its end, removed from its text; None if it names none."""
    children = inline.children or []
    last = children[-1] if children else None
    match = _OWN_ID.search(last.content) if last is not None and last.type == "text" else None
    if match is None:
        return None
    last.content = last.content[: match.start()]
    inline.content = _OWN_ID.sub("", inline.content)
    return match.group(1)


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
    wanted = [_own_id(state.tokens[i + 1]) or heading_slug(state.tokens[i + 1].children or [])
              or f"section-{number}" for number, (i, _) in enumerate(headings, start=1)]
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
    md.core.ruler.push("dialect", _check_dialect)
    md.core.ruler.push("demos", _render_demos(demo_renderer))
    md.core.ruler.push("heading_ids", _heading_ids)
    # The plugin keeps the ids set above and adds the "#" permalinks.
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    for name in CALLOUTS:
        md.use(container_plugin, name, render=_callout(md, name))
    md.use(container_plugin, "exercise", render=_exercise(md))
    md.use(container_plugin, "solution", render=_solution)
    md.use(container_plugin, "gallery", render=_gallery)
    for name in CONTAINERS:
        rule = next(r for r in md.block.ruler.__rules__ if r.name == f"container_{name}")
        md.block.ruler.at(rule.name, _closing_marked(rule.fn), {"alt": list(rule.alt)})
    md.core.ruler.push("problems", _raise_problems)
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


# Chinese punctuation that closes a phrase. After inline math (a box to the line breaker)
# Chromium may start a line with it, "，" alone at the left edge; a word joiner (U+2060)
# keeps it on the formula's line.
_AFTER_MATH = re.compile(r"(<span class=\"math inline\">[^<]*</span>)(?=[，。、；：！？）」』”》])")


# A link to a page of the site, in a lesson ("/lessons/rnn#clipping"), not to a file or the API.
_SITE_LINK = re.compile(r'href="(/(?!static/|api/|docs\b|openapi)[^"]*)"')


def _links_in_language(html: str) -> str:
    """A lesson's links to other pages lead to them in the page's language (/zh/...)."""
    lang = current_language()
    if lang == DEFAULT_LANGUAGE:
        return html
    return _SITE_LINK.sub(lambda m: f'href="{lang_path(m.group(1), lang)}"', html)


def render_markdown(md: MarkdownIt, source: str) -> tuple[str, dict[str, Any], list[Token]]:
    env: dict[str, Any] = {}
    tokens = md.parse(source, env)
    html = _AFTER_MATH.sub("\\1\u2060", md.renderer.render(tokens, md.options, env))
    return _links_in_language(html), env, tokens


def lesson_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if p.is_file())
