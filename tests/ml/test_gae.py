"""GAE: the batched backward recursion against the definition (a direct sum)."""

from __future__ import annotations

import pytest
import torch

from app.ml.gae import gae, gae_direct


def test_direct_sum_on_a_hand_made_case():
    # rewards 1,1,1 ; values 0.5, 0.4, 0.3 and 0 after termination; gamma = lambda = 0.5
    # deltas: 1 + .5*.4 - .5 = .7 ; 1 + .5*.3 - .4 = .75 ; 1 + 0 - .3 = .7
    # A2 = .7 ; A1 = .75 + .25*.7 = .925 ; A0 = .7 + .25*.925 = .93125
    assert gae_direct([1, 1, 1], [0.5, 0.4, 0.3, 0.0], 0.5, 0.5) == pytest.approx(
        [0.93125, 0.925, 0.7])


@pytest.mark.parametrize("gamma,lam", [(0.99, 0.95), (0.9, 0.0), (0.8, 1.0), (1.0, 0.5)])
def test_recursion_equals_direct_sum_on_one_terminated_episode(gamma, lam):
    g = torch.Generator().manual_seed(0)
    rewards = torch.randn(12, generator=g, dtype=torch.float64)
    values = torch.randn(13, generator=g, dtype=torch.float64)
    values[-1] = 0.0  # terminal: no future value
    terminated = torch.zeros(12, dtype=torch.bool)
    terminated[-1] = True
    ours = gae(rewards[:, None], values[:-1, None], values[1:, None], terminated[:, None],
               terminated[:, None], gamma, lam)[:, 0]
    expected = gae_direct(rewards.tolist(), values.tolist(), gamma, lam)
    assert ours.tolist() == pytest.approx(expected, abs=1e-12)


def test_lambda_extremes_are_td_error_and_monte_carlo_advantage():
    rewards, values, gamma = [1.0, 0.0, 2.0], [0.3, -0.2, 0.5, 0.0], 0.9
    td = gae_direct(rewards, values, gamma, 0.0)
    assert td == pytest.approx([1 + 0.9 * -0.2 - 0.3, 0 + 0.9 * 0.5 + 0.2, 2 - 0.5])
    mc = gae_direct(rewards, values, gamma, 1.0)
    discounted = [1 + 0.9 * 0 + 0.81 * 2, 0 + 0.9 * 2, 2.0]
    assert mc == pytest.approx([g - v for g, v in zip(discounted, values, strict=False)])


def test_episode_boundaries_cut_the_sum_and_truncation_bootstraps():
    # One environment, two episodes in one rollout: steps 0-1 then 2-3.
    rewards = torch.ones(4, 1)
    values = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    next_values = torch.tensor([[2.0], [9.0], [4.0], [5.0]])  # 9: the state step 1 reached
    terminated = torch.tensor([[False], [False], [False], [True]])
    done = torch.tensor([[False], [True], [False], [True]])  # step 1 truncated, step 3 fell
    adv = gae(rewards, values, next_values, terminated, done, gamma=0.5, lam=1.0)[:, 0]
    first = gae_direct([1, 1], [1.0, 2.0, 9.0], 0.5, 1.0)  # truncated: bootstrap from V=9
    second = gae_direct([1, 1], [3.0, 4.0, 0.0], 0.5, 1.0)  # terminated: no bootstrap
    assert adv.tolist() == pytest.approx(first + second)


def test_direct_sum_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one more entry"):
        gae_direct([1.0, 2.0], [0.0, 0.0], 0.9, 0.9)
