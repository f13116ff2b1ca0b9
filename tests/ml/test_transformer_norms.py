"""LayerNorm and BatchNorm from scratch against torch.nn.LayerNorm and BatchNorm1d."""

from __future__ import annotations

import torch
from torch import nn

from app.ml.norms import batch_norm, layer_norm


def sample() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 5, generator=g, dtype=torch.float64)
    x[..., 2] = x[..., 2] * 10 + 3  # one feature on a different scale
    return x


def test_layer_norm_equals_torch():
    x = sample()
    ours = layer_norm(x)
    reference = nn.LayerNorm(5, elementwise_affine=False).double()
    torch.testing.assert_close(ours.output, reference(x), atol=1e-10, rtol=0)
    assert ours.mean.shape == (4, 6, 1)
    torch.testing.assert_close(ours.output.mean(-1), torch.zeros(4, 6, dtype=torch.float64))


def test_batch_norm_equals_torch_batchnorm1d_in_training_mode():
    x = sample()
    ours = batch_norm(x)
    reference = nn.BatchNorm1d(5, affine=False).double().train()
    theirs = reference(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(ours.output, theirs, atol=1e-10, rtol=0)
    assert ours.mean.shape == (1, 1, 5)
    # BatchNorm tames the large feature; LayerNorm lets it dominate each token's statistics.
    torch.testing.assert_close(ours.output[..., 2].std(unbiased=False),
                               torch.tensor(1.0, dtype=torch.float64), atol=1e-4, rtol=0)
    assert layer_norm(x).output[..., 2].abs().mean() > 1.5


def test_layer_norm_of_one_token_ignores_the_rest_of_the_batch():
    x = sample()
    other = x.clone()
    other[1:] += 100.0
    torch.testing.assert_close(layer_norm(other).output[0], layer_norm(x).output[0])
    assert not torch.allclose(batch_norm(other).output[0], batch_norm(x).output[0])
