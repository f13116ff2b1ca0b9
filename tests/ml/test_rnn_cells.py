"""The hand-written cells of app/ml/rnn.py against torch.nn.RNN / LSTM / GRU, and clipping
against torch.nn.utils.clip_grad_norm_.

Weights are copied from a freshly initialised torch layer into our cells; outputs, final
states and gradients must agree to 1e-6 (float64) for several shapes, one direction and
both, batch first or not.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.ml.rnn import (
    GRUCell,
    LSTMCell,
    RNNCell,
    clip_grad_norm,
    make_cell,
    spectral_radius,
    unroll,
)

TORCH_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
SHAPES = [(1, 1, 1, 1), (5, 3, 4, 6), (12, 2, 7, 3)]  # time, batch, input, hidden


def copied_cells(layer: nn.RNNBase, kind: str) -> list:
    """Our cells holding ``layer``'s weights, one per direction."""
    suffixes = ["_l0", "_l0_reverse"][: 2 if layer.bidirectional else 1]
    cells = []
    for suffix in suffixes:
        cell = make_cell(kind, layer.input_size, layer.hidden_size).double()
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(layer, name + suffix))
        cells.append(cell)
    return cells


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_cells_equal_torch_layers(kind, shape, bidirectional, batch_first):
    time, batch, inputs, hidden = shape
    torch.manual_seed(SHAPES.index(shape) * 10 + 2 * bidirectional + batch_first)
    layer = TORCH_LAYERS[kind](inputs, hidden, bidirectional=bidirectional,
                               batch_first=batch_first).double()
    cells = copied_cells(layer, kind)
    x = torch.randn((batch, time, inputs) if batch_first else (time, batch, inputs),
                    dtype=torch.float64, requires_grad=True)
    directions = 2 if bidirectional else 1
    h0 = torch.randn(directions, batch, hidden, dtype=torch.float64)
    c0 = torch.randn(directions, batch, hidden, dtype=torch.float64)

    if kind == "lstm":
        expected, (h_n, c_n) = layer(x, (h0, c0))
        ours, finals = unroll(cells, x, [(h0[d], c0[d]) for d in range(directions)],
                              batch_first=batch_first)
        assert torch.allclose(torch.stack([c for _, c in finals]), c_n, atol=1e-6)
        h_ours = torch.stack([h for h, _ in finals])
    else:
        expected, h_n = layer(x, h0)
        ours, finals = unroll(cells, x, [h0[d] for d in range(directions)],
                              batch_first=batch_first)
        h_ours = torch.stack(finals)
    assert ours.shape == expected.shape == (
        (batch, time, directions * hidden) if batch_first else (time, batch, directions * hidden))
    assert torch.allclose(ours, expected, atol=1e-6, rtol=0)
    assert torch.allclose(h_ours, h_n, atol=1e-6, rtol=0)

    # Backpropagation through time gives the same gradients too.
    (grad_expected,) = torch.autograd.grad(expected.sum(), x)
    (grad_ours,) = torch.autograd.grad(ours.sum(), x)
    assert torch.allclose(grad_ours, grad_expected, atol=1e-6, rtol=0)


def test_a_broken_cell_is_caught():
    # The comparison can fail: swapping two LSTM gate blocks changes the output.
    torch.manual_seed(0)
    layer = nn.LSTM(3, 4).double()
    cell = copied_cells(layer, "lstm")[0]
    with torch.no_grad():
        input_gate, forget_gate = cell.weight_ih[:4].clone(), cell.weight_ih[4:8].clone()
        cell.weight_ih[:4], cell.weight_ih[4:8] = forget_gate, input_gate
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    assert not torch.allclose(unroll([cell], x)[0], layer(x)[0], atol=1e-3)


def test_weight_shapes_stack_the_gates():
    assert RNNCell(5, 8).weight_ih.shape == (8, 5)
    assert LSTMCell(5, 8).weight_ih.shape == (32, 5)  # i, f, g, o: four times as wide
    assert GRUCell(5, 8).weight_hh.shape == (24, 8)   # r, z, n


def test_lstm_forget_bias_starts_at_one():
    cell = LSTMCell(3, 4)
    forget = (cell.bias_ih + cell.bias_hh)[4:8]
    assert forget.tolist() == pytest.approx([1.0] * 4)
    assert torch.sigmoid(forget[0]).item() == pytest.approx(0.731, abs=1e-3)


@pytest.mark.parametrize("max_norm", [0.01, 1.0, 1e6])
def test_clipping_equals_clip_grad_norm_(max_norm):
    torch.manual_seed(1)
    model_a = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    model_b = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    model_b.load_state_dict(model_a.state_dict())
    x = torch.randn(7, 4)
    for model in (model_a, model_b):
        (model(x) ** 2).sum().mul(50).backward()
    ours = clip_grad_norm(model_a, max_norm)
    theirs = float(torch.nn.utils.clip_grad_norm_(model_b.parameters(), max_norm))
    assert ours == pytest.approx(theirs, rel=1e-6)
    for a, b in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, atol=1e-7, rtol=1e-6)
    clipped = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model_a.parameters()]))
    assert float(clipped) == pytest.approx(min(max_norm, theirs), rel=1e-5)


def test_clipping_keeps_the_direction():
    p = nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([30.0, 40.0])
    assert clip_grad_norm([p], 5.0) == pytest.approx(50.0)
    assert p.grad.tolist() == pytest.approx([3.0, 4.0], rel=1e-5)


def test_spectral_radius_of_a_rotation_and_a_scaling():
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    assert spectral_radius(rotation) == pytest.approx(1.0)
    assert spectral_radius(torch.diag(torch.tensor([0.5, -1.5]))) == pytest.approx(1.5)
