"""DPO (app/ml/dpo.py) against the paper's formula, autograd, and the analytic optimum.

Rafailov et al. (2023), eq. 7: L = -E log sigmoid(beta log pi(y_w)/pi_ref(y_w)
- beta log pi(y_l)/pi_ref(y_l)). About 1 s of CPU.
"""

from __future__ import annotations

import math

import pytest
import torch

from app.ml.dpo import dpo_loss, dpo_loss_gradient, train_dpo
from app.ml.preferences import (
    Pairs,
    fit_reward_model,
    implicit_reward,
    optimal_policy,
    reference_policy,
    rule_reward,
    sample_pairs,
    total_variation,
)

PI_REF = reference_policy()


def log_probs(seed: int, n: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.log(torch.rand(n, generator=generator, dtype=torch.float64) * 0.9 + 0.05)
            for _ in range(4)]


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_the_loss_is_the_papers_formula(beta):
    chosen, rejected, ref_chosen, ref_rejected = log_probs(0, 7)
    direct = []
    for w, lose, ref_w, ref_lose in zip(chosen.tolist(), rejected.tolist(), ref_chosen.tolist(),
                                        ref_rejected.tolist(), strict=True):
        # pi and pi_ref as probabilities, the formula as printed: -log sigma(beta log(...) - ...)
        z = (beta * math.log(math.exp(w) / math.exp(ref_w))
             - beta * math.log(math.exp(lose) / math.exp(ref_lose)))
        direct.append(-math.log(1 / (1 + math.exp(-z))))
    assert float(dpo_loss(chosen, rejected, ref_chosen, ref_rejected, beta)) == pytest.approx(
        sum(direct) / len(direct), rel=1e-12)


def test_at_the_reference_the_loss_is_log_2():
    chosen, rejected, _, _ = log_probs(1, 5)
    assert float(dpo_loss(chosen, rejected, chosen, rejected, 0.7)) == pytest.approx(math.log(2))


@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_the_gradient_by_hand_is_autograds(beta):
    chosen, rejected, ref_chosen, ref_rejected = log_probs(2, 9)
    chosen.requires_grad_(True)
    rejected.requires_grad_(True)
    dpo_loss(chosen, rejected, ref_chosen, ref_rejected, beta).backward()
    by_hand = dpo_loss_gradient(chosen.detach(), rejected.detach(), ref_chosen, ref_rejected,
                                beta)
    torch.testing.assert_close(by_hand[0], chosen.grad, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(by_hand[1], rejected.grad, rtol=1e-12, atol=1e-15)
    # and autograd's through the tabular policy's logits (the chain rule through softmax)
    logits = torch.randn(15, dtype=torch.float64, generator=torch.Generator().manual_seed(3),
                         requires_grad=True)
    pairs = Pairs(torch.tensor([0, 3, 14, 3]), torch.tensor([1, 2, 3, 14]), torch.zeros(4))
    log_pi = torch.log_softmax(logits, -1)
    log_ref = PI_REF.log()
    dpo_loss(log_pi[pairs.chosen], log_pi[pairs.rejected], log_ref[pairs.chosen],
             log_ref[pairs.rejected], beta).backward()
    g_w, g_l = dpo_loss_gradient(log_pi[pairs.chosen].detach(), log_pi[pairs.rejected].detach(),
                                 log_ref[pairs.chosen], log_ref[pairs.rejected], beta)
    jacobian = torch.eye(15, dtype=torch.float64) - log_pi.detach().exp()  # d log pi_i / d theta
    expected = (g_w[:, None] * jacobian[pairs.chosen]).sum(0) + (
        g_l[:, None] * jacobian[pairs.rejected]).sum(0)
    torch.testing.assert_close(logits.grad, expected, rtol=1e-10, atol=1e-14)


def test_pairs_ranked_wrong_weigh_more():
    # The paper's gradient weight sigma(h_l - h_w): a pair whose chosen sentence the
    # implicit reward already prefers by a lot barely pulls.
    zero = torch.zeros(2, dtype=torch.float64)
    chosen = torch.tensor([3.0, -3.0], dtype=torch.float64)
    g_w, _ = dpo_loss_gradient(chosen, zero, zero, zero, 1.0)
    assert abs(float(g_w[1])) > 10 * abs(float(g_w[0]))


def test_dpo_ends_where_the_reward_model_would_send_it():
    # The implicit reward can represent any reward, so DPO's minimiser on the pairs is the
    # Bradley–Terry fit's optimum pi_ref exp(r_hat / beta) / Z (seed 0, 5000 pairs).
    reward = rule_reward("about cats")
    pairs = sample_pairs(PI_REF, reward, 5000, 0.0, torch.Generator().manual_seed(0))
    r_hat = list(fit_reward_model(pairs, PI_REF))[-1].reward
    last = list(train_dpo(pairs, PI_REF, 1.0, 300, 0.05))[-1]
    assert total_variation(last.log_pi.exp(), optimal_policy(PI_REF, r_hat, 1.0)) < 0.005
    implicit = implicit_reward(last.log_pi, PI_REF, 1.0)
    shift = float((PI_REF * implicit).sum())
    assert float((implicit - shift - r_hat).abs().max()) < 0.05
