"""Training recurrent cells on "remember the first token", watching gradients through time.

The task: a sequence opens with one of ``SYMBOLS`` symbols, then ``T`` distractor tokens
follow; after the last one the model must name the opening symbol. Nothing in the
distractors helps, so the only way to be right more often than chance (1/SYMBOLS) is to
carry the first token across all T steps, and the only way to *learn* that is a gradient
that reaches step 0 from the loss at step T.

Backpropagation through time (BPTT) is ordinary autograd on the unrolled graph. Besides
the parameters' gradients we ask autograd for ‖∂loss/∂h_t‖ at every step t: how much of
the error signal arrives at each point in time.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from app.ml.rnn import CellKind, RNNCell, clip_grad_norm, hidden_of, make_cell

SYMBOLS = 4  # what must be remembered: tokens 0..3; chance accuracy 1/4
DISTRACTORS = 6  # tokens 4..9 fill the sequence after the symbol
VOCAB = SYMBOLS + DISTRACTORS
EMBEDDING = 16
HELD_OUT = 512  # held-out sequences, drawn once from their own generator


# ---- the task -----------------------------------------------------------------------------


def first_token_batch(batch: int, distractors: int, generator: torch.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` sequences of 1 + ``distractors`` tokens, (batch, 1 + T) int64, and their
    targets, the first tokens, (batch,) int64."""
    symbol = torch.randint(0, SYMBOLS, (batch,), generator=generator)
    noise = torch.randint(SYMBOLS, VOCAB, (batch, distractors), generator=generator)
    return torch.cat([symbol[:, None], noise], dim=1), symbol


# ---- the model ----------------------------------------------------------------------------


class FirstTokenModel(nn.Module):
    """Embedding → one recurrent cell unrolled over the sequence → a linear read-out of
    the LAST hidden state into ``SYMBOLS`` logits."""

    def __init__(self, kind: CellKind, hidden: int, forget_bias: float = 1.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBEDDING)
        self.cell = make_cell(kind, EMBEDDING, hidden, forget_bias)
        self.readout = nn.Linear(hidden, SYMBOLS)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (batch, SYMBOLS) and the hidden state after every step, h_0 … h_T,
        each (batch, hidden): the tensors whose gradients show the flow through time."""
        x = self.embed(tokens)  # (batch, time, embedding)
        state = self.cell.zero_state(tokens.shape[0], x)
        hiddens = []
        for t in range(tokens.shape[1]):
            state = self.cell(x[:, t], state)  # one set of weights, every step
            hiddens.append(hidden_of(state))
        return self.readout(hiddens[-1]), hiddens


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return float((logits.argmax(-1) == targets).float().mean())


def loss_and_gradients(model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Cross-entropy, the logits, and ‖∂loss/∂h_t‖ for t = 0 … T (t = 0 first).

    Fills every parameter's ``.grad`` (BPTT); the per-step norms are over the whole batch.
    """
    logits, hiddens = model(tokens)
    loss = F.cross_entropy(logits, targets)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params + hiddens, allow_unused=True)
    for p, g in zip(params, grads, strict=False):
        p.grad = g
    norms = [float(torch.linalg.vector_norm(g)) for g in grads[len(params):]]
    return loss.detach(), logits.detach(), norms


def first_to_last(norms: list[float]) -> float:
    """‖∂loss/∂h_0‖ / ‖∂loss/∂h_T‖: the fraction of the error signal that reaches step 0."""
    return norms[0] / norms[-1] if norms[-1] > 0 else math.nan


# ---- remember-the-first-token training ------------------------------------------------------


@dataclass(frozen=True)
class MemoryConfig:
    cell: CellKind = "lstm"
    distractors: int = 50  # T
    hidden: int = 32
    lr: float = 0.005  # Adam
    clip: float = 1.0  # global-norm clipping; 0: off
    steps: int = 300
    batch: int = 128
    seed: int = 0
    eval_every: int = 10


@dataclass
class MemoryStep:
    step: int  # 1-based training step
    loss: float  # training batch, before this step's update
    accuracy: float  # training batch, before the update
    grad_norms: list[float]  # ‖∂loss/∂h_t‖, t = 0 … T, before the update
    grad_norm: float  # global norm of the parameters' gradient, before clipping
    held_out: float | None  # held-out accuracy after the update, every eval_every steps


def train_memory(model: FirstTokenModel, config: MemoryConfig,
                 stop: Callable[[], bool] = lambda: False) -> Iterator[MemoryStep]:
    """Train ``model`` (built with ``config.cell`` and ``config.hidden``) with Adam on
    fresh batches, yielding one record per step.

    Deterministic for a given model and config: the data come from generators seeded
    from ``config.seed`` (the held-out set from its own). Stops early when ``stop()``
    says so or the loss stops being finite.
    """
    data = torch.Generator().manual_seed(config.seed + 1)
    held_tokens, held_targets = first_token_batch(
        HELD_OUT, config.distractors, torch.Generator().manual_seed(10_000 + config.seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    for step in range(1, config.steps + 1):
        tokens, targets = first_token_batch(config.batch, config.distractors, data)
        loss, logits, norms = loss_and_gradients(model, tokens, targets)
        total = (clip_grad_norm(model, config.clip) if config.clip > 0
                 else global_norm(model))
        if math.isfinite(float(loss)):
            optimiser.step()
        held = None
        if step % config.eval_every == 0 or step == config.steps:
            with torch.no_grad():
                held = accuracy(model(held_tokens)[0], held_targets)
        yield MemoryStep(step, float(loss), accuracy(logits, targets), norms, total, held)
        if stop() or not math.isfinite(float(loss)):
            return


def global_norm(model: nn.Module) -> float:
    """The L2 norm of all the parameters' gradients together."""
    grads = [p.grad.flatten() for p in model.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.cat(grads))) if grads else 0.0


# ---- exploding gradients: a vanilla RNN at a chosen spectral radius ------------------------


def scale_recurrence(cell: RNNCell, radius: float, generator: torch.Generator) -> None:
    """Set ``cell.weight_hh`` to ``radius`` × a random orthogonal matrix: every eigenvalue
    (and every singular value) then has modulus ``radius``, so repeated multiplication
    scales any vector by exactly ``radius`` per step."""
    size = cell.hidden_size
    q, r = torch.linalg.qr(torch.randn(size, size, generator=generator, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))  # a uniformly random orthogonal matrix
    with torch.no_grad():
        cell.weight_hh.copy_(radius * q)


INPUT_SCALE = 0.1  # embeddings shrunk so the states start in tanh's linear range


def exploding_model(radius: float, hidden: int, generator: torch.Generator) -> FirstTokenModel:
    """A vanilla-RNN :class:`FirstTokenModel` whose recurrent matrix has spectral radius
    ``radius`` (:func:`scale_recurrence`), with zero biases and small embeddings: near
    h = 0 the step Jacobian diag(tanh′)·W_hh is then W_hh itself. Build it under a seed
    (its embedding and read-out use torch's global generator)."""
    model = FirstTokenModel("rnn", hidden)
    assert isinstance(model.cell, RNNCell)
    scale_recurrence(model.cell, radius, generator)
    with torch.no_grad():
        model.cell.bias_ih.zero_()
        model.cell.bias_hh.zero_()
        model.embed.weight.mul_(INPUT_SCALE)
    return model


@dataclass
class ClipStep:
    step: int
    loss: float  # without clipping (nan once it has diverged)
    loss_clipped: float
    grad_norm: float  # global gradient norm without clipping, before the update
    grad_norm_clipped: float  # the clipped run's, before clipping
    grad_norms: list[float]  # ‖∂loss/∂h_t‖ of the unclipped run, t = 0 … T ([] once diverged)


def train_with_and_without_clipping(model: FirstTokenModel, distractors: int, lr: float,
                                    clip: float, steps: int, seed: int,
                                    stop: Callable[[], bool] = lambda: False
                                    ) -> Iterator[ClipStep]:
    """Two copies of ``model`` trained side by side with plain SGD on the same batches,
    one with its gradient clipped to global norm ``clip``. Plain SGD, not Adam: Adam
    divides each gradient by its own running size, which would hide a gradient that is a
    thousand times too large. A copy whose loss stops being finite stops training (and
    reports nan from then on)."""
    plain, clipped = model, copy.deepcopy(model)
    data = torch.Generator().manual_seed(seed + 1)
    alive = True
    for step in range(1, steps + 1):
        tokens, targets = first_token_batch(64, distractors, data)
        record = ClipStep(step, math.nan, math.nan, math.nan, math.nan, [])
        if alive:
            loss, _, record.grad_norms = loss_and_gradients(plain, tokens, targets)
            record.loss, record.grad_norm = float(loss), global_norm(plain)
            alive = math.isfinite(record.loss) and math.isfinite(record.grad_norm)
            if alive:
                sgd_step(plain, lr)
        loss = loss_and_gradients(clipped, tokens, targets)[0]
        record.loss_clipped = float(loss)
        record.grad_norm_clipped = clip_grad_norm(clipped, clip)
        sgd_step(clipped, lr)
        yield record
        if stop():
            return


def growth_per_step(norms: list[float]) -> float:
    """The least-squares slope of log ‖∂loss/∂h_t‖ against k = T − t, the number of steps
    back from the end: log of the factor the gradient grows by per step (log ρ for a
    linear recurrence with spectral radius ρ). Zero and non-finite norms are left out."""
    points = [(k, math.log(n)) for k, n in enumerate(reversed(norms))
              if n > 0 and math.isfinite(n)]
    if len(points) < 2:
        return math.nan
    mean_k = sum(k for k, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((k - mean_k) ** 2 for k, _ in points)
    return sum((k - mean_k) * (y - mean_y) for k, y in points) / spread


def sgd_step(model: nn.Module, lr: float) -> None:
    """θ ← θ − lr · ∂loss/∂θ for every parameter that has a gradient."""
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.sub_(lr * p.grad)
