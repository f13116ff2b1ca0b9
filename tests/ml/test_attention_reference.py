"""Our attention against torch.nn.MultiheadAttention and torch's own SDPA."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.demos.base import seeded
from app.ml.attention import (
    MultiHeadSelfAttention,
    causal_mask,
    embed_tokens,
    row_entropy,
    scaled_dot_product_attention,
    token_embedding,
)
from app.ml.positional import sinusoidal_encoding


def pair(d_model: int, heads: int, seed: int = 0):
    with seeded(seed):
        reference = nn.MultiheadAttention(d_model, heads, batch_first=True).double()
        # Non-zero biases, so a mistake in the bias handling cannot hide.
        nn.init.normal_(reference.in_proj_bias)
        nn.init.normal_(reference.out_proj.bias)
        ours = MultiHeadSelfAttention(d_model, heads).double().copy_from(reference)
        x = torch.randn(3, 7, d_model, dtype=torch.float64)
    return ours, reference, x


@pytest.mark.parametrize("d_model,heads", [(8, 1), (12, 3), (32, 8)])
@pytest.mark.parametrize("causal", [False, True])
def test_equals_torch_multihead_attention(d_model, heads, causal):
    ours, reference, x = pair(d_model, heads)
    mine = ours(x, causal=causal)
    mask = causal_mask(7) if causal else None
    theirs, weights = reference(x, x, x, attn_mask=mask, need_weights=True,
                                average_attn_weights=False)
    assert mine.output.shape == (3, 7, d_model)
    assert mine.weights.shape == (3, heads, 7, 7)
    torch.testing.assert_close(mine.output, theirs, atol=1e-6, rtol=0)
    torch.testing.assert_close(mine.weights, weights, atol=1e-6, rtol=0)


def test_equal_in_float32_too():
    with seeded(3):
        reference = nn.MultiheadAttention(16, 4, batch_first=True)
        x = torch.randn(2, 5, 16)
    ours = MultiHeadSelfAttention(16, 4).copy_from(reference)
    theirs, _ = reference(x, x, x)
    torch.testing.assert_close(ours(x).output, theirs, atol=1e-6, rtol=1e-5)


def test_sdpa_matches_torch_functional_and_temperature_sharpens():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=g, dtype=torch.float64) for _ in range(3))
    mine = scaled_dot_product_attention(q, k, v)
    theirs = nn.functional.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(mine.output, theirs, atol=1e-10, rtol=0)
    # Raw scores are Q Kᵀ / √d_k exactly; temperature divides them further.
    torch.testing.assert_close(mine.scores, q @ k.transpose(-2, -1) / 8 ** 0.5)
    cold = scaled_dot_product_attention(q, k, v, temperature=0.25)
    hot = scaled_dot_product_attention(q, k, v, temperature=4.0)
    assert cold.weights.max(-1).values.mean() > mine.weights.max(-1).values.mean()
    assert hot.weights.max(-1).values.mean() < mine.weights.max(-1).values.mean()
    # A very high temperature tends to the uniform average over keys.
    flat = scaled_dot_product_attention(q, k, v, temperature=1e6)
    torch.testing.assert_close(flat.weights, torch.full_like(flat.weights, 1 / 6), atol=1e-5,
                               rtol=0)


def test_causal_rows_sum_to_one_and_nothing_above_the_diagonal():
    ours, _, x = pair(12, 3)
    result = ours(x, causal=True)
    torch.testing.assert_close(result.weights.sum(-1), torch.ones(3, 3, 7, dtype=torch.float64))
    above = torch.ones(7, 7, dtype=torch.bool).triu(1)
    assert (result.weights[..., above] == 0).all()
    assert torch.isneginf(result.scores[..., above]).all()
    # The first token can only see itself.
    assert (result.weights[..., 0, 0] == 1).all()
    # Changing a later token never changes an earlier output.
    changed = x.clone()
    changed[:, -1] += 5.0
    torch.testing.assert_close(ours(changed, causal=True).output[:, :-1], result.output[:, :-1])


def test_self_attention_without_positions_is_permutation_equivariant():
    ours, _, x = pair(12, 3)
    order = torch.tensor([3, 0, 6, 1, 5, 2, 4])
    torch.testing.assert_close(ours(x[:, order]).output, ours(x).output[:, order])


def test_identity_projections_make_a_token_attend_to_copies_of_itself():
    attention = MultiHeadSelfAttention(16, 1).double().set_identity()
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(16, generator=g, dtype=torch.float64) * 3 for _ in range(3))
    x = torch.stack([a, b, a, c]).unsqueeze(0)
    weights = attention(x).weights[0, 0]
    # Token 0 ("a") puts more weight on its twin at position 2 than on b or c.
    assert weights[0, 2] > weights[0, 1] and weights[0, 2] > weights[0, 3]


def test_heads_must_divide_d_model():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 3)


def test_row_entropy_is_zero_for_one_key_and_log_n_for_all():
    weights = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    torch.testing.assert_close(row_entropy(weights), torch.tensor([0.0, torch.log(torch.tensor(
        4.0))]))


def test_a_word_gets_the_same_vector_wherever_it_is_and_positions_tell_copies_apart():
    assert torch.equal(token_embedding("cat", 8, 0), token_embedding("cat", 8, 0))
    assert not torch.equal(token_embedding("cat", 8, 0), token_embedding("cat", 8, 1))
    assert not torch.equal(token_embedding("cat", 8, 0), token_embedding("dog", 8, 0))
    plain = embed_tokens(["the", "cat", "the"], 8, 3, positional=False)
    assert plain.shape == (1, 3, 8) and plain.dtype == torch.float64
    assert torch.equal(plain[0, 0], plain[0, 2])
    placed = embed_tokens(["the", "cat", "the"], 8, 3, positional=True)
    torch.testing.assert_close(placed - plain, sinusoidal_encoding(3, 8).double()[None])
