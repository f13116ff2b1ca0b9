"""A scalar reverse-mode autograd engine, small enough to read in one sitting.

Every arithmetic operation on a :class:`Value` builds a new ``Value`` that remembers
its inputs (``parents``) and a ``_backward`` closure: the local chain-rule step that
pushes the output's gradient into the inputs' gradients. ``backward()`` sorts the
graph topologically and calls those closures from the output back to the leaves.

The arithmetic follows IEEE float64, exactly as torch does: ``1/0`` is ``inf`` and
``log(-1)`` is ``nan`` rather than a Python exception, so the engine agrees with
``torch.autograd`` even where the numbers stop being finite. The derivative formulas
(including their choices at kinks, such as ``relu'(0) = 0``) are torch's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def ieee(function: Callable[..., np.float64], *args: float) -> float:
    """Apply a numpy function to float64 numbers with IEEE results (inf, nan), no warnings."""
    with np.errstate(all="ignore"):
        return float(function(*(np.float64(a) for a in args)))


class Value:
    """A scalar in a computation graph: its value ``data`` and the gradient ``grad``.

    ``grad`` holds d(output)/d(this value) once ``backward()`` ran on the output.
    ``op`` names the operation that produced the value ("x", "const", "+", "sin", ...).
    """

    def __init__(self, data: float, parents: tuple[Value, ...] = (), op: str = "const",
                 label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self.label = label or op
        # Leaves have nothing to push their gradient into.
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"Value({self.label}, data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- binary operations -----------------------------------------------------------

    def __add__(self, other: Value) -> Value:
        out = Value(ieee(np.add, self.data, other.data), (self, other), "+")

        def _backward() -> None:  # d(a+b)/da = d(a+b)/db = 1
            self.grad = ieee(np.add, self.grad, out.grad)
            other.grad = ieee(np.add, other.grad, out.grad)

        out._backward = _backward
        return out

    def __sub__(self, other: Value) -> Value:
        out = Value(ieee(np.subtract, self.data, other.data), (self, other), "-")

        def _backward() -> None:
            self.grad = ieee(np.add, self.grad, out.grad)
            other.grad = ieee(np.subtract, other.grad, out.grad)

        out._backward = _backward
        return out

    def __mul__(self, other: Value) -> Value:
        out = Value(ieee(np.multiply, self.data, other.data), (self, other), "*")

        def _backward() -> None:  # each factor's gradient is the other factor
            self.grad = ieee(np.add, self.grad, ieee(np.multiply, out.grad, other.data))
            other.grad = ieee(np.add, other.grad, ieee(np.multiply, out.grad, self.data))

        out._backward = _backward
        return out

    def __truediv__(self, other: Value) -> Value:
        out = Value(ieee(np.divide, self.data, other.data), (self, other), "/")

        def _backward() -> None:  # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
            self.grad = ieee(np.add, self.grad, ieee(np.divide, out.grad, other.data))
            pull = ieee(np.divide, ieee(np.multiply, -out.grad, self.data),
                        ieee(np.multiply, other.data, other.data))
            other.grad = ieee(np.add, other.grad, pull)

        out._backward = _backward
        return out

    def __pow__(self, other: Value) -> Value:
        a, b = self.data, other.data
        out = Value(ieee(np.power, a, b), (self, other), "**")

        def _backward() -> None:
            # d(a^b)/da = b·a^(b-1); torch defines it as 0 when b == 0 (a^0 is constant).
            if b != 0:
                local = ieee(np.multiply, b, ieee(np.power, a, b - 1))
                self.grad = ieee(np.add, self.grad, ieee(np.multiply, out.grad, local))
            # d(a^b)/db = a^b·ln a; torch defines it as 0 at a == 0, b >= 0 (0^b is flat).
            if not (a == 0 and b >= 0):
                local = ieee(np.multiply, out.data, ieee(np.log, a))
                other.grad = ieee(np.add, other.grad, ieee(np.multiply, out.grad, local))

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad = ieee(np.subtract, self.grad, out.grad)

        out._backward = _backward
        return out

    # ---- functions of one argument -----------------------------------------------------

    def _unary(self, op: str, data: float, local: Callable[[float], float]) -> Value:
        """A one-input operation whose derivative is ``local(output value)``."""
        out = Value(data, (self,), op)

        def _backward() -> None:
            step = ieee(np.multiply, out.grad, local(out.data))
            self.grad = ieee(np.add, self.grad, step)

        out._backward = _backward
        return out

    def sin(self) -> Value:
        return self._unary("sin", ieee(np.sin, self.data), lambda _: ieee(np.cos, self.data))

    def cos(self) -> Value:
        return self._unary("cos", ieee(np.cos, self.data), lambda _: -ieee(np.sin, self.data))

    def tan(self) -> Value:  # tan' = 1 + tan²
        return self._unary("tan", ieee(np.tan, self.data), lambda t: 1.0 + t * t)

    def exp(self) -> Value:  # exp' = exp: reuse the output
        return self._unary("exp", ieee(np.exp, self.data), lambda e: e)

    def log(self) -> Value:
        return self._unary("log", ieee(np.log, self.data),
                           lambda _: ieee(np.divide, 1.0, self.data))

    def sqrt(self) -> Value:  # sqrt' = 1 / (2·sqrt)
        return self._unary("sqrt", ieee(np.sqrt, self.data),
                           lambda s: ieee(np.divide, 1.0, 2.0 * s))

    def tanh(self) -> Value:  # tanh' = 1 - tanh²
        return self._unary("tanh", ieee(np.tanh, self.data), lambda t: 1.0 - t * t)

    def sigmoid(self) -> Value:  # σ' = σ(1 - σ)
        s = ieee(lambda v: 1.0 / (1.0 + np.exp(-v)), self.data)
        return self._unary("sigmoid", s, lambda s: s * (1.0 - s))

    def relu(self) -> Value:
        out = Value(ieee(np.maximum, self.data, 0.0), (self,), "relu")

        def _backward() -> None:
            # Pass the gradient through or *select* 0 (as torch does, also at the kink
            # x = 0): multiplying by 0 would turn an infinite gradient into nan.
            if not out.data <= 0:
                self.grad = ieee(np.add, self.grad, out.grad)

        out._backward = _backward
        return out

    def abs(self) -> Value:  # sign(x); 0 at x == 0, as in torch
        return self._unary("abs", abs(self.data), lambda _: ieee(np.sign, self.data))

    # ---- the backward pass ----------------------------------------------------------------

    def backward(self) -> None:
        """Fill ``grad`` of every value this one depends on with d(self)/d(value)."""
        for _ in self.backward_steps():
            pass

    def backward_steps(self) -> Iterable[Value]:
        """The backward pass one node at a time (a generator, for animations).

        Nodes come in reverse topological order: a node is visited only after every
        node that used it, so its ``grad`` is complete when it is yielded.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):
            node._backward()
            yield node


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, each listed after all of its parents.

    Depth-first search without recursion, so a long chain cannot overflow the stack.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order
