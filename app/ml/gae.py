"""Generalised advantage estimation (Schulman et al., 2016), batched over environments.

The TD error of step t says how much better things went than the critic expected:

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)

and the advantage is a discounted sum of future TD errors, cut where an episode ends:

    A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}

lambda = 0 gives the one-step TD error (low variance, biased by the critic);
lambda = 1 gives the Monte Carlo return minus V(s_t) (unbiased, noisy).
"""

from __future__ import annotations

import torch
from torch import Tensor


def gae(
    rewards: Tensor,
    values: Tensor,
    next_values: Tensor,
    terminated: Tensor,
    done: Tensor,
    gamma: float,
    lam: float,
) -> Tensor:
    """Advantages ``[T, N]`` for a rollout of ``T`` steps in ``N`` environments.

    ``values[t]`` is V(s_t); ``next_values[t]`` is V of the state step t reached, taken
    *before* any automatic reset. ``terminated`` (the pole fell) means there is no future:
    no bootstrap. ``done`` (terminated or truncated at the time limit) means the next row
    belongs to a new episode: the sum stops there, but a truncated step still bootstraps
    from V of the state it reached, because the game could have gone on.
    """
    not_terminated = 1.0 - terminated.to(values.dtype)
    not_done = 1.0 - done.to(values.dtype)
    deltas = rewards + gamma * next_values * not_terminated - values
    decay = (gamma * lam) * not_done
    running = torch.zeros_like(values[0])
    advantages = []
    # One backwards pass over time; each line handles every environment at once.
    for delta, keep in zip(deltas.flip(0), decay.flip(0), strict=True):
        running = torch.addcmul(delta, keep, running)  # delta_t + gamma lambda (1-done_t) A_t+1
        advantages.append(running)
    return torch.stack(advantages[::-1])


def gae_direct(rewards: list[float], values: list[float], gamma: float, lam: float) -> list[float]:
    """One finished episode, by the definition: A_t = sum_k (gamma*lambda)^k delta_{t+k}.

    ``values`` has one more entry than ``rewards``: the value of the state after the
    last reward (0 if the episode terminated there). Quadratic, for teaching and tests.
    """
    if len(values) != len(rewards) + 1:
        raise ValueError("values needs one more entry than rewards (the final state's value)")
    deltas = [r + gamma * values[t + 1] - values[t] for t, r in enumerate(rewards)]
    return [
        sum((gamma * lam) ** k * deltas[t + k] for k in range(len(deltas) - t))
        for t in range(len(deltas))
    ]
