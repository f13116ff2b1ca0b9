"""Dollar math for lessons: ``$…$`` inline, ``$$…$$`` display, ``\\$`` a literal dollar.

mdit_py_plugins' dollarmath does the parsing; this module sets it up the way readers
expect from Pandoc (``tex_math_dollars``) and fills three gaps:

* an opening ``$`` needs a non-space character right after it and a closing ``$`` a
  non-space character right before it and no digit right after it, so prices stay
  prices: "costs $5 and $10" is text. (The plugin's ``allow_digits=False`` is not
  used: it also refuses a digit before the opening ``$`` and, at the start of a
  line, looks at the *last* character of the paragraph instead.)
* a ``$$`` line ends the paragraph above it, as a code fence does, so display math
  works right under a line of text, in list items, quotes, callouts and exercises;
* ``$$…$$`` inside a line (a table cell, a sentence) is display math too.

Typesetting is KaTeX's job in the browser (static/js/site.js): it looks for elements
of class ``math`` and uses display mode for a ``div`` or the class ``display``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar

InlineRule = Callable[[StateInline, bool], bool]
BlockRule = Callable[[StateBlock, int, int, bool], bool]
# Blocks a `$$` line may cut short without a blank line: the same as a code fence.
_INTERRUPTS = ["paragraph", "reference", "blockquote", "list"]
MATH_TOKENS = ("math_inline", "math_inline_double", "math_block", "math_block_label")


def _no_digit_after_closing(rule: InlineRule) -> InlineRule:
    def math_inline(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if not rule(state, True):  # silent: finds the closing $ and moves pos, no token
            return False
        after, state.pos = state.pos, start
        if state.src[after : after + 1].isdigit():  # "$5 and $10": a price, not math
            return False
        return rule(state, silent)

    return math_inline


def _interrupting(rule: BlockRule) -> BlockRule:
    def math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if not silent:
            return rule(state, start, end, False)
        # A paragraph asks, silently, whether this line would end it; the plugin's
        # rule ignores `silent` and emits its token anyway, so undo that.
        line, count = state.line, len(state.tokens)
        found = rule(state, start, end, False)
        state.line = line
        del state.tokens[count:]
        return found

    return math_block


def _mark_escaped_dollars(state: StateCore) -> None:
    """``\\$`` becomes its own token, so the HTML says the author meant a dollar sign."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text_special" and child.markup == "\\$":
                child.type = "escaped_dollar"


def _render_escaped_dollar(self: Any, tokens: Sequence[Token], idx: int, *args: Any) -> str:
    # A character reference in its own element: the page shows "$", and both the lesson
    # lint (reading the HTML) and the browser check (reading the page) can tell it from
    # a math delimiter that failed to pair.
    return '<span class="dollar">&#36;</span>'


def _render_display_in_line(self: Any, tokens: Sequence[Token], idx: int, *args: Any) -> str:
    # A span, not the plugin's div, since a div cannot sit inside a <p> or stay in a cell.
    return f'<span class="math display">{escapeHtml(tokens[idx].content.strip())}</span>'


def math_plugin(md: MarkdownIt) -> None:
    """Dollar math with Pandoc's rules for where a ``$`` opens and closes."""
    # Blank lines inside $$ are refused (as LaTeX does): a stray $$ then spoils one
    # paragraph, not the rest of the lesson.
    md.use(dollarmath_plugin, allow_space=False, allow_digits=True, double_inline=True,
           allow_blank_lines=False)
    # The plugin's own rules, rebuilt with the same options and wrapped.
    inline = math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)
    md.inline.ruler.at("math_inline", _no_digit_after_closing(inline))
    block = math_block_dollar(allow_labels=True, allow_blank_lines=False,
                              label_normalizer=lambda label: "-".join(label.split()))
    md.block.ruler.at("math_block", _interrupting(block), {"alt": _INTERRUPTS})
    md.core.ruler.before("text_join", "escaped_dollar", _mark_escaped_dollars)
    md.add_render_rule("escaped_dollar", _render_escaped_dollar)
    md.add_render_rule("math_inline_double", _render_display_in_line)
