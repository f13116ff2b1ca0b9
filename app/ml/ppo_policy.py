"""PPO's two small networks and the closed forms of a two-action policy.

The actor maps a CartPole state to one number, the log-odds of pushing right; with two
actions the log-probability, the entropy and the KL divergence between two policies
have exact formulas, so nothing here needs sampling. Used by :mod:`app.ml.ppo`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(sizes: list[int], last_gain: float, activation: str) -> nn.Sequential:
    """MLP with orthogonal weights and zero biases (the init PPO implementations use)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out)
        last = i == len(sizes) - 2
        nn.init.orthogonal_(linear.weight, gain=last_gain if last else math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear] if last else [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Separate actor and critic, so the critic's large errors never bend the policy."""

    def __init__(self, hidden: int = 64, activation: str = "relu") -> None:
        super().__init__()
        # A tiny last-layer gain makes the first policy ~50/50 everywhere: pure exploration.
        self.actor = mlp([4, hidden, hidden, 1], last_gain=0.01, activation=activation)
        self.critic = mlp([4, hidden, hidden, 1], last_gain=1.0, activation=activation)

    def logit(self, obs: Tensor) -> Tensor:
        """Log-odds of pushing right; P(right) = sigmoid(logit)."""
        return self.actor(obs).squeeze(-1)

    def value(self, obs: Tensor) -> Tensor:
        """The critic's estimate of the discounted return from ``obs``."""
        return self.critic(obs).squeeze(-1)


def log_prob(logit: Tensor, action: Tensor) -> Tensor:
    """log pi(a|s) for a in {0., 1.}: a*l - log(1 + e^l), i.e. log sigmoid(+-l)."""
    return action * logit - F.softplus(logit)


def entropy(logit: Tensor) -> Tensor:
    """Entropy of the two-action policy, in nats (at most log 2)."""
    return F.softplus(logit) - torch.sigmoid(logit) * logit


def kl_divergence(old_logit: Tensor, new_logit: Tensor) -> Tensor:
    """KL(pi_old || pi_new) per state, exactly, for two actions."""
    # sum_a p_old(a) (log p_old(a) - log p_new(a)) with the log_prob formula above.
    return (torch.sigmoid(old_logit) * (old_logit - new_logit)
            - F.softplus(old_logit) + F.softplus(new_logit))
