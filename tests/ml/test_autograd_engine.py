"""The scalar engine and the expression parser, checked against torch.autograd in float64."""

from __future__ import annotations

import math
import random

import pytest
import torch

from app.ml import expression
from app.ml.differentiate import backward_order, differentiate, graph_layout, graph_record
from app.ml.expression import (
    FUNCTIONS,
    MAX_LENGTH,
    ExpressionError,
    parse_expression,
)
from app.ml.scalar_engine import Value, topological_order

VALUES = {"x": 1.3, "y": -0.7, "z": 0.45}


def torch_reference(text: str, values: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Trusted reference: the same text evaluated by Python on torch tensors (test-only eval
    of expressions this test wrote itself), differentiated by torch.autograd."""
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for n, v in values.items()}
    def wrap(function):  # constant-only arguments arrive as Python floats
        return lambda v: function(torch.as_tensor(v, dtype=torch.float64))

    namespace = {name: wrap(getattr(torch, name)) for name in FUNCTIONS} | leaves
    out = eval(text, {"__builtins__": {}}, namespace)  # noqa: S307 — our own test strings
    out = out if isinstance(out, torch.Tensor) else torch.tensor(float(out), dtype=torch.float64)
    grads = dict.fromkeys(values, 0.0)
    if out.requires_grad:
        out.backward()
        grads = {n: float(t.grad) if t.grad is not None else 0.0 for n, t in leaves.items()}
    return float(out.detach()), grads


def same(a: float, b: float, tol: float = 1e-9) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


HAND_PICKED = [
    "sin(x)*y + x**2/y", "x", "3", "2*3 + x", "-x**2", "x**y", "z**x", "x**-1.5",
    "exp(x)*log(z) - sqrt(z)/tanh(y)", "sigmoid(x*y*z)", "relu(y) + relu(x)", "abs(y)*abs(x)",
    "tan(x/2) + cos(y)**3", "(x + y + z)**2 / (x*y*z)", "x*x*x - 3*x*y + y*y",
    "log(sigmoid(x) * (1 - sigmoid(y)))", "-(-(-x))", "+x - -y", "1/(1 + exp(-z))",
    "sqrt(x**2 + y**2 + z**2)", "tanh(tanh(tanh(x*3)))", "x/y/z", "x - y - z",
]


@pytest.mark.parametrize("text", HAND_PICKED)
def test_engine_and_torch_agree_with_the_torch_reference(text):
    result = differentiate(text, VALUES)
    value, grads = torch_reference(text, VALUES)
    assert same(result.root.data, value)
    for name in "xyz":
        assert same(result.gradients[name], grads[name]), name
        assert same(result.torch_gradients[name], grads[name]), name
    assert result.max_abs_diff <= 1e-9


def random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(["x", "y", "z", f"{rng.uniform(0.2, 2.5):.3f}"])
    kind = rng.random()
    if kind < 0.5:
        op = rng.choice(["+", "-", "*", "/"])
        return f"({random_expression(rng, depth - 1)} {op} {random_expression(rng, depth - 1)})"
    if kind < 0.6:
        return f"({random_expression(rng, depth - 1)})**{rng.choice([2, 3, -1, 0.5])}"
    if kind < 0.65:
        return f"-{random_expression(rng, depth - 1)}"
    return f"{rng.choice(FUNCTIONS)}({random_expression(rng, depth - 1)})"


def test_two_hundred_random_expressions_match_torch_autograd_including_inf_and_nan():
    rng = random.Random(0)
    checked = non_finite = 0
    while checked < 200:
        text = random_expression(rng, 4)
        if len(text) > MAX_LENGTH:
            continue
        values = {n: rng.uniform(-2, 2) for n in "xyz"}
        result = differentiate(text, values)
        try:
            value, grads = torch_reference(text, values)
        except (ZeroDivisionError, TypeError):  # Python float (or complex) arithmetic
            continue
        assert same(result.root.data, value), text
        for name in "xyz":
            assert same(result.gradients[name], grads[name]), (text, name)
        assert result.max_abs_diff <= 1e-9 or not math.isfinite(value), text
        non_finite += not math.isfinite(value)
        checked += 1
    assert non_finite > 0  # the sample did exercise log/sqrt of negatives


def test_every_intermediate_gradient_matches_torch():
    result = differentiate("sin(x)*y + x**2/y", VALUES)
    # x, sin, y, *, 2, **, /, +: each variable is one leaf however often it is used.
    assert [n.op for n in result.order] == ["x", "sin", "y", "*", "const", "**", "/", "+"]
    for node in result.order:
        assert same(node.data, result.torch_value[id(node)])
        if result.torch_grad[id(node)] is not None:
            assert same(node.grad, result.torch_grad[id(node)])
    assert result.order[-1].grad == 1.0
    # Constants are not tracked by torch: it has no gradient for them.
    constants = [n for n in result.order if n.op == "const"]
    assert constants and all(result.torch_grad[id(n)] is None for n in constants)


def test_division_by_zero_and_log_of_negative_give_inf_and_nan_like_torch():
    assert differentiate("x/0", VALUES).root.data == math.inf
    assert differentiate("-x/0", VALUES).root.data == -math.inf
    result = differentiate("log(y)", VALUES)
    assert math.isnan(result.root.data)
    assert result.gradients["y"] == pytest.approx(1 / -0.7)  # 1/y is still finite
    assert math.isnan(differentiate("sqrt(y)", VALUES).gradients["y"])


def test_scalar_engine_by_hand_and_topological_order():
    a, b = Value(2.0, op="a"), Value(-3.0, op="b")
    c = a * b + a.exp()
    c.backward()
    assert a.grad == pytest.approx(-3.0 + math.exp(2.0))
    assert b.grad == pytest.approx(2.0)
    order = topological_order(c)
    assert order[-1] is c
    for i, node in enumerate(order):
        assert all(order.index(p) < i for p in node.parents)
    # backward() resets gradients: calling it twice does not double them (unlike torch).
    c.backward()
    assert b.grad == pytest.approx(2.0)


def test_a_long_chain_does_not_overflow_the_stack():
    v = Value(0.5, op="x")
    out = v
    for _ in range(5000):
        out = out.tanh()
    out.backward()
    assert 0 < v.grad < 1


def test_kinks_follow_torch_conventions():
    # relu'(0) = 0, |x|'(0) = 0, d(0**z)/dz = 0 for z >= 0: torch's choices.
    zero = {"x": 0.0, "y": 0.0, "z": 2.0}
    for text in ("relu(x)", "abs(x)", "y**z", "x**0"):
        result = differentiate(text, zero)
        _, grads = torch_reference(text, zero)
        assert all(same(result.gradients[n], grads[n]) for n in "xyz"), text


HOSTILE = [
    ("x.real", "'.'", 2), ("__import__('os')", "'__import__'", 1), ("x @ y", "'@'", 3),
    ("x; y", "';'", 2), ("lambda: 1", "'lambda'", 1), ("[x for x in y]", "'['", 1),
    ("foo(x)", "'foo'", 1), ("sin(x, y)", "','", 6), ("x.__class__", "'.'", 2),
    ("open('f')", "'open'", 1), ("x if y else z", "'if'", 3), ("2**3**4", "'**'", 5),
    ("x**(y**2)", "'**'", 6), ("x**1001", "1001", 2), ("x**-5000", "-5000", 2),
    ("x**1e400", "exponent 1e400 ", 2), ("x(1)", "'x'", 1), ("sin", "'sin'", 1), ("()", "'()'", 1),
    ("1j", "'j'", 2), ("'a'", "\"'\"", 1), ("x == y", "'='", 3), ("x y", "'y'", 3),
    ("exp(x", "'('", 4), ("x)", "')'", 2), ("sin()", "sin", 1), ("x // y", "'//'", 3),
]


@pytest.mark.parametrize(("text", "token", "position"), HOSTILE)
def test_hostile_input_is_refused_naming_token_and_position(text, token, position):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert message.startswith("expression: ")
    assert token in message and f"position {position}" in message, message


DANGLING = [  # a missing operand: the message points at the operator and names the gap
    ("x**", "'**' at position 2 has nothing on its right: the expression ends there; "
            "e.g. x**2"),
    ("sin(x)*", "'*' at position 7 has nothing on its right: the expression ends there; "
                "e.g. sin(x)*2"),
    ("x+", "'+' at position 2 has nothing on its right: the expression ends there; e.g. x+2"),
    ("x**2 +  ", "'+' at position 6 has nothing on its right: the expression ends there; "
                 "e.g. x**2 + 2"),
    ("x*(y+)", "'+' at position 5 has nothing on its right: ')' at position 6 follows it; "
               "put a number, x, y, z or a function between them"),
    ("x*/y", "'*' at position 2 has nothing on its right: '/' at position 3 follows it; "
             "put a number, x, y, z or a function between them"),
    ("*x", "'*' at position 1 has nothing on its left (at the start); e.g. x*2"),
    ("(/x)", "'/' at position 2 has nothing on its left (right after '('); e.g. x/2"),
]


@pytest.mark.parametrize(("text", "message"), DANGLING)
def test_a_dangling_operator_is_named_where_it_is(text, message):
    # Before: "invalid syntax at position 1 near 'x**'", blaming the start of the text.
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert str(info.value) == f"expression: {message}"


@pytest.mark.parametrize("text", ["-x", "x*-y", "2*-(x)", "- -x", "x**-2", "+x"])
def test_signs_before_an_operand_are_not_dangling(text):
    parse_expression(text)


def test_a_too_large_exponent_is_shown_as_written():
    # Before: "exponent 1000 ... too large; at most 1000": :g had rounded 1000.0000001.
    for text, written in [("x**1000.0000001", "1000.0000001"), ("x**(-1000.5)", "-1000.5")]:
        with pytest.raises(ExpressionError, match=f"exponent {written} of '\\*\\*' at "
                           "position 2 is too large; at most 1000 in size"):
            parse_expression(text)
    parse_expression("x**1000.0")  # exactly the limit is fine


def test_size_limits_are_checked_before_parsing(monkeypatch):
    deep = "(" * 5000 + "x" + ")" * 5000  # would crash a recursive parser
    parsed = []
    monkeypatch.setattr(expression.ast, "parse", lambda *a, **k: parsed.append(a))
    for text in (deep, "x+" * 150 + "x", "sin(" * 33 + "x" + ")" * 33):
        with pytest.raises(ExpressionError, match="too long|deeper than 32"):
            parse_expression(text)
    assert parsed == []  # refused by scanning characters; Python's parser never saw them
    monkeypatch.undo()
    parse_expression("(" * 32 + "x" + ")" * 32)  # exactly the limit is fine
    assert "(" in str(pytest.raises(ExpressionError, parse_expression, "((x)").value)


def test_the_graph_layout_puts_leaves_left_the_output_right_and_users_after_parents():
    d = differentiate("sin(x)*y + x**2/y", {"x": 1.3, "y": -0.7, "z": 0.0})
    position = graph_layout(d.order)
    columns = {node.label: position[id(node)][0] for node in d.order if not node.parents}
    assert set(columns.values()) == {0.0}  # x, y and the constant 2
    assert position[id(d.root)][0] == max(p[0] for p in position.values())
    for node in d.order:
        for parent in node.parents:
            assert position[id(parent)][0] < position[id(node)][0]
    rows = [position[id(n)][1] for n in d.order if position[id(n)][0] == 0.0]
    assert sum(rows) == 0  # a column is centred on row 0


def test_backward_order_finishes_users_first_and_skips_constants():
    d = differentiate("x*x*x + y + 2", {"x": 2.0, "y": 1.0, "z": 0.0})
    order = backward_order(d)
    assert order[0] is d.root and all(n.op != "const" for n in order)
    seen = set()
    for node in order:
        assert all(id(parent) not in seen for parent in node.parents)
        seen.add(id(node))


def test_the_graph_record_names_parents_and_edges_once():
    d = differentiate("x*x", {"x": 3.0, "y": 0.0, "z": 0.0})
    record = graph_record(d)
    assert [n["op"] for n in record["nodes"]] == ["x", "*"]
    assert record["nodes"][1]["parents"] == [0, 0] and record["edges"] == [[0, 1]]
    assert record["nodes"][0]["grad"] == record["nodes"][0]["torch_grad"] == 6.0
