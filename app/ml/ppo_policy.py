"""PPO's two small networks and the closed forms of a two-action policy.

The actor maps a CartPole state to one number, the log-odds of pushing right; with two
actions the log-probability, the entropy and the KL divergence between two policies
have exact formulas, so nothing here needs sampling. Used by :mod:`app.ml.ppo`.
The last two functions show what a trained actor does: its P(push right) over a grid of
pole states, and one episode played greedily.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.ml.cartpole import MAX_STEPS, reset_states, step

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


# ---------------------------------------------------------------- what the policy does


@torch.no_grad()
def p_right_grid(model: ActorCritic, thetas: Tensor, omegas: Tensor) -> Tensor:
    """P(push right) with the cart centred and still (x = x_dot = 0), over pole angles
    ``thetas`` [W] (radians) and angular velocities ``omegas`` [H]: a [H, W] tensor,
    row i for ``omegas[i]``, column j for ``thetas[j]``."""
    theta, omega = torch.meshgrid(thetas, omegas, indexing="xy")
    states = torch.stack([torch.zeros_like(theta), torch.zeros_like(theta), theta, omega], -1)
    return torch.sigmoid(model.logit(states.reshape(-1, 4))).reshape(theta.shape)


@torch.no_grad()
def greedy_episode(model: ActorCritic, seed: int) -> Tensor:
    """States [T + 1, 4] of one episode in which the actor always takes its likelier
    action, from the start state ``seed`` draws, until the pole falls or T = 500."""
    state = reset_states(1, torch.Generator().manual_seed(seed))
    states = [state[0]]
    for _ in range(MAX_STEPS):
        state, _, terminated = step(state, (model.logit(state) > 0).long())
        states.append(state[0])
        if terminated[0]:
            break
    return torch.stack(states)
