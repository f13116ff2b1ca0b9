"""A deep MLP whose every layer's gradient we watch: vanishing and exploding gradients.

Backpropagation multiplies the gradient by one layer's Jacobian per layer. If those
factors are mostly below 1 the gradient shrinks geometrically on its way to the input
(vanishing); above 1 it grows (exploding). Which one happens depends on the
activation's slope, the scale of the initial weights, and on architectural help:
residual connections add an identity path, LayerNorm rescales activations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Activation = Literal["sigmoid", "tanh", "relu", "gelu"]
Init = Literal["normal", "xavier", "kaiming"]

ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "gelu": F.gelu}


class DeepMLP(nn.Module):
    """``depth`` linear layers: input → width, (depth - 2) × width → width, width → classes.

    Hidden layers optionally normalise their input with LayerNorm ("pre-norm", as in
    modern transformers) and add a residual connection ``h + act(W norm(h) + b)``,
    which gives the gradient a path that skips the layer's Jacobian. With both, the
    stream is normalised once more before the output layer, as transformers do.
    """

    def __init__(self, depth: int, width: int, activation: Activation = "relu",
                 residual: bool = False, layer_norm: bool = False,
                 in_features: int = 2, classes: int = 2) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError("depth must be at least 2 (an input and an output layer)")
        sizes = [in_features] + [width] * (depth - 1) + [classes]
        self.linears = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False))
        # No affine parameters: the norm only rescales, so every parameter is a Linear's.
        self.norms = nn.ModuleList(
            nn.LayerNorm(width, elementwise_affine=False) if layer_norm else nn.Identity()
            for _ in range(depth - 2))
        # Pre-norm transformers end with one more norm: every residual layer adds to the
        # stream (19 positive sigmoid outputs at depth 20), and without it the output
        # layer would start from huge logits.
        self.final_norm = (nn.LayerNorm(width, elementwise_affine=False)
                           if layer_norm and residual else nn.Identity())
        self.activation = ACTIVATIONS[activation]
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(self.linears[0](x))
        for linear, norm in zip(self.linears[1:-1], self.norms, strict=True):
            # Pre-norm: each hidden layer reads a normalised copy of h, so the scale of
            # h (which grows along a residual stream) cannot blow up its weight gradient.
            update = self.activation(linear(norm(h)))
            h = h + update if self.residual else update
        return self.linears[-1](self.final_norm(h))


def initialise(model: DeepMLP, scheme: Init, std: float, generator: torch.Generator) -> None:
    """Set every weight by ``scheme`` and every bias to 0, drawing from ``generator``.

    * normal: N(0, std²) whatever the layer size — too small vanishes, too big explodes;
    * xavier (Glorot): Var = 2 / (fan_in + fan_out), keeps variance for linear/tanh-like units;
    * kaiming (He): Var = 2 / fan_in, compensates ReLU zeroing half its inputs.
    """
    with torch.no_grad():
        for linear in model.linears:
            fan_out, fan_in = linear.weight.shape
            if scheme == "normal":
                scale = std
            elif scheme == "xavier":
                scale = math.sqrt(2.0 / (fan_in + fan_out))
            else:
                scale = math.sqrt(2.0 / fan_in)
            linear.weight.copy_(torch.randn(linear.weight.shape, generator=generator) * scale)
            linear.bias.zero_()


def layer_gradient_norms(model: DeepMLP) -> list[float]:
    """The L2 norm of each layer's weight gradient, input layer first."""
    return [float(linear.weight.grad.norm()) if linear.weight.grad is not None else 0.0
            for linear in model.linears]


@dataclass
class TrainStep:
    step: int  # 1-based
    loss: float  # before this step's update
    accuracy: float
    grad_norms: list[float]  # per layer, input layer first, before clipping
    total_norm: float  # norm of all gradients together, before clipping


def train_steps(model: DeepMLP, inputs: torch.Tensor, labels: torch.Tensor, lr: float,
                steps: int, clip: float = 0.0) -> Iterator[TrainStep]:
    """Full-batch SGD on cross-entropy, yielding the gradients of every step.

    Plain SGD on purpose: adaptive optimizers (Adam) rescale each parameter's step and
    would hide exactly the effect this demo shows. ``clip > 0`` rescales the whole
    gradient to norm ``clip`` when it is larger (``clip_grad_norm_``).
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        optimizer.zero_grad()  # gradients accumulate in .grad: clear last step's
        logits = model(inputs)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        norms = layer_gradient_norms(model)
        total = math.sqrt(sum(n * n for n in norms))
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        accuracy = float((logits.argmax(dim=1) == labels).float().mean())
        yield TrainStep(step, loss.item(), accuracy, norms, total)
        optimizer.step()


def first_to_last_ratio(grad_norms: list[float]) -> float:
    """How much gradient reaches the first hidden layer, relative to the last hidden one.

    The hidden layers all have the same shape (width × width), so their norms compare
    like with like; the input layer (2 inputs) and the output layer (2 classes) are
    smaller matrices with smaller norms whatever the gradient flow. A net with only
    two layers compares those two.
    """
    first, last = (grad_norms[1], grad_norms[-2]) if len(grad_norms) > 3 else (
        grad_norms[0], grad_norms[-1])
    if last == 0:
        return math.nan
    return first / last
