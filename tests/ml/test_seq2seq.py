"""The encoder–decoder (app/ml/seq2seq.py) against torch.nn's own layers, and the decoder's
promise never to look ahead."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.demos.base import seeded
from app.ml.attention import causal_mask
from app.ml.seq2seq import DecoderBlock, EncoderBlock, MultiHeadAttention, Seq2SeqTransformer


def attention_pair(d_model: int, heads: int):
    with seeded(0):
        reference = nn.MultiheadAttention(d_model, heads, batch_first=True).double()
        nn.init.normal_(reference.in_proj_bias)  # non-zero biases: a slip cannot hide
        nn.init.normal_(reference.out_proj.bias)
    return MultiHeadAttention(d_model, heads).double().copy_from(reference), reference


@pytest.mark.parametrize("d_model,heads", [(8, 1), (12, 3), (32, 4)])
def test_cross_attention_equals_torch_with_keys_and_values_from_the_encoder(d_model, heads):
    ours, reference = attention_pair(d_model, heads)
    g = torch.Generator().manual_seed(1)
    decoder = torch.randn(3, 5, d_model, generator=g, dtype=torch.float64)  # T = 5
    encoder = torch.randn(3, 9, d_model, generator=g, dtype=torch.float64)  # S = 9
    pad = torch.zeros(3, 9, dtype=torch.bool)
    pad[1, 6:] = True  # the second source is 6 tokens long
    mine = ours(decoder, encoder, pad[:, None, None, :])
    theirs, weights = reference(decoder, encoder, encoder, key_padding_mask=pad,
                                need_weights=True, average_attn_weights=False)
    assert mine.weights.shape == (3, heads, 5, 9)
    torch.testing.assert_close(mine.output, theirs, atol=1e-10, rtol=0)
    torch.testing.assert_close(mine.weights, weights, atol=1e-10, rtol=0)
    assert float(mine.weights[1, :, :, 6:].detach().abs().max()) == 0  # padding gets no weight


@torch.no_grad()
def copy_linear(ours: nn.Linear, theirs: nn.Linear) -> None:
    ours.weight.copy_(theirs.weight)
    ours.bias.copy_(theirs.bias)


@torch.no_grad()
def copy_norm(ours: nn.LayerNorm, theirs: nn.LayerNorm) -> None:
    ours.weight.copy_(theirs.weight)
    ours.bias.copy_(theirs.bias)


def test_decoder_block_equals_torch_transformer_decoder_layer():
    with seeded(2):
        reference = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                               batch_first=True).double().eval()
        for norm in (reference.norm1, reference.norm2, reference.norm3):
            nn.init.normal_(norm.weight)
            nn.init.normal_(norm.bias)
        ours = DecoderBlock(16, 4, 32).double()
    ours.self_attention.copy_from(reference.self_attn)
    ours.cross_attention.copy_from(reference.multihead_attn)
    copy_linear(ours.feed_forward[0], reference.linear1)
    copy_linear(ours.feed_forward[2], reference.linear2)
    for mine, theirs in zip((ours.norm1, ours.norm2, ours.norm3),
                            (reference.norm1, reference.norm2, reference.norm3), strict=True):
        copy_norm(mine, theirs)
    g = torch.Generator().manual_seed(3)
    y = torch.randn(2, 6, 16, generator=g, dtype=torch.float64)
    memory = torch.randn(2, 4, 16, generator=g, dtype=torch.float64)
    pad = torch.tensor([[False] * 4, [False, False, False, True]])
    mine, _ = ours(y, memory, pad)
    theirs = reference(y, memory, tgt_mask=causal_mask(6), memory_key_padding_mask=pad)
    torch.testing.assert_close(mine, theirs, atol=1e-10, rtol=0)


def test_encoder_block_equals_torch_transformer_encoder_layer():
    with seeded(4):
        reference = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                               batch_first=True).double().eval()
        ours = EncoderBlock(16, 2, 32).double()
    ours.attention.copy_from(reference.self_attn)
    copy_linear(ours.feed_forward[0], reference.linear1)
    copy_linear(ours.feed_forward[2], reference.linear2)
    copy_norm(ours.norm1, reference.norm1)
    copy_norm(ours.norm2, reference.norm2)
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    pad = torch.tensor([[False] * 5, [False, False, True, True, True]])
    theirs = reference(x, src_key_padding_mask=pad)
    mine = ours(x, pad)
    # torch's fast path may zero padded rows; the real tokens must agree.
    torch.testing.assert_close(mine[~pad], theirs[~pad], atol=1e-10, rtol=0)


def model(layers: int = 2) -> Seq2SeqTransformer:
    with seeded(6):
        return Seq2SeqTransformer(13, 20, d_model=16, heads=2, layers=layers).double().eval()


@pytest.mark.parametrize("changed", [1, 3, 5])
def test_changing_a_future_target_token_changes_no_earlier_output(changed):
    net = model()
    g = torch.Generator().manual_seed(7)
    source = torch.randint(3, 13, (2, 8), generator=g)
    target = torch.randint(3, 20, (2, 7), generator=g)
    other = target.clone()
    other[:, changed] = (other[:, changed] - 3 + 5) % 17 + 3  # a different token
    with torch.no_grad():
        before, after = net(source, target), net(source, other)
    assert torch.equal(before[:, :changed], after[:, :changed])  # bit for bit
    assert (before[:, changed:] - after[:, changed:]).abs().amax() > 1e-3


def test_source_padding_changes_nothing():
    """A short source decoded alone, and padded to a longer one's length in a batch."""
    net = model()
    short = torch.tensor([[4, 5, 6]])
    padded = torch.tensor([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11]])
    target = torch.tensor([[1, 5, 9, 4], [1, 6, 3, 3]])
    with torch.no_grad():
        alone = net(short, target[:1])
        batched = net(padded, target)[:1]
    torch.testing.assert_close(alone, batched, atol=1e-10, rtol=0)


def test_cross_attention_rows_are_distributions_over_the_source():
    net = model(layers=3)
    source = torch.tensor([[4, 5, 6, 7, 0]])
    with torch.no_grad():
        memory, pad = net.encode(source)
        decoded = net.decode(torch.tensor([[1, 4, 9]]), memory, pad)
    assert decoded.logits.shape == (1, 3, 20)
    assert len(decoded.cross_attention) == 3
    for weights in decoded.cross_attention:
        assert weights.shape == (1, 2, 3, 5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 3, dtype=torch.float64))
        assert float(weights[..., 4].abs().max()) == 0
