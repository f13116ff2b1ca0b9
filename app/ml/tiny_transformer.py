"""A tiny encoder-only transformer that learns toy sequence tasks: reverse, copy, sort.

Each output position predicts the target token at that position, so one forward pass
answers the whole sequence (non-autoregressive). Every random draw — batches and
dropout masks — comes from an explicit ``torch.Generator``, so runs are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from app.ml.attention import MultiHeadSelfAttention
from app.ml.positional import Kind, PositionalEncoding

Task = Literal["reverse", "copy", "sort"]
GOAL = 0.95  # held-out token accuracy at which training has done its job


# ---- the toy tasks --------------------------------------------------------------------


def make_batch(
    task: Task, batch: int, length: int, vocab: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token sequences ``[batch, length]`` and the targets the task asks for."""
    inputs = torch.randint(0, vocab, (batch, length), generator=generator)
    if task == "reverse":
        targets = inputs.flip(1)
    elif task == "copy":
        targets = inputs.clone()
    else:
        targets = inputs.sort(dim=1).values
    return inputs, targets


# ---- the model ------------------------------------------------------------------------


def dropout(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout with masks from ``generator``; identity when p = 0 or no generator."""
    if p <= 0 or generator is None:
        return x
    return x * (torch.rand(x.shape, generator=generator) > p) / (1 - p)


class EncoderBlock(nn.Module):
    """Post-norm encoder block: x → LN(x + Attn(x)) → LN(· + FFN(·)), as in the 2017 paper.

    With ``causal=True`` each position attends only to itself and earlier positions: the
    block of a decoder-only language model, which predicts every next token at once.
    """

    def __init__(self, d_model: int, heads: int, d_ff: int, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.attention = MultiHeadSelfAttention(d_model, heads)
        self.norm1 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm2 = nn.LayerNorm(d_model)

    def forward(
        self, x: torch.Tensor, p: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the new ``[B, L, d]`` and this block's attention weights ``[B, H, L, L]``."""
        attended = self.attention(x, causal=self.causal)
        # The residual path lets gradients and the token's own identity skip the block.
        x = self.norm1(x + dropout(attended.output, p, generator))
        x = self.norm2(x + dropout(self.feed_forward(x), p, generator))
        return x, attended.weights


class TinyTransformer(nn.Module):
    """Embedding + positions → ``layers`` encoder blocks → a linear read-out per position."""

    def __init__(self, vocab: int, length: int, d_model: int, heads: int, layers: int,
                 positional: Kind = "sinusoidal", d_ff: int | None = None,
                 causal: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.positions = PositionalEncoding(positional, length, d_model)
        self.blocks = nn.ModuleList(
            EncoderBlock(d_model, heads, d_ff or 2 * d_model, causal) for _ in range(layers))
        self.readout = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor, p: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits ``[B, L, vocab]``: a guess for every output position at once."""
        return self.forward_with_attention(tokens, p, generator)[0]

    def forward_with_attention(
        self, tokens: torch.Tensor, p: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and each layer's attention weights ``[B, H, L, L]``."""
        x = self.positions(self.embed(tokens))
        maps = []
        for block in self.blocks:
            x, weights = block(x, p, generator)
            maps.append(weights)
        return self.readout(x), maps


# ---- training -------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything a run depends on; the same config and seed give the same run."""

    task: Task = "reverse"
    length: int = 8
    vocab: int = 10
    batch: int = 64
    lr: float = 3e-3
    steps: int = 1500
    dropout: float = 0.0
    eval_size: int = 512
    seed: int = 0


@dataclass
class TrainStep:
    step: int
    loss: float
    accuracy: float  # on this step's training batch, before the update


def token_accuracy(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of output positions whose most likely token is the target."""
    with torch.no_grad():
        return float((model(inputs).argmax(-1) == targets).float().mean())


def held_out_set(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed evaluation batch drawn from its own generator, never trained on as such."""
    generator = torch.Generator().manual_seed(config.seed + 1_000_003)
    return make_batch(config.task, config.eval_size, config.length, config.vocab, generator)


def training_steps(model: nn.Module, config: TrainConfig) -> Iterator[TrainStep]:
    """Adam on cross-entropy over every position; yields after each update.

    ``model(tokens)`` must return logits ``[B, L, vocab]``; the same loop trains our
    TinyTransformer and the torch.nn.TransformerEncoder reference in bench/.
    """
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    uses_dropout = isinstance(model, TinyTransformer) and config.dropout > 0
    for step in range(1, config.steps + 1):
        model.train()
        inputs, targets = make_batch(config.task, config.batch, config.length, config.vocab,
                                     generator)
        if uses_dropout:
            logits = model(inputs, config.dropout, generator)
        else:
            logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, config.vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracy = float((logits.argmax(-1) == targets).float().mean())
        model.eval()
        yield TrainStep(step, float(loss.detach()), accuracy)


@dataclass
class Evaluation:
    """One held-out evaluation of :func:`train_to_goal` and the training steps before it."""

    step: int
    trained: list[TrainStep]  # every step since the previous evaluation, this one included
    accuracy: float  # token accuracy on the held-out set after ``step`` updates
    reached: int | None  # the step where the current run of evaluations ≥ goal began
    done: bool  # the goal has held for ``sustain`` evaluations in a row: stop early
    last: bool  # nothing follows: done, stopped by the caller, or every step run


def train_to_goal(model: nn.Module, config: TrainConfig, *, goal: float = GOAL,
                  every: int = 10, sustain: int = 3, early_stop: bool = True,
                  stop: Callable[[], bool] = lambda: False) -> Iterator[Evaluation]:
    """:func:`training_steps`, evaluated on the :func:`held_out_set` every ``every`` steps.

    With ``early_stop`` training ends once the held-out :func:`token_accuracy` has stayed
    at or above ``goal`` for ``sustain`` evaluations in a row (one lucky evaluation is not
    enough). ``stop()`` is asked after every step: when it turns true, that step is
    evaluated and training ends, so whoever stops a run still sees where it got to.
    """
    inputs, targets = held_out_set(config)
    streak, reached = 0, None
    trained: list[TrainStep] = []
    for result in training_steps(model, config):
        trained.append(result)
        stopping = stop()
        if result.step % every and result.step != config.steps and not stopping:
            continue
        accuracy = token_accuracy(model, inputs, targets)
        streak = streak + 1 if accuracy >= goal else 0
        if streak == 1:
            reached = result.step
        elif streak == 0:
            reached = None
        done = early_stop and streak >= sustain
        yield Evaluation(result.step, trained, accuracy, reached, done,
                         last=done or stopping or result.step == config.steps)
        trained = []
        if done or stopping:
            return
