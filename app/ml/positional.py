"""Positional encodings: how a transformer learns where each token sits.

Self-attention treats its input as a set; these modules add a position-dependent
vector to every token so that "the token at position 3" differs from "the same token
at position 5".
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Kind = Literal["sinusoidal", "learned", "none"]


def sinusoidal_encoding(length: int, d_model: int) -> torch.Tensor:
    """``[L, d]`` sines and cosines of geometrically spaced frequencies (Vaswani et al.).

    Column pair (2i, 2i+1) holds sin/cos of ``pos / 10000^(2i/d)``: short wavelengths
    tell neighbours apart, long ones tell the start from the end.
    """
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rates = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                      * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rates)
    table[:, 1::2] = torch.cos(position * rates[: d_model // 2])
    return table


class PositionalEncoding(nn.Module):
    """Adds a sinusoidal or learned position vector to ``[B, L, d]``; ``none`` adds nothing."""

    def __init__(self, kind: Kind, max_length: int, d_model: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(max_length, d_model) * 0.1)
        else:
            self.register_buffer("table", sinusoidal_encoding(max_length, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "none":
            return x
        return x + self.table[: x.shape[1]]
