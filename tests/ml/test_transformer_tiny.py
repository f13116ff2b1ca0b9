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
    train_to_goal,
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


def test_train_to_goal_evaluates_every_ten_steps_and_hands_over_every_step():
    config = TrainConfig(steps=25, seed=1)
    evaluations = list(train_to_goal(model(), config, early_stop=False))
    assert [e.step for e in evaluations] == [10, 20, 25]  # and the last step
    assert [s.step for e in evaluations for s in e.trained] == list(range(1, 26))
    assert [e.last for e in evaluations] == [False, False, True]
    # The same numbers as the plain loop and token_accuracy on the held-out set.
    net, inputs = model(), held_out_set(config)
    losses = [s.loss for s in training_steps(net, config)]
    assert [s.loss for e in evaluations for s in e.trained] == losses
    assert evaluations[-1].accuracy == token_accuracy(net, *inputs)


def test_train_to_goal_stops_after_the_goal_holds_three_evaluations():
    # A goal of 0 is met at once: reached at the first evaluation, done at the third.
    evaluations = list(train_to_goal(model(), TrainConfig(steps=100), goal=0.0))
    assert [e.step for e in evaluations] == [10, 20, 30]
    assert [e.reached for e in evaluations] == [10, 10, 10]
    assert [e.done for e in evaluations] == [False, False, True] and evaluations[-1].last
    never = list(train_to_goal(model(), TrainConfig(steps=20), goal=1.01))
    assert [e.reached for e in never] == [None, None] and not any(e.done for e in never)


def test_train_to_goal_evaluates_the_step_at_which_its_caller_stops_it():
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) >= 14

    evaluations = list(train_to_goal(model(), TrainConfig(steps=100), stop=stop))
    assert [e.step for e in evaluations] == [10, 14] and evaluations[-1].last
    assert [s.step for s in evaluations[-1].trained] == [11, 12, 13, 14]
