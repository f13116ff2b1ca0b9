"""A tiny encoder–decoder Transformer (Vaswani et al., 2017), in plain torch.

Shapes: ``B`` pairs in a batch, ``S`` source tokens, ``T`` target tokens, ``d`` features
(``d_model``), ``H`` heads. The encoder reads the whole source at once; the decoder
reads the target produced so far (BOS first) and predicts the next token at every
position. Each decoder block has three parts, each wrapped in a residual connection and
a LayerNorm (post-norm, as in the 2017 paper and app/ml/tiny_transformer.py):

1. masked self-attention over the target (position t sees positions ≤ t only);
2. cross-attention: queries from the decoder, keys and values from the encoder's output;
3. a position-wise feed-forward network.

Attention layers keep ``torch.nn.MultiheadAttention``'s weight layout (app/ml/attention.py),
so the tests copy weights across and compare numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from app.ml.attention import (
    Attention,
    MultiHeadSelfAttention,
    causal_mask,
    scaled_dot_product_attention,
)
from app.ml.positional import PositionalEncoding


class MultiHeadAttention(MultiHeadSelfAttention):
    """Attention of ``query`` positions over ``memory`` positions (cross-attention when
    they differ), with the same stacked weights as the self-attention it extends."""

    def forward(self, query: torch.Tensor, memory: torch.Tensor,  # type: ignore[override]
                mask: torch.Tensor | None = None) -> Attention:
        """``query`` ``[B, Lq, d]``, ``memory`` ``[B, Lk, d]``; ``mask`` broadcasts to
        ``[B, H, Lq, Lk]``, True where a query may not look. Weights: ``[B, H, Lq, Lk]``."""
        d = self.d_model
        w, b = self.in_proj_weight, self.in_proj_bias
        bias = (None, None, None) if b is None else (b[:d], b[d:2 * d], b[2 * d:])
        # Queries are projected from the decoder; keys and values from the memory.
        q = nn.functional.linear(query, w[:d], bias[0])
        k = nn.functional.linear(memory, w[d:2 * d], bias[1])
        v = nn.functional.linear(memory, w[2 * d:], bias[2])
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        heads = scaled_dot_product_attention(q, k, v, mask)
        merged = heads.output.transpose(1, 2).reshape(query.shape[0], query.shape[1], d)
        return Attention(self.out_proj(merged), heads.weights, heads.scores)


def feed_forward(d_model: int, d_ff: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))


class EncoderBlock(nn.Module):
    """x → LN(x + SelfAttn(x)) → LN(· + FFN(·)), padding keys masked out."""

    def __init__(self, d_model: int, heads: int, d_ff: int) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, heads)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.feed_forward = feed_forward(d_model, d_ff)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, S, d]``, ``pad`` ``[B, S]`` True at padding → ``[B, S, d]``."""
        x = self.norm1(x + self.attention(x, x, pad[:, None, None, :]).output)
        return self.norm2(x + self.feed_forward(x))


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to the encoder, feed-forward; each with a
    residual connection and a LayerNorm."""

    def __init__(self, d_model: int, heads: int, d_ff: int) -> None:
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, heads)
        self.cross_attention = MultiHeadAttention(d_model, heads)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.feed_forward = feed_forward(d_model, d_ff)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, source_pad: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``y`` ``[B, T, d]`` (target so far), ``memory`` ``[B, S, d]`` (encoder output),
        ``source_pad`` ``[B, S]``. Returns the new ``y`` and cross-attention ``[B, H, T, S]``."""
        # The causal mask: position t may not read the targets after it, which at
        # inference do not exist yet.
        y = self.norm1(y + self.self_attention(y, y, causal_mask(y.shape[1])).output)
        cross = self.cross_attention(y, memory, source_pad[:, None, None, :])
        y = self.norm2(y + cross.output)
        return self.norm3(y + self.feed_forward(y)), cross.weights


@dataclass
class Decoded:
    """What one decoder pass computes: next-token ``logits`` ``[B, T, vocab]`` and each
    layer's cross-attention ``[B, H, T, S]`` (row t: where output t looked in the source)."""

    logits: torch.Tensor
    cross_attention: list[torch.Tensor]


class Seq2SeqTransformer(nn.Module):
    """Embeddings + sinusoidal positions → ``layers`` encoder blocks; embeddings + positions
    → ``layers`` decoder blocks → a linear read-out over the target vocabulary.

    Id 0 is padding on both sides.
    """

    def __init__(self, source_vocab: int, target_vocab: int, d_model: int, heads: int,
                 layers: int, max_length: int = 16, d_ff: int | None = None) -> None:
        super().__init__()
        d_ff = d_ff or 2 * d_model
        self.source_embed = nn.Embedding(source_vocab, d_model)
        self.target_embed = nn.Embedding(target_vocab, d_model)
        self.positions = PositionalEncoding("sinusoidal", max_length, d_model)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, heads, d_ff) for _ in range(layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, heads, d_ff) for _ in range(layers))
        self.readout = nn.Linear(d_model, target_vocab)

    def encode(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``source`` ids ``[B, S]`` → memory ``[B, S, d]`` and its padding ``[B, S]``."""
        pad = source == 0
        x = self.positions(self.source_embed(source))
        for block in self.encoder:
            x = block(x, pad)
        return x, pad

    def decode(self, target_in: torch.Tensor, memory: torch.Tensor,
               source_pad: torch.Tensor) -> Decoded:
        """``target_in`` ids ``[B, T]`` (BOS, y_1 … y_{T-1}) → logits for y_1 … y_T."""
        y = self.positions(self.target_embed(target_in))
        maps = []
        for block in self.decoder:
            y, weights = block(y, memory, source_pad)
            maps.append(weights)
        return Decoded(self.readout(y), maps)

    def forward(self, source: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, vocab]``: one teacher-forced pass over the whole target."""
        memory, pad = self.encode(source)
        return self.decode(target_in, memory, pad).logits
