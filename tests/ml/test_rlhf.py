"""RLHF (app/ml/rlhf.py): PPO's clipped surrogate and where the policy gradient ends.

About 1 s of CPU.
"""

from __future__ import annotations

import pytest
import torch

from app.ml.preferences import (
    fit_reward_model,
    optimal_policy,
    reference_policy,
    rule_reward,
    sample_pairs,
    total_variation,
)
from app.ml.rlhf import clipped_surrogate, kl_regularised_objective, train_rlhf

PI_REF = reference_policy()


@pytest.mark.parametrize(("advantage", "moved", "pulls"), [
    (2.0, 0.1, True),    # inside the clip range: the gradient is the advantage
    (2.0, 0.3, False),   # already 35 % more likely, the advantage wants more: flat
    (2.0, -0.3, True),   # made less likely by mistake: still corrected
    (-2.0, -0.3, False),  # a bad sentence already 26 % less likely: flat
    (-2.0, 0.3, True),
])
def test_the_clipped_surrogate_is_flat_exactly_where_ppo_says(advantage, moved, pulls):
    log_pi = torch.tensor([moved], dtype=torch.float64, requires_grad=True)
    loss = clipped_surrogate(log_pi, torch.zeros(1, dtype=torch.float64),
                             torch.tensor([advantage], dtype=torch.float64), 0.2)
    loss.backward()
    ratio = float(torch.exp(torch.tensor(moved)))
    if pulls:
        assert float(log_pi.grad) == pytest.approx(-advantage * ratio)
    else:
        assert float(log_pi.grad) == 0


def test_the_exact_objective_at_the_reference_is_its_mean_reward():
    reward = rule_reward("shorter")
    assert kl_regularised_objective(PI_REF, PI_REF, reward, 0.7) == pytest.approx(
        float((PI_REF * reward).sum()))


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_ppo_reaches_the_optimum_of_its_reward_model(beta):
    # Seed 0, 5000 pairs about cats, 300 PPO iterations of 256 samples: the policy ends
    # within 0.01 (TV) of pi_ref exp(r_hat / beta) / Z (measured 4e-5 and 5e-9), and its loss
    # (minus the exact objective) within 1e-3 of the lowest, -beta log Z.
    reward = rule_reward("about cats")
    generator = torch.Generator().manual_seed(0)
    pairs = sample_pairs(PI_REF, reward, 5000, 0.0, generator)
    r_hat = list(fit_reward_model(pairs, PI_REF))[-1].reward
    steps = list(train_rlhf(r_hat, PI_REF, beta, 300, 0.05, generator))
    target = optimal_policy(PI_REF, r_hat, beta)
    assert total_variation(steps[-1].log_pi.exp(), target) < 0.01
    lowest = -kl_regularised_objective(target, PI_REF, r_hat, beta)
    assert steps[-1].loss == pytest.approx(lowest, abs=1e-3)
    assert steps[0].loss > steps[-1].loss
