"""Typed-in expressions in x, y, z: parsed safely, then differentiated by two engines.

The text is never ``eval``'d. It goes through three gates, each naming the first
offending token and its position (1-based, counted in characters):

1. plain-text checks that cost nothing: length, parenthesis balance and depth — done
   *before* any parser runs, so a deeply nested input cannot exhaust the stack;
2. a scanner that accepts only numbers, the names x, y, z and the allowed functions,
   and the symbols ``+ - * / ** ( )``;
3. Python's ``ast`` builds the tree, and a walk over it accepts only an allow-list of
   node types, and refuses huge constant exponents and power towers.

The accepted tree is then evaluated twice: with torch float64 tensors and with the
scalar engine of :mod:`app.ml.scalar_engine`, node by node, so that every forward
value and every gradient can be compared.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from app.ml.scalar_engine import Value, topological_order

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
    """Accept only numbers, known names and arithmetic symbols; name the first other token."""
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
        position = match.end()


# ---- gate 3: the tree -----------------------------------------------------------------


def _constant_value(node: ast.AST) -> float | None:
    """The number a node stands for if it is a literal like ``3`` or ``-2.5``, else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _constant_value(node.operand)
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
    exponent = _constant_value(node.right)
    if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent:g} of '**' at position {position} is too "
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


# ---- evaluation by both engines -------------------------------------------------------


class _ScalarBuilder:
    """Builds the graph with the scalar engine, one ``Value`` per operation."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values, self.created, self.variables = values, [], {}

    def _keep(self, node: Any) -> Any:
        self.created.append(node)
        return node

    def variable(self, name: str) -> Value:
        if name not in self.variables:
            self.variables[name] = self._keep(Value(self.values[name], op=name, label=name))
        return self.variables[name]

    def constant(self, number: float) -> Value:
        return self._keep(Value(number, op="const", label=f"{number:g}"))

    def apply(self, op: str, *args: Value) -> Value:
        if op in FUNCTIONS:
            return self._keep(getattr(args[0], op)())
        if op == "neg":
            return self._keep(-args[0])
        left, right = args
        method = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__",
                  "**": "__pow__"}[op]
        return self._keep(getattr(left, method)(right))


class _TorchBuilder(_ScalarBuilder):
    """The same graph in torch float64; every intermediate keeps its ``.grad``."""

    def variable(self, name: str) -> torch.Tensor:
        if name not in self.variables:
            leaf = torch.tensor(self.values[name], dtype=torch.float64, requires_grad=True)
            self.variables[name] = self._keep(leaf)
        return self.variables[name]

    def constant(self, number: float) -> torch.Tensor:
        return self._keep(torch.tensor(number, dtype=torch.float64))

    def apply(self, op: str, *args: torch.Tensor) -> torch.Tensor:
        binary = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div,
                  "**": torch.pow}
        if op in binary:
            out = binary[op](*args)
        elif op == "neg":
            out = torch.neg(args[0])
        else:
            out = getattr(torch, op)(args[0])
        if out.requires_grad:
            out.retain_grad()  # keep gradients of intermediate nodes, not only of leaves
        return self._keep(out)


def evaluate(node: ast.AST, builder: Any) -> Any:
    """Evaluate an accepted tree with a builder (children first, left to right)."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, builder)
    number = _constant_value(node)
    if number is not None:  # "-2" is one constant node, not neg(2)
        return builder.constant(number)
    if isinstance(node, ast.Name):
        return builder.variable(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = evaluate(node.operand, builder)
        return builder.apply("neg", operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = evaluate(node.left, builder)
        return builder.apply(OPERATORS[type(node.op)], left, evaluate(node.right, builder))
    if isinstance(node, ast.Call):
        return builder.apply(node.func.id, evaluate(node.args[0], builder))
    raise ExpressionError(f"cannot evaluate {type(node).__name__}")  # unreachable after checks


def difference(a: float, b: float) -> float:
    """|a - b|, where equal infinities and two NaNs count as agreeing (difference 0)."""
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if a == b:
        return 0.0
    return abs(a - b)


@dataclass
class Differentiated:
    """One expression, evaluated and differentiated by both engines."""

    root: Value
    order: list[Value]  # topological order, leaves first, root last
    torch_value: dict[int, float] = field(default_factory=dict)  # id(Value) → torch's number
    torch_grad: dict[int, float | None] = field(default_factory=dict)  # None: no grad tracked
    gradients: dict[str, float] = field(default_factory=dict)  # engine: d out / d x, y, z
    torch_gradients: dict[str, float] = field(default_factory=dict)
    max_abs_diff: float = 0.0


def differentiate(text: str, values: dict[str, float]) -> Differentiated:
    """Parse ``text``, evaluate it at ``values`` in both engines and backpropagate."""
    tree = parse_expression(text)
    scalar, torched = _ScalarBuilder(values), _TorchBuilder(values)
    root = evaluate(tree, scalar)
    torch_root = evaluate(tree, torched)
    root.backward()
    if torch_root.requires_grad:  # "2*3" has nothing to differentiate
        torch_root.backward()
    result = Differentiated(root=root, order=topological_order(root))
    for value, tensor in zip(scalar.created, torched.created, strict=True):
        result.torch_value[id(value)] = float(tensor.detach())
        grad = tensor.grad if tensor.requires_grad else None
        result.torch_grad[id(value)] = None if grad is None else float(grad)
    if torch_root.requires_grad and torch_root.grad is None:  # a bare "x": root is the leaf
        result.torch_grad[id(root)] = 1.0
    diffs = [difference(root.data, float(torch_root.detach()))]
    for name in VARIABLES:
        leaf, tensor = scalar.variables.get(name), torched.variables.get(name)
        result.gradients[name] = leaf.grad if leaf is not None else 0.0
        torch_grad = tensor.grad if tensor is not None else None
        result.torch_gradients[name] = float(torch_grad) if torch_grad is not None else 0.0
        diffs.append(difference(result.gradients[name], result.torch_gradients[name]))
    for value in result.order:
        diffs.append(difference(value.data, result.torch_value[id(value)]))
        if result.torch_grad[id(value)] is not None:
            diffs.append(difference(value.grad, result.torch_grad[id(value)]))
    result.max_abs_diff = max(diffs)
    return result
