"""Scaled dot-product attention and multi-head self-attention, from scratch.

Shapes follow the lesson: ``B`` sequences in a batch, ``L`` tokens each, ``d`` features
per token (``d_model``), ``H`` heads of ``d / H`` features each. The module stores its
weights exactly as ``torch.nn.MultiheadAttention`` does (one stacked ``in_proj_weight``
for Q, K and V, then ``out_proj``), so the test suite can copy weights across and check
that both give the same numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch
from torch import nn

from app.ml.positional import sinusoidal_encoding


@dataclass
class Attention:
    """What one attention call produces.

    ``output``: the mixed values; ``weights``: softmax rows (each sums to 1);
    ``scores``: the raw scaled scores before the softmax (``-inf`` where masked).
    """

    output: torch.Tensor
    weights: torch.Tensor
    scores: torch.Tensor


def causal_mask(length: int) -> torch.Tensor:
    """``[L, L]`` booleans, True where a query may NOT look: keys later than itself."""
    return torch.ones(length, length, dtype=torch.bool).triu(diagonal=1)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    temperature: float = 1.0,
) -> Attention:
    """softmax(Q Kᵀ / (√d_k · temperature)) V over the last two axes.

    ``q``: ``[..., Lq, d_k]``, ``k``: ``[..., Lk, d_k]``, ``v``: ``[..., Lk, d_v]``;
    ``mask`` broadcasts to ``[..., Lq, Lk]`` and is True where attention is forbidden.
    """
    d_k = q.shape[-1]
    # Dividing by √d_k keeps the scores' variance near 1 whatever the width, so the
    # softmax does not saturate into a one-hot with vanishing gradients.
    scores = q @ k.transpose(-2, -1) / (math.sqrt(d_k) * temperature)
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return Attention(weights @ v, weights, scores)


class MultiHeadSelfAttention(nn.Module):
    """H attention heads in parallel, each on its own d/H-wide slice of Q, K and V."""

    def __init__(self, d_model: int, heads: int, bias: bool = True) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by heads ({heads})")
        self.d_model, self.heads = d_model, heads
        # Rows [0:d] project to queries, [d:2d] to keys, [2d:3d] to values.
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, L, d]`` → ``[B, H, L, d/H]``: each head gets its own slice of features."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.d_model // self.heads).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, causal: bool = False, temperature: float = 1.0
    ) -> Attention:
        """Self-attention of ``x`` (``[B, L, d]``); weights and scores are ``[B, H, L, L]``."""
        batch, length, _ = x.shape
        projected = nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = (self.split_heads(t) for t in projected.chunk(3, dim=-1))
        mask = causal_mask(length).to(x.device) if causal else None
        heads = scaled_dot_product_attention(q, k, v, mask, temperature)
        # Concatenate the heads back side by side, then mix them with W_O.
        merged = heads.output.transpose(1, 2).reshape(batch, length, self.d_model)
        return Attention(self.out_proj(merged), heads.weights, heads.scores)

    @torch.no_grad()
    def copy_from(self, reference: nn.MultiheadAttention) -> MultiHeadSelfAttention:
        """Take the weights of a ``torch.nn.MultiheadAttention`` (same d_model and heads)."""
        self.in_proj_weight.copy_(reference.in_proj_weight)
        self.out_proj.weight.copy_(reference.out_proj.weight)
        if self.in_proj_bias is not None:
            self.in_proj_bias.copy_(reference.in_proj_bias)
            self.out_proj.bias.copy_(reference.out_proj.bias)
        return self

    @torch.no_grad()
    def set_identity(self) -> MultiHeadSelfAttention:
        """Q = K = V = x and W_O = I: head h then compares tokens on feature slice h only."""
        eye = torch.eye(self.d_model, dtype=self.in_proj_weight.dtype)
        self.in_proj_weight.copy_(torch.cat([eye, eye, eye]))
        self.out_proj.weight.copy_(eye)
        if self.in_proj_bias is not None:
            self.in_proj_bias.zero_()
            self.out_proj.bias.zero_()
        return self


def row_entropy(weights: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each softmax row: ``[..., Lq, Lk]`` → ``[..., Lq]``.

    0 when a query looks at one key only, ``ln Lk`` when it spreads evenly over all.
    """
    return -(weights * weights.clamp_min(1e-12).log()).sum(-1)


# ---- untrained token vectors (the attention demo's input) -------------------------------


def token_embedding(token: str, d_model: int, seed: int) -> torch.Tensor:
    """A random ``[d]`` vector fixed by (token, seed): the same word always gets the same one.

    Seeded by a stable hash of both, unlike Python's salted ``hash()``.
    """
    digest = hashlib.blake2b(f"{seed}\x00{token}".encode(), digest_size=8).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)
    return torch.randn(d_model, generator=generator, dtype=torch.float64)


def embed_tokens(tokens: list[str], d_model: int, seed: int, positional: bool) -> torch.Tensor:
    """``[1, L, d]`` float64: each token's :func:`token_embedding`, plus its position's
    sinusoidal encoding when ``positional``."""
    x = torch.stack([token_embedding(t, d_model, seed) for t in tokens])
    if positional:
        # Added unscaled: sines and cosines in [-1, 1] are on the scale of the embeddings'
        # N(0, 1) entries, so positions matter without drowning the words.
        x = x + sinusoidal_encoding(len(tokens), d_model).double()
    return x.unsqueeze(0)
