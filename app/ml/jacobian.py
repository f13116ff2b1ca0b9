"""Jacobians built from vector–Jacobian products: what ``backward()`` really computes.

Reverse mode never forms a Jacobian. One backward pass from an output weighted by a
vector ``v`` returns ``vᵀJ`` — a vector–Jacobian product (VJP). Asking for the VJP
with each one-hot ``v = e_i`` in turn returns the Jacobian one row at a time, which
is how ``torch.autograd.functional.jacobian`` works too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import torch

Function = Callable[[torch.Tensor], torch.Tensor]


def vector_jacobian_product(f: Function, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``vᵀ J_f(x)`` with one backward pass: the gradient of ``v · f(x)`` with respect to x."""
    x = x.detach().requires_grad_(True)
    y = f(x)
    (grad,) = torch.autograd.grad(y, x, grad_outputs=v)
    return grad


def jacobian_rows(f: Function, x: torch.Tensor) -> Iterator[torch.Tensor]:
    """The Jacobian's rows ``e_iᵀ J`` (each of shape [n]) in order: one backward pass each."""
    outputs = f(x.detach()).numel()
    for i in range(outputs):
        one_hot = torch.zeros(outputs, dtype=x.dtype)
        one_hot[i] = 1.0
        yield vector_jacobian_product(f, x, one_hot)


def jacobian_by_rows(f: Function, x: torch.Tensor) -> torch.Tensor:
    """The full Jacobian ``J[i, j] = d f_i / d x_j``: one VJP per output, with v = e_i."""
    return torch.stack(list(jacobian_rows(f, x)))


def linear_jacobian(weight: torch.Tensor) -> torch.Tensor:
    """For y = W x, d y_i / d x_j = W[i, j]: the Jacobian is W itself."""
    return weight.clone()


def softmax_jacobian(x: torch.Tensor) -> torch.Tensor:
    """For s = softmax(x), d s_i / d x_j = s_i (δ_ij - s_j), i.e. diag(s) - s sᵀ."""
    s = torch.softmax(x, dim=0)
    return torch.diag(s) - torch.outer(s, s)


def tanh_jacobian(x: torch.Tensor) -> torch.Tensor:
    """An elementwise function has a diagonal Jacobian: diag(1 - tanh(x)²)."""
    return torch.diag(1 - torch.tanh(x) ** 2)


FunctionName = Literal["linear", "softmax", "tanh"]


def example(function: FunctionName, n_inputs: int, n_outputs: int,
            generator: torch.Generator) -> tuple[Function, torch.Tensor, torch.Tensor]:
    """A function, a point x [n_inputs] (float64) and its closed-form Jacobian [m, n_inputs].

    ``linear`` is y = W x with W [n_outputs, n_inputs] drawn after x; ``softmax`` and
    ``tanh`` map n_inputs to n_inputs (``n_outputs`` is unused).
    """
    x = torch.randn(n_inputs, generator=generator, dtype=torch.float64)
    if function == "linear":
        weight = torch.randn(n_outputs, n_inputs, generator=generator, dtype=torch.float64)
        return (lambda v: weight @ v), x, linear_jacobian(weight)
    if function == "softmax":
        return (lambda v: torch.softmax(v, 0)), x, softmax_jacobian(x)
    return torch.tanh, x, tanh_jacobian(x)
