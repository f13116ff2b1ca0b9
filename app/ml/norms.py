"""LayerNorm and BatchNorm on a ``[batch, sequence, features]`` tensor, from scratch.

Both subtract a mean and divide by a standard deviation; they differ only in which
entries share those statistics. LayerNorm: one token's own features. BatchNorm: one
feature across every token of every sequence in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Normalised:
    """The normalised tensor and the statistics used (broadcastable to the input)."""

    output: torch.Tensor
    mean: torch.Tensor
    var: torch.Tensor


def normalise(x: torch.Tensor, dims: tuple[int, ...], eps: float) -> Normalised:
    """``(x - mean) / sqrt(var + eps)`` with mean and variance taken over ``dims``.

    ``x`` has any shape; the output has the same shape, the statistics keep ``dims`` as
    size 1. No learned scale and shift (gamma, beta): those come after, in both layers.
    """
    mean = x.mean(dim=dims, keepdim=True)
    # The biased variance (divide by n, not n - 1), as both torch layers use in training.
    var = x.var(dim=dims, keepdim=True, unbiased=False)
    return Normalised((x - mean) / torch.sqrt(var + eps), mean, var)


def layer_norm(x: torch.Tensor, eps: float = 1e-5) -> Normalised:
    """Normalise each token over its features: statistics shaped ``[B, S, 1]``."""
    return normalise(x, (-1,), eps)


def batch_norm(x: torch.Tensor, eps: float = 1e-5) -> Normalised:
    """Normalise each feature over batch and sequence: statistics shaped ``[1, 1, F]``.

    This is what ``BatchNorm1d`` computes in training mode on ``x.transpose(1, 2)``.
    """
    return normalise(x, (0, 1), eps)
