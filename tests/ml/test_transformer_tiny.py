"""The tiny transformer: tasks, shapes, positions, and learning reverse."""

from __future__ import annotations

import torch

from app.demos.base import seeded
from app.ml.positional import sinusoidal_encoding
from app.ml.tiny_transformer import (
    TinyTransformer,
    TrainConfig,
    held_out_set,
    make_batch,
    token_accuracy,
    training_steps,
)


def test_tasks_make_the_targets_they_promise():
    g = torch.Generator().manual_seed(0)
    x, y = make_batch("reverse", 5, 6, 10, g)
    assert (y == x.flip(1)).all()
    x, y = make_batch("copy", 5, 6, 10, g)
    assert (y == x).all()
    x, y = make_batch("sort", 5, 6, 10, g)
    assert (y[:, 1:] >= y[:, :-1]).all() and (y.sort(1).values == x.sort(1).values).all()
    assert int(x.max()) < 10


def test_sinusoidal_table_matches_the_formula():
    table = sinusoidal_encoding(5, 8)
    assert torch.isclose(table[3, 2], torch.sin(torch.tensor(3 / 10000 ** (2 / 8))))
    assert torch.isclose(table[3, 5], torch.cos(torch.tensor(3 / 10000 ** (4 / 8))))
    assert len({tuple(row.tolist()) for row in table}) == 5  # every position differs


def model(positional: str = "sinusoidal", layers: int = 1) -> TinyTransformer:
    with seeded(0):
        return TinyTransformer(10, 8, 32, 2, layers, positional)


def test_shapes_and_attention_rows():
    logits, maps = model(layers=2).forward_with_attention(torch.randint(0, 10, (3, 8)))
    assert logits.shape == (3, 8, 10) and len(maps) == 2
    assert maps[0].shape == (3, 2, 8, 8)
    torch.testing.assert_close(maps[1].sum(-1), torch.ones(3, 2, 8))


def test_same_seed_same_run():
    config = TrainConfig(steps=5, seed=3)
    losses = [[s.loss for s in training_steps(model(), config)] for _ in range(2)]
    assert losses[0] == losses[1]


def run_until(positional: str, steps: int) -> float:
    config = TrainConfig(lr=1e-2, batch=128, steps=steps, seed=0)
    net = model(positional)
    inputs, targets = held_out_set(config)
    for step in training_steps(net, config):
        if step.step % 25 == 0 and token_accuracy(net, inputs, targets) >= 0.95:
            break
    return token_accuracy(net, inputs, targets)


def test_reverse_is_learned_with_positions():
    assert run_until("sinusoidal", 600) >= 0.95


def test_reverse_fails_without_positions():
    # Position i cannot know which token to fetch. The best order-blind guess is the
    # most common token of the sequence, right about 30% of the time for 8 tokens of 10.
    accuracy = run_until("none", 150)
    assert accuracy < 0.45
