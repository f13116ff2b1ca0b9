"""The preference side of the alignment lesson (app/ml/preferences.py): the rules, the
annotator's labels, the closed-form optimum and the Bradley–Terry reward model.

References: the optimum is checked against the objective it maximises (evaluated
directly, and by scipy's optimiser over the simplex); the labels against the
Bradley–Terry probabilities they are drawn from. About 2 s of CPU in all.
"""

from __future__ import annotations

import math

import pytest
import torch
from scipy.optimize import minimize

from app.ml.preferences import (
    RULE_NAMES,
    TEXTS,
    Pairs,
    bradley_terry_loss,
    centred,
    fit_reward_model,
    kl_divergence,
    minimum_kl_regularised_loss,
    optimal_policy,
    preference_accuracy,
    reference_policy,
    rule_reward,
    sample_pairs,
    total_variation,
)
from app.ml.rlhf import kl_regularised_objective

PI_REF = reference_policy()


def test_the_reference_is_the_little_language():
    assert len(TEXTS) == 15 and float(PI_REF.sum()) == pytest.approx(1)
    assert dict(zip(TEXTS, PI_REF.tolist(), strict=True))["my cat sat ."] == pytest.approx(0.28)


def test_rules_reward_what_they_say():
    text = dict(zip(TEXTS, range(15), strict=True))
    cats, dogs = rule_reward("about cats"), rule_reward("about dogs")
    no_the, short = rule_reward("without the"), rule_reward("shorter")
    assert cats[text["my cat sat ."]] == 2 and cats[text["the dog ran ."]] == 0
    assert dogs[text["the dog ran ."]] == 2 and dogs[text["my cat sat ."]] == 0
    assert no_the[text["a big cat slept ."]] == 2 and no_the[text["the cat sat ."]] == 0
    assert short[text["my cat sat ."]] == -3 and short[text["a big cat slept ."]] == -4
    assert set(RULE_NAMES) == {"about cats", "about dogs", "without the", "shorter"}


@pytest.mark.parametrize("rule", ["without the", "about dogs", "shorter"])
@pytest.mark.parametrize("beta", [0.3, 1.0, 3.0])
def test_the_closed_form_optimum_maximises_the_kl_regularised_objective(rule, beta):
    reward = rule_reward(rule)
    star = optimal_policy(PI_REF, reward, beta)
    best = kl_regularised_objective(star, PI_REF, reward, beta)
    # Its value is beta log Z, as the derivation says.
    assert best == pytest.approx(-minimum_kl_regularised_loss(PI_REF, reward, beta), abs=1e-12)
    assert best == pytest.approx(beta * math.log(float((PI_REF * torch.exp(reward / beta)).sum())))

    # A numerical optimiser over softmax logits, started at pi_ref, finds the same policy.
    def negative(logits):
        pi = torch.softmax(torch.tensor(logits, dtype=torch.float64), -1)
        return -kl_regularised_objective(pi, PI_REF, reward, beta)

    found = minimize(negative, PI_REF.log().numpy(), method="BFGS", options={"gtol": 1e-10})
    numeric = torch.softmax(torch.tensor(found.x), -1)
    assert total_variation(numeric, star) < 1e-4
    assert -found.fun == pytest.approx(best, abs=1e-8)
    # And every other policy we try scores lower.
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        other = torch.softmax(star.log() + 0.3 * torch.randn(15, generator=generator,
                                                             dtype=torch.float64), -1)
        assert kl_regularised_objective(other, PI_REF, reward, beta) < best


def test_small_beta_goes_for_the_reward_and_large_beta_stays_at_the_reference():
    reward = rule_reward("without the")
    assert total_variation(optimal_policy(PI_REF, reward, 100.0), PI_REF) < 0.01
    greedy = optimal_policy(PI_REF, reward, 0.05)
    assert float(greedy[reward == reward.max()].sum()) > 0.999
    # No overflow at the smallest beta: r / beta = 40.
    assert torch.isfinite(optimal_policy(PI_REF, reward, 0.05)).all()


def test_labels_follow_bradley_terry_and_noise_flips_the_stated_share():
    reward = rule_reward("without the")
    generator = torch.Generator().manual_seed(1)
    pairs = sample_pairs(PI_REF, reward, 40_000, 0.0, generator)
    # Mixed pairs (one sentence with "the", one without): the one without wins
    # sigmoid(2) = 88 % of the time; pairs of equal reward are coin flips.
    won = reward[pairs.chosen] > reward[pairs.rejected]
    lost = reward[pairs.chosen] < reward[pairs.rejected]
    mixed = won | lost
    assert float(won[mixed].double().mean()) == pytest.approx(1 / (1 + math.exp(-2)), abs=0.01)
    # Drawn from pi_ref: P(mixed) = 2 * 0.38 * 0.62.
    assert float(mixed.double().mean()) == pytest.approx(2 * 0.38 * 0.62, abs=0.01)
    noisy = sample_pairs(PI_REF, reward, 40_000, 0.3, torch.Generator().manual_seed(2))
    assert float(noisy.flipped.double().mean()) == pytest.approx(0.3, abs=0.01)
    noisy_won = (reward[noisy.chosen] > reward[noisy.rejected]).double().sum()
    noisy_mixed = (reward[noisy.chosen] != reward[noisy.rejected]).double().sum()
    p = 1 / (1 + math.exp(-2))
    assert float(noisy_won / noisy_mixed) == pytest.approx(0.7 * p + 0.3 * (1 - p), abs=0.01)
    with pytest.raises(ValueError, match="noise"):
        sample_pairs(PI_REF, reward, 10, 0.6, generator)


def test_preference_accuracy_counts_ties_half():
    pairs = Pairs(torch.tensor([0, 1, 2]), torch.tensor([1, 0, 3]), torch.zeros(3, dtype=bool))
    reward = torch.tensor([1.0, 0.0, 5.0, 5.0] + [0.0] * 11, dtype=torch.float64)
    assert preference_accuracy(reward, pairs) == pytest.approx((1 + 0 + 0.5) / 3)


@pytest.mark.parametrize("rule", ["without the", "about cats", "shorter"])
def test_bradley_terry_recovers_the_rules_reward_up_to_a_constant(rule):
    # 20 000 noiseless pairs, seed 0. Measured largest error after centring: 0.12-0.14
    # (the rarest sentences, p = 0.032, appear in about 1 250 pairs each).
    reward = rule_reward(rule)
    pairs = sample_pairs(PI_REF, reward, 20_000, 0.0, torch.Generator().manual_seed(0))
    fit = list(fit_reward_model(pairs, PI_REF, steps=300))[-1]
    error = (fit.reward - centred(reward, PI_REF)).abs().max()
    assert float(error) < 0.2
    # The fit is the maximum-likelihood one: the true reward explains the labels worse.
    assert fit.loss <= float(bradley_terry_loss(reward, pairs)) + 1e-9
    assert float((PI_REF * fit.reward).sum()) == pytest.approx(0, abs=1e-12)


def test_kl_and_total_variation_by_hand():
    p = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    q = torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64)
    assert kl_divergence(p, q) == pytest.approx(math.log(2))
    assert total_variation(p, q) == pytest.approx(0.5)
    assert kl_divergence(q, q) == 0 and total_variation(q, q) == 0
