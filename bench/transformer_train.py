"""Seconds to reach 95% held-out token accuracy on "reverse": our readable transformer
against the same model built from torch.nn.TransformerEncoder, trained the same way.

Both use the demo's default settings, the same embedding, positions and read-out, the
same Adam loop, batches and held-out set; only the encoder blocks differ. Prints each
time, the steps needed and the ratio (ours / torch).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from app.demos.base import seeded
from app.demos.transformer_train import GOAL, Params
from app.ml.positional import PositionalEncoding
from app.ml.tiny_transformer import TinyTransformer, TrainConfig, held_out_set, training_steps


class TorchEncoderModel(nn.Module):
    """Embedding + positions → torch.nn.TransformerEncoder (post-norm, ReLU) → read-out."""

    def __init__(self, vocab: int, length: int, d_model: int, heads: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.positions = PositionalEncoding("sinusoidal", length, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.readout = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.readout(self.encoder(self.positions(self.embed(tokens))))


def time_to_goal(model: nn.Module, config: TrainConfig) -> tuple[float, int, float]:
    """(seconds, steps, accuracy) until held-out accuracy first reaches the goal."""
    inputs, targets = held_out_set(config)
    start = time.perf_counter()
    accuracy, step = 0.0, 0
    for result in training_steps(model, config):
        step = result.step
        if step % 10 == 0:
            with torch.no_grad():
                accuracy = float((model(inputs).argmax(-1) == targets).float().mean())
            if accuracy >= GOAL:
                break
    return time.perf_counter() - start, step, accuracy


def main() -> None:
    torch.set_num_threads(1)
    p = Params()
    print(f"reverse, length {p.length}, vocab {p.vocab}, d_model {p.d_model}, {p.heads} heads, "
          f"{p.layers} layer(s), lr {p.lr}, batch {p.batch}; 1 thread; goal {GOAL:.0%}")
    print(f"{'seed':>4} {'ours s':>8} {'steps':>6} {'torch s':>8} {'steps':>6} {'time ratio':>10}")
    # Warm up both code paths once (allocator, kernels) so seed 0 is not penalised.
    warm = TrainConfig(steps=20)
    for model in (TinyTransformer(p.vocab, p.length, p.d_model, p.heads, p.layers),
                  TorchEncoderModel(p.vocab, p.length, p.d_model, p.heads, p.layers)):
        time_to_goal(model, warm)
    ratios = []
    for seed in range(3):
        config = TrainConfig(task="reverse", length=p.length, vocab=p.vocab, batch=p.batch,
                             lr=p.lr, steps=p.steps, seed=seed)
        with seeded(seed):
            ours = TinyTransformer(p.vocab, p.length, p.d_model, p.heads, p.layers)
        with seeded(seed):
            theirs = TorchEncoderModel(p.vocab, p.length, p.d_model, p.heads, p.layers)
        ours_s, ours_steps, _ = time_to_goal(ours, config)
        theirs_s, theirs_steps, _ = time_to_goal(theirs, config)
        ratios.append(ours_s / theirs_s)
        print(f"{seed:>4} {ours_s:>8.2f} {ours_steps:>6} {theirs_s:>8.2f} {theirs_steps:>6} "
              f"{ratios[-1]:>10.2f}")
    # Same seed, same init order: both models usually start from identical weights and take
    # the same number of steps; the time ratio is then the cost of one step.
    print(f"median time ratio (ours / torch.nn.TransformerEncoder): {sorted(ratios)[1]:.2f}")


if __name__ == "__main__":
    main()
