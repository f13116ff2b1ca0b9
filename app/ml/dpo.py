"""Direct Preference Optimisation (Rafailov et al., 2023) on a table of sentence probabilities.

DPO skips the reward model. The KL-regularised optimum satisfies
``r(y) = beta * log(pi*(y) / pi_ref(y)) + beta * log Z``, so a policy ``pi`` *is* a reward
model, its **implicit reward** ``beta * log(pi / pi_ref)``; putting it into the
Bradley–Terry likelihood (where ``log Z`` cancels) gives a loss on the policy itself:

    L(pi) = -mean log sigmoid(beta * [log pi(y_w)/pi_ref(y_w) - log pi(y_l)/pi_ref(y_l)])

over the labelled pairs (``y_w`` chosen, ``y_l`` rejected). Here the policy is a softmax
over one logit per sentence of the little language (:mod:`app.ml.preferences`),
started at ``pi_ref``, and every step uses every pair (the table is tiny).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from app.ml.preferences import Pairs


def dpo_loss(policy_chosen: Tensor, policy_rejected: Tensor, reference_chosen: Tensor,
             reference_rejected: Tensor, beta: float) -> Tensor:
    """The DPO loss, averaged over pairs: a scalar.

    Each argument is ``[n]`` log-probabilities (nats) of the chosen or rejected sentence
    under the policy or the frozen reference; ``beta > 0`` is the KL coefficient.
    """
    margin = (policy_chosen - reference_chosen) - (policy_rejected - reference_rejected)
    return -F.logsigmoid(beta * margin).mean()


def dpo_loss_gradient(policy_chosen: Tensor, policy_rejected: Tensor, reference_chosen: Tensor,
                      reference_rejected: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    """The loss's gradient with respect to ``policy_chosen`` and ``policy_rejected``, by hand.

    With implicit rewards ``h = beta * log(pi / pi_ref)``, one pair's gradient is
    ``-beta * sigmoid(h_l - h_w)`` on the chosen log-probability and the opposite on the
    rejected one: pairs the implicit reward already ranks right weigh little, pairs it
    ranks wrong weigh up to ``beta``. Both are ``[n]`` (divided by ``n``, as the mean is).
    """
    margin = (policy_chosen - reference_chosen) - (policy_rejected - reference_rejected)
    weight = beta * torch.sigmoid(-beta * margin) / len(margin)
    return -weight, weight


@dataclass
class PolicyStep:
    """One update of a tabular policy: its loss and its ``[15]`` log-probabilities after."""

    step: int
    loss: float
    log_pi: Tensor


def train_dpo(pairs: Pairs, pi_ref: Tensor, beta: float, steps: int,
              lr: float) -> Iterator[PolicyStep]:
    """Adam on :func:`dpo_loss` over all ``pairs`` at every step; yields after each update.

    The policy is ``softmax(theta)`` with ``theta`` starting at ``log pi_ref`` (the
    implicit reward starts at 0 for every sentence). The learning rate decays linearly to
    zero, so the last steps settle instead of jittering around the minimum.
    """
    log_ref = torch.log(pi_ref)
    theta = log_ref.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for step in range(1, steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr * (1 - (step - 1) / steps)
        log_pi = torch.log_softmax(theta, dim=-1)
        loss = dpo_loss(log_pi[pairs.chosen], log_pi[pairs.rejected], log_ref[pairs.chosen],
                        log_ref[pairs.rejected], beta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield PolicyStep(step, float(loss.detach()), torch.log_softmax(theta.detach(), dim=-1))
