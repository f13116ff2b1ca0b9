"""Recurrent cells written out by hand: the vanilla RNN, the LSTM and the GRU.

A recurrent layer applies ONE cell, with one set of weights, at every time step:
``h_t = cell(x_t, h_{t-1})``. Each cell here stores its weights exactly as PyTorch does
(``weight_ih``: input → gates, ``weight_hh``: hidden → gates, and one bias for each), so
the tests copy ``torch.nn.RNN``/``LSTM``/``GRU`` weights into them and compare outputs.
The gates are stacked in PyTorch's order: LSTM ``[input, forget, candidate, output]``,
GRU ``[reset, update, new]``; this is why an LSTM's input projection is 4 × hidden wide.

:func:`unroll` runs a cell over a whole sequence (the "unrolled" graph that backpropagation
through time differentiates), one direction or both.

Shapes: ``x`` is (batch, input) for one step and (time, batch, input) for a sequence
(``batch_first=True``: (batch, time, input)); a hidden state is (batch, hidden).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

CellKind = Literal["rnn", "lstm", "gru"]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of weights stacked in weight_ih/weight_hh

# A state is h (rnn, gru) or the pair (h, c) (lstm).
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentCell(nn.Module):
    """Weights of one cell: ``weight_ih`` (gates·hidden, input), ``weight_hh``
    (gates·hidden, hidden), ``bias_ih`` and ``bias_hh`` (gates·hidden,).

    Initialised as PyTorch does, uniform in ±1/√hidden; the LSTM's forget-gate bias is
    then set to ``forget_bias`` (split over its two biases, see :class:`LSTMCell`).
    """

    kind: CellKind = "rnn"

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        rows = GATES[self.kind] * hidden_size
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        bound = 1 / math.sqrt(hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def projections(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``W_ih x + b_ih`` and ``W_hh h + b_hh``, each (batch, gates·hidden)."""
        return (x @ self.weight_ih.T + self.bias_ih, h @ self.weight_hh.T + self.bias_hh)

    def zero_state(self, batch: int, like: torch.Tensor) -> State:
        return like.new_zeros(batch, self.hidden_size)


class RNNCell(RecurrentCell):
    """The vanilla (Elman) cell: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``."""

    kind: CellKind = "rnn"

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        from_input, from_hidden = self.projections(x, h)
        return torch.tanh(from_input + from_hidden)


class LSTMCell(RecurrentCell):
    """Long short-term memory. With ``z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` cut
    into four blocks ``i, f, g, o`` (each (batch, hidden)):

    ``c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)`` — the cell state is updated by addition;
    ``h_t = σ(o) ⊙ tanh(c_t)``.

    ``forget_bias`` (default 1) is the forget gate's total bias at initialisation (half
    in ``bias_ih``, half in ``bias_hh``): σ(1) ≈ 0.73, so the cell starts by keeping most
    of its memory instead of halving it every step. ``None`` keeps PyTorch's random init.
    """

    kind: CellKind = "lstm"

    def __init__(self, input_size: int, hidden_size: int,
                 forget_bias: float | None = 1.0) -> None:
        super().__init__(input_size, hidden_size)
        if forget_bias is not None:
            forget = slice(hidden_size, 2 * hidden_size)
            with torch.no_grad():
                self.bias_ih[forget] = forget_bias / 2
                self.bias_hh[forget] = forget_bias / 2

    def zero_state(self, batch: int, like: torch.Tensor) -> State:
        zeros = like.new_zeros(batch, self.hidden_size)
        return zeros, zeros

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        from_input, from_hidden = self.projections(x, h)
        i, f, g, o = (from_input + from_hidden).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class GRUCell(RecurrentCell):
    """Gated recurrent unit: two gates and no separate cell state. Blocks ``r, z, n``:

    ``r = σ(x W_ir + b_ir + h W_hr + b_hr)``, ``z = σ(… same for z …)``,
    ``n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))``, ``h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}``.

    The reset gate multiplies the hidden projection *after* its bias, as PyTorch does.
    """

    kind: CellKind = "gru"

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        from_input, from_hidden = self.projections(x, h)
        r_x, z_x, n_x = from_input.chunk(3, dim=-1)
        r_h, z_h, n_h = from_hidden.chunk(3, dim=-1)
        r = torch.sigmoid(r_x + r_h)
        z = torch.sigmoid(z_x + z_h)
        n = torch.tanh(n_x + r * n_h)
        return (1 - z) * n + z * h


CELLS: dict[str, type[RecurrentCell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def make_cell(kind: CellKind, input_size: int, hidden_size: int,
              forget_bias: float | None = 1.0) -> RecurrentCell:
    """A cell of ``kind`` ("rnn", "lstm", "gru"); ``forget_bias`` is the LSTM's (see
    :class:`LSTMCell`, ``None``: PyTorch's random init). Raises ``KeyError`` for another kind.
    """
    if kind == "lstm":
        return LSTMCell(input_size, hidden_size, forget_bias)
    return CELLS[kind](input_size, hidden_size)


def hidden_of(state: State) -> torch.Tensor:
    """The hidden state h of a state (an LSTM's state is the pair (h, c))."""
    return state[0] if isinstance(state, tuple) else state


def run_cell(cell: RecurrentCell, x: torch.Tensor, state: State | None = None,
             reverse: bool = False) -> tuple[torch.Tensor, State]:
    """One direction: the cell applied at every step of ``x`` (time, batch, input).

    Returns the hidden states (time, batch, hidden), in the input's time order, and the
    final state (after the last step read, i.e. after step 0 when ``reverse``).
    """
    if state is None:
        state = cell.zero_state(x.shape[1], x)
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outputs: list[torch.Tensor] = [x.new_empty(0)] * x.shape[0]
    for t in steps:
        state = cell(x[t], state)  # the SAME weights at every step
        outputs[t] = hidden_of(state)
    return torch.stack(outputs), state


def unroll(cells: list[RecurrentCell], x: torch.Tensor, state: list[State] | None = None,
           batch_first: bool = False) -> tuple[torch.Tensor, list[State]]:
    """A one-layer recurrent network over a sequence, like ``torch.nn.RNN/LSTM/GRU``.

    ``cells`` is ``[forward]`` or ``[forward, backward]`` (bidirectional: the second cell
    reads the sequence from its end, and each step's output is the two hidden states
    concatenated, (…, 2·hidden)). Returns the outputs, (time, batch, directions·hidden)
    (``batch_first``: (batch, time, …)), and the final state of each direction.
    """
    if batch_first:
        x = x.transpose(0, 1)
    if state is None:
        state = [None] * len(cells)  # type: ignore[list-item]
    results = [run_cell(cell, x, s, reverse=d == 1)
               for d, (cell, s) in enumerate(zip(cells, state, strict=True))]
    outputs = torch.cat([out for out, _ in results], dim=-1)
    if batch_first:
        outputs = outputs.transpose(0, 1)
    return outputs, [final for _, final in results]


def spectral_radius(matrix: torch.Tensor) -> float:
    """The largest |eigenvalue| of a square matrix: the rate at which repeated
    multiplication by it grows or shrinks a vector, in the long run."""
    return float(torch.linalg.eigvals(matrix.detach().double()).abs().max())


def clip_grad_norm(parameters: list[nn.Parameter] | nn.Module, max_norm: float) -> float:
    """Scale every gradient by the same factor so their joint L2 norm is at most
    ``max_norm``; returns the norm before clipping (as ``torch.nn.utils.clip_grad_norm_``).

    Clipping by the global norm keeps the gradient's direction and only shortens it;
    clipping each entry to ±max (by value) would change the direction. A non-finite norm
    (an overflowed gradient) cannot be rescaled into anything meaningful: the gradients are
    left as they are and the inf/NaN norm is returned for the caller to act on.
    """
    if isinstance(parameters, nn.Module):
        parameters = list(parameters.parameters())
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # the same epsilon as torch's
    if torch.isfinite(total):
        for g in grads:
            g.mul_(scale)
    return float(total)
