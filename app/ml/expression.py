"""Typed-in expressions in x, y, z, parsed safely into a tree of allowed operations.

The text is never ``eval``'d. It goes through three gates, each naming the first
offending token and its position (1-based, counted in characters):

1. plain-text checks that cost nothing: length, parenthesis balance and depth — done
   *before* any parser runs, so a deeply nested input cannot exhaust the stack;
2. a scanner that accepts only numbers, the names x, y, z and the allowed functions,
   and the symbols ``+ - * / ** ( )``;
3. Python's ``ast`` builds the tree, and a walk over it accepts only an allow-list of
   node types, and refuses huge constant exponents and power towers.

:mod:`app.ml.differentiate` evaluates the accepted tree with both engines.
"""

from __future__ import annotations

import ast
import re
import warnings

MAX_LENGTH = 200
MAX_NESTING = 32
MAX_EXPONENT = 1000
VARIABLES = ("x", "y", "z")
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs")
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<floor>//)"  # floor division: refused, but named as one token
    r"|(?P<op>\*\*|[-+*/()])"
)


class ExpressionError(ValueError):
    """A refused expression; the message starts with "expression:" and says where."""

    def __init__(self, message: str) -> None:
        super().__init__(f"expression: {message}")


# ---- gates 1 and 2: text and tokens ---------------------------------------------------


def check_text(text: str) -> None:
    """Length and parenthesis nesting, by scanning characters (no parser, no recursion)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"too long: {len(text)} characters, at most {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("is empty; type something like sin(x)*y + x**2/y")
    depth = 0
    for position, char in enumerate(text, start=1):
        if char == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"parentheses nested deeper than {MAX_NESTING} levels at position {position}")
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ExpressionError(f"unmatched ')' at position {position}")
    if depth > 0:
        raise ExpressionError(f"{depth} unclosed '(' (the last at position {text.rfind('(') + 1})")


def check_tokens(text: str) -> None:
    """Accept only numbers, known names and arithmetic symbols; name the first other token.

    Then check that every operator has its operands: Python's parser would blame the
    start of ``x**`` ("position 1 near 'x**'") instead of the ``**`` left dangling.
    """
    tokens: list[tuple[str, int]] = []  # (token, 1-based position), spaces left out
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected character {text[position]!r} "
                                  f"at position {position + 1}")
        if match.group("floor"):
            raise ExpressionError(f"unexpected token '//' at position {position + 1}")
        name = match.group("name")
        if name is not None and name not in VARIABLES + FUNCTIONS:
            raise ExpressionError(
                f"unknown name {name!r} at position {position + 1}; use x, y, z or "
                + ", ".join(FUNCTIONS))
        if not match.group("space"):
            tokens.append((match.group(), position + 1))
        position = match.end()
    check_operands(tokens, text)


def _completed(text: str, token: str, position: int) -> str:
    """The text up to a dangling operator with a 2 after it, spaced as the student spaces."""
    head = text[:position - 1 + len(token)].lstrip()
    spaced = text[position - 2:position - 1] == " "
    example = head + (" 2" if spaced else "2")
    return example if len(example) <= 24 else "…" + example[-23:]


BINARY_ONLY = ("*", "/", "**")  # + and - may also stand before a number: -x, 2*-x


def check_operands(tokens: list[tuple[str, int]], text: str) -> None:
    """Every operator needs a number, name or '(' after it; ``*``, ``/``, ``**`` one before."""
    for i, (token, position) in enumerate(tokens):
        if token not in OPERATORS.values():
            continue
        before = tokens[i - 1][0] if i > 0 else None
        if token in BINARY_ONLY and before in (None, "("):
            where = "at the start" if before is None else "right after '('"
            raise ExpressionError(f"{token!r} at position {position} has nothing on its "
                                  f"left ({where}); e.g. x{token}2")
        if i + 1 == len(tokens):
            example = _completed(text, token, position)
            raise ExpressionError(f"{token!r} at position {position} has nothing on its "
                                  f"right: the expression ends there; e.g. {example}")
        after, after_position = tokens[i + 1]
        if after == ")" or after in BINARY_ONLY:
            raise ExpressionError(f"{token!r} at position {position} has nothing on its "
                                  f"right: {after!r} at position {after_position} follows "
                                  "it; put a number, x, y, z or a function between them")


# ---- gate 3: the tree -----------------------------------------------------------------


def constant_value(node: ast.AST) -> float | None:
    """The number a node stands for if it is a literal like ``3`` or ``-2.5``, else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = constant_value(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def _operator_position(node: ast.BinOp, text: str) -> int:
    """1-based position of a binary operator: it sits between its two operands."""
    start, stop = node.left.end_col_offset or 0, node.right.col_offset
    offset = text.find(OPERATORS[type(node.op)], start, stop)
    return (offset if offset >= 0 else node.col_offset) + 1


def _where(node: ast.AST, text: str) -> str:
    start = getattr(node, "col_offset", 0)
    snippet = text[start:getattr(node, "end_col_offset", start + 1)][:20]
    return f"{snippet!r} at position {start + 1}"


def check_tree(node: ast.AST, text: str) -> None:
    """Walk the tree; anything that is not on the allow-list is refused with its position."""
    if isinstance(node, ast.Expression):
        return check_tree(node.body, text)
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExpressionError(f"only real numbers are allowed, not {_where(node, text)}")
        return None
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"function {node.id!r} at position {node.col_offset + 1} "
                                  f"needs an argument in parentheses, e.g. {node.id}(x)")
        if node.id not in VARIABLES:
            raise ExpressionError(f"unknown name {_where(node, text)}")
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return check_tree(node.operand, text)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        if isinstance(node.op, ast.Pow):
            _check_power(node, text)
        check_tree(node.left, text)
        return check_tree(node.right, text)
    if isinstance(node, ast.Call):
        function = node.func
        if not (isinstance(function, ast.Name) and function.id in FUNCTIONS):
            raise ExpressionError(f"only {', '.join(FUNCTIONS)} can be called, "
                                  f"not {_where(function, text)}")
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{function.id} at position {function.col_offset + 1} "
                                  "takes exactly one argument")
        return check_tree(node.args[0], text)
    raise ExpressionError(f"unexpected {type(node).__name__.lower()} {_where(node, text)}")


def _check_power(node: ast.BinOp, text: str) -> None:
    """Refuse powers that only exist to be huge: big constant exponents and towers."""
    position = _operator_position(node, text)
    exponent = constant_value(node.right)
    if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
        # As written: 1000.0000001 printed with :g would read "1000", "too large" for 1000.
        written = text[node.right.col_offset:node.right.end_col_offset]
        raise ExpressionError(f"exponent {written} of '**' at position {position} is too "
                              f"large; at most {MAX_EXPONENT} in size")
    for inner in ast.walk(node.right):
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow):
            raise ExpressionError(f"power tower: '**' at position {_operator_position(inner, text)}"
                                  f" sits in the exponent of '**' at position {position}")


def parse_expression(text: str) -> ast.Expression:
    """Validate ``text`` through all three gates and return its syntax tree.

    Raises :class:`ExpressionError` (a ``ValueError``) naming the offending token and
    its 1-based position.
    """
    check_text(text)
    check_tokens(text)
    try:
        with warnings.catch_warnings():  # "2(x)" warns "int is not callable"; we refuse it
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        position = error.offset or 1
        near = text[position - 1:position + 9].strip() or "the end"
        raise ExpressionError(f"invalid syntax at position {position} near {near!r}") from None
    check_tree(tree, text)
    return tree
