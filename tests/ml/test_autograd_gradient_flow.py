"""Gradient flow physics in a deep MLP, and Jacobians built from VJPs vs torch."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from app.ml.datasets import make_labelled_dataset
from app.ml.gradient_flow import DeepMLP, first_to_last_ratio, initialise, train_steps
from app.ml.jacobian import (
    example,
    jacobian_by_rows,
    jacobian_rows,
    linear_jacobian,
    softmax_jacobian,
    tanh_jacobian,
    vector_jacobian_product,
)

DATA = make_labelled_dataset("moons", 128, torch.Generator().manual_seed(0))


def first_step_norms(depth, activation, init, residual=False, layer_norm=False, seed=0,
                     std=0.1):
    model = DeepMLP(depth, 32, activation, residual, layer_norm)
    initialise(model, init, std, torch.Generator().manual_seed(seed))
    return next(train_steps(model, *DATA, lr=0.1, steps=1)).grad_norms


@pytest.mark.parametrize("seed", [0, 1])
def test_deep_sigmoid_with_xavier_vanishes(seed):
    norms = first_step_norms(20, "sigmoid", "xavier", seed=seed)
    assert len(norms) == 20
    assert first_to_last_ratio(norms) < 1e-3
    assert norms[0] / norms[-1] < 1e-3  # also input layer against output layer
    # The decay is steady: every hidden layer gets less than the one after it, mostly.
    shrinking = sum(a < b for a, b in zip(norms[1:-1], norms[2:-1], strict=False))
    assert shrinking >= 15


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_with_kaiming_and_residual_sigmoid_keep_gradients_alive(seed):
    assert 0.1 < first_to_last_ratio(first_step_norms(20, "relu", "kaiming", seed=seed)) < 10
    residual = first_step_norms(20, "sigmoid", "xavier", residual=True, seed=seed)
    assert 0.1 < first_to_last_ratio(residual) < 10


def test_large_normal_init_with_tanh_explodes_and_clipping_bounds_the_step():
    norms = first_step_norms(20, "tanh", "normal", std=0.5)
    assert first_to_last_ratio(norms) > 10
    model = DeepMLP(20, 32, "tanh")
    initialise(model, "normal", 0.5, torch.Generator().manual_seed(0))
    step = next(train_steps(model, *DATA, lr=0.1, steps=1, clip=1.0))
    clipped = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    assert step.total_norm > 1.0 and float(clipped) == pytest.approx(1.0, rel=1e-4)


def test_training_a_healthy_net_lowers_the_loss():
    model = DeepMLP(4, 16, "relu")
    initialise(model, "kaiming", 0.1, torch.Generator().manual_seed(0))
    losses = [s.loss for s in train_steps(model, *DATA, lr=0.2, steps=60)]
    assert losses[-1] < 0.6 * losses[0]


def test_layer_norms_match_torch_autograd_grad():
    model = DeepMLP(5, 16, "gelu", residual=True, layer_norm=True)
    initialise(model, "xavier", 0.1, torch.Generator().manual_seed(3))
    step = next(train_steps(model, *DATA, lr=0.0, steps=1))
    loss = torch.nn.functional.cross_entropy(model(DATA[0]), DATA[1])
    grads = torch.autograd.grad(loss, [lin.weight for lin in model.linears])
    assert step.grad_norms == pytest.approx([float(g.norm()) for g in grads], rel=1e-5)


def test_jacobians_from_vjps_match_torch_functional_jacobian():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, generator=g, dtype=torch.float64)
    x3 = torch.randn(3, generator=g, dtype=torch.float64)
    x5 = torch.randn(5, generator=g, dtype=torch.float64)
    cases = [(lambda v: w @ v, x3, linear_jacobian(w)),
             (lambda v: torch.softmax(v, 0), x5, softmax_jacobian(x5)),
             (torch.tanh, x5, tanh_jacobian(x5))]
    for f, x, formula in cases:
        reference = jacobian(f, x)
        assert torch.allclose(jacobian_by_rows(f, x), reference, atol=1e-12)
        assert torch.allclose(formula, reference, atol=1e-12)
        v = torch.randn(reference.shape[0], generator=g, dtype=torch.float64)
        assert torch.allclose(vector_jacobian_product(f, x, v), v @ reference, atol=1e-12)
    # Softmax rows sum to zero: shifting every input equally changes nothing.
    assert torch.allclose(softmax_jacobian(x5).sum(dim=1), torch.zeros(5, dtype=torch.float64))


@pytest.mark.parametrize("function", ["linear", "softmax", "tanh"])
def test_the_examples_closed_forms_match_torch_row_by_row(function):
    f, x, formula = example(function, 4, 3, torch.Generator().manual_seed(2))
    assert formula.shape == ((3, 4) if function == "linear" else (4, 4))
    rows = list(jacobian_rows(f, x))  # one backward pass each
    assert len(rows) == formula.shape[0]
    assert torch.allclose(torch.stack(rows), jacobian(f, x), atol=1e-12)
    assert torch.allclose(formula, jacobian(f, x), atol=1e-12)
