"""RLHF on a table of sentence probabilities: a reward model, then PPO under a KL leash.

1. Fit a reward model ``r_hat`` to the labelled pairs by Bradley–Terry
   (:func:`app.ml.preferences.fit_reward_model`).
2. Maximise the KL-regularised objective ``E_pi[r_hat(y)] - beta * KL(pi || pi_ref)`` by
   policy gradient: sample sentences from the current policy, score each with
   ``r_hat(y) - beta * log(pi(y) / pi_ref(y))`` (the KL as a per-sentence penalty, as
   InstructGPT does), subtract the batch mean as a baseline, and take a few gradient
   steps on PPO's clipped surrogate (the same objective as :func:`app.ml.ppo.policy_loss`,
   written for one categorical choice instead of CartPole's push left/right).

The policy is a softmax over one logit per sentence, started at ``pi_ref``; its exact
objective is computable because the language is finite (:func:`kl_regularised_objective`).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from app.ml.dpo import PolicyStep


def kl_regularised_objective(pi: Tensor, pi_ref: Tensor, reward: Tensor, beta: float) -> float:
    """E_pi[r] - beta * KL(pi || pi_ref), exactly, for ``[n]`` distributions and rewards."""
    mask = pi > 0
    kl = (pi[mask] * (pi[mask].log() - pi_ref[mask].log())).sum()
    return float((pi * reward).sum() - beta * kl)


def clipped_surrogate(log_pi: Tensor, log_pi_old: Tensor, advantages: Tensor,
                      clip: float) -> Tensor:
    """PPO's loss to minimise: -mean min(rho A, clip(rho, 1 - clip, 1 + clip) A).

    ``log_pi`` (with gradients) and ``log_pi_old`` (frozen) are ``[B]`` log-probabilities
    of the sampled sentences; ``rho`` is their ratio. Once a sentence has become ``clip``
    more (or less) likely in the direction its advantage asks for, it stops pulling.
    """
    ratio = torch.exp(log_pi - log_pi_old)
    return -torch.min(ratio * advantages,
                      ratio.clamp(1 - clip, 1 + clip) * advantages).mean()


def train_rlhf(reward_model: Tensor, pi_ref: Tensor, beta: float, steps: int, lr: float,
               generator: torch.Generator, batch: int = 256, epochs: int = 4,
               clip: float = 0.2) -> Iterator[PolicyStep]:
    """PPO on the KL-regularised objective under ``reward_model`` (``[15]``).

    Each of ``steps`` iterations samples ``batch`` sentences from the current policy and
    takes ``epochs`` Adam steps on :func:`clipped_surrogate`; the learning rate decays
    linearly to zero. Yields after each iteration; its ``loss`` is the exact negative
    objective ``-(E_pi[r_hat] - beta * KL(pi || pi_ref))``, which falls to ``-beta log Z``.
    """
    log_ref = torch.log(pi_ref)
    theta = log_ref.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for step in range(1, steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr * (1 - (step - 1) / steps)
        with torch.no_grad():
            log_old = torch.log_softmax(theta, dim=-1)
            sample = torch.multinomial(log_old.exp(), batch, replacement=True,
                                       generator=generator)
            score = reward_model[sample] - beta * (log_old[sample] - log_ref[sample])
            advantages = score - score.mean()
        for _ in range(epochs):
            log_pi = torch.log_softmax(theta, dim=-1)[sample]
            loss = clipped_surrogate(log_pi, log_old[sample], advantages, clip)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        log_pi_all = torch.log_softmax(theta.detach(), dim=-1)
        objective = kl_regularised_objective(log_pi_all.exp(), pi_ref, reward_model, beta)
        yield PolicyStep(step, -objective, log_pi_all)
