"""CartPole-v1 for N environments at once, in torch tensors.

The physics, termination, reward, truncation and reset distribution are those of
gymnasium's ``CartPole-v1`` (tested state by state in ``tests/ml/test_cartpole.py``).
Batching is the whole point: one call to :func:`step` advances every environment, so
simulating 64 carts costs about as much as simulating one, and PPO's time goes to
learning rather than to a Python loop over environments.

A state row is ``[x, x_dot, theta, theta_dot]``: cart position (m), cart velocity,
pole angle from upright (rad) and angular velocity. Action 0 pushes left, 1 right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

GRAVITY = 9.8
MASS_CART = 1.0
MASS_POLE = 0.1
TOTAL_MASS = MASS_CART + MASS_POLE
HALF_LENGTH = 0.5  # gymnasium's `length` is half the pole's length
POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH
FORCE_MAG = 10.0
TAU = 0.02  # seconds per step, explicit Euler integration
THETA_LIMIT = 12 * 2 * math.pi / 360  # 12 degrees, written as gymnasium writes it
X_LIMIT = 2.4
MAX_STEPS = 500  # CartPole-v1's TimeLimit
SOLVED_RETURN = 475.0  # gymnasium's reward_threshold for CartPole-v1


def step(state: Tensor, action: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Advance every environment one tick: ``(next_state, reward, terminated)``.

    ``state`` is ``[N, 4]`` (any float dtype), ``action`` is ``[N]`` of 0/1. Pure: no
    resets, no step counting — exactly one step of gymnasium's ``CartPole-v1.step``.
    The reward is 1 on every step, including the one that terminates.
    """
    x, x_dot, theta, theta_dot = state.unbind(-1)
    force = torch.where(action.bool(), FORCE_MAG, -FORCE_MAG).to(state.dtype)
    cos, sin = torch.cos(theta), torch.sin(theta)
    # Equations of motion of a pole on a cart (Florian 2007, as in gymnasium).
    temp = (force + POLE_MASS_LENGTH * theta_dot**2 * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cos**2 / TOTAL_MASS)
    )
    x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS
    # Explicit Euler: positions move with the *old* velocities. One stacked multiply-add
    # instead of four keeps the number of tensor operations (the real cost here) low.
    next_state = state + TAU * torch.stack([x_dot, x_acc, theta_dot, theta_acc], dim=-1)
    # |x| > 2.4 or |theta| > 12 degrees: the same strict tests gymnasium writes out.
    limits = torch.tensor([X_LIMIT, THETA_LIMIT], dtype=state.dtype)
    terminated = (next_state[:, 0::2].abs() > limits).any(dim=-1)
    reward = torch.ones_like(terminated, dtype=state.dtype)
    return next_state, reward, terminated


def reset_states(n: int, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> Tensor:
    """``n`` fresh states, each coordinate uniform in (-0.05, 0.05) as in gymnasium."""
    return torch.rand(n, 4, generator=generator, dtype=dtype) * 0.1 - 0.05


@dataclass
class StepResult:
    """What :meth:`BatchedCartPole.step` reports for each environment."""

    obs: Tensor  # [N, 4] observation to act on next (already reset where an episode ended)
    final_obs: Tensor  # [N, 4] state reached by this step, before any reset
    reward: Tensor  # [N]
    terminated: Tensor  # [N] bool: the pole fell or the cart left the track
    truncated: Tensor  # [N] bool: 500 steps reached without terminating
    episode_return: Tensor  # [N] return of the episode that just ended (0 where none ended)


class BatchedCartPole:
    """N CartPole-v1 environments with automatic reset and truncation at 500 steps."""

    def __init__(self, n_envs: int, generator: torch.Generator) -> None:
        self.n_envs = n_envs
        self.generator = generator
        self.state = reset_states(n_envs, generator)
        self.steps = torch.zeros(n_envs, dtype=torch.long)
        self.returns = torch.zeros(n_envs)

    def step(self, action: Tensor) -> StepResult:
        """Step all environments; ended episodes restart at once from a fresh state."""
        final_obs, reward, terminated = step(self.state, action)
        self.steps += 1
        self.returns += reward
        truncated = (self.steps >= MAX_STEPS) & ~terminated
        done = terminated | truncated
        episode_return = torch.where(done, self.returns, 0.0)
        self.state = final_obs
        if done.any():  # most steps end no episode: skip the reset work then
            # Auto-reset without a Python loop: fresh states only in the finished rows.
            fresh = reset_states(self.n_envs, self.generator)
            self.state = torch.where(done[:, None], fresh, final_obs)
            self.steps = torch.where(done, 0, self.steps)
            self.returns = torch.where(done, 0.0, self.returns)
        return StepResult(self.state, final_obs, reward, terminated, truncated, episode_return)
