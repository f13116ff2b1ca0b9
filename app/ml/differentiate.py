"""Differentiate a parsed expression twice: with the scalar engine and with torch.

The tree accepted by :func:`app.ml.expression.parse_expression` is evaluated with torch
float64 tensors and with the scalar engine of :mod:`app.ml.scalar_engine`, node by
node, so that every forward value and every gradient can be compared.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from app.ml.expression import (
    FUNCTIONS,
    OPERATORS,
    VARIABLES,
    ExpressionError,
    constant_value,
    parse_expression,
)
from app.ml.scalar_engine import Value, topological_order


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
    number = constant_value(node)
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


def backward_order(d: Differentiated) -> list[Value]:
    """The nodes torch tracks, in reverse topological order: the order in which the
    backward pass finishes them (a node's gradient is complete once all its users ran)."""
    return [node for node in reversed(d.order) if d.torch_grad[id(node)] is not None]


def graph_layout(order: list[Value]) -> dict[int, tuple[float, float]]:
    """(column, row) of every node, keyed by ``id(node)``, for a drawing left to right.

    Leaves in column 0, the output in the last column, every other node as far right as
    its users allow (so an edge never skips past a column with a box in its way); rows
    within a column are centred on 0 and sorted by their parents' mean row (fewer
    crossing edges), row 0 on top. ``order`` is topological, leaves first, root last.
    """
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    users: dict[int, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            users.setdefault(id(parent), []).append(node)
    for node in reversed(order[:-1]):  # the root keeps its column
        if node.parents and id(node) in users:
            depth[id(node)] = min(depth[id(u)] for u in users[id(node)]) - 1
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position: dict[int, tuple[float, float]] = {}
    for column in sorted(columns):
        nodes = columns[column]
        if column > 0:  # barycentre ordering: fewer crossing edges
            nodes.sort(key=lambda n: -sum(position[id(p)][1] for p in n.parents)
                       / len(n.parents))  # row 0 is drawn on top
        for row, node in enumerate(nodes):
            position[id(node)] = (float(column), (len(nodes) - 1) / 2 - row)
    return position


def graph_record(d: Differentiated) -> dict[str, list]:
    """The graph as plain data: ``nodes`` (op, label, both engines' value and gradient,
    parents by index; gradient None where torch tracks none) and ``edges`` [parent, node]
    (one per distinct parent: x*x has one edge)."""
    index = {id(n): i for i, n in enumerate(d.order)}
    nodes = [{"id": index[id(n)], "op": n.op, "label": n.label, "value": n.data,
              "grad": None if d.torch_grad[id(n)] is None else n.grad,
              "torch_value": d.torch_value[id(n)], "torch_grad": d.torch_grad[id(n)],
              "parents": [index[id(p)] for p in n.parents]} for n in d.order]
    edges = [[index[id(p)], index[id(n)]] for n in d.order for p in dict.fromkeys(n.parents)]
    return {"nodes": nodes, "edges": edges}
