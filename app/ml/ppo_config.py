"""PPO's hyperparameters, each with the sentence that explains it.

:class:`PPOConfig` is what :func:`app.ml.ppo.train` reads; every field carries its help
in ``metadata["help"]``, which the ppo-cartpole demo shows beside its control, so a
parameter is declared (default and meaning) in one place. The defaults are tuned for the
wall-clock time to solve CartPole-v1; those left alone are the PPO paper's (ε 0.2,
γ 0.99, λ 0.95; Schulman et al. 2017, arXiv:1707.06347) and CleanRL's ``ppo.py`` (value
weight 0.5, gradient norm 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def knob(default: Any, help: str, label: str | None = None) -> Any:
    """A config field with its explanation and, where the field's name is jargon, the
    words a student reads on its control (the demo shows the same ``help`` and ``label``)."""
    return field(default=default, metadata={"help": help, "label": label})


@dataclass
class PPOConfig:
    """Hyperparameters; the defaults are tuned for wall-clock time to solve CartPole."""

    variant: Literal["clip", "kl"] = knob(
        "clip", "Surrogate objective: the clipped ratio, min(r·A, clip(r)·A), or the ratio "
        "with a KL penalty, r·A − β·KL(old‖new)")
    learning_rate: float = knob(
        1e-2, "Adam's step size at the start, annealed linearly to 0 over total_steps")
    gamma: float = knob(0.99, "Discount factor γ: what a reward one step later is worth",
                        "γ (discount)")
    gae_lambda: float = knob(0.95, "GAE λ: 0 = one-step TD errors, 1 = Monte Carlo returns",
                             "λ (GAE)")
    clip_eps: float = knob(0.2, "Clip range ε: how far the probability ratio may move from 1 "
                           "before the clipped loss stops pushing", "ε (clip)")
    kl_beta: float = knob(1.0, "Weight β of the KL penalty (kl variant only)", "β (KL penalty)")
    target_kl: float = knob(
        0.0, "Early stopping: end an update before a gradient step once the minibatch's mean "
        "KL(old‖new) exceeds 1.5 × target_kl (Stable-Baselines3's rule); 0 = off", "target KL")
    epochs: int = knob(3, "Epochs (passes) over each rollout", "epochs per update")
    minibatches: int = knob(2, "Minibatches per epoch: gradient steps per update = epochs × "
                            "minibatches")
    n_envs: int = knob(16, "Environments simulated in parallel", "environments")
    n_steps: int = knob(32, "Steps per environment per rollout; a rollout is n_envs × n_steps "
                        "transitions", "steps per rollout")
    ent_coef: float = knob(0.0, "Weight of the entropy bonus that keeps the policy exploring",
                           "entropy bonus")
    vf_coef: float = knob(0.5, "Weight of the critic's squared-error loss")
    max_grad_norm: float = knob(0.5, "Each network's gradient norm is clipped to this")
    total_steps: int = knob(100_000, "Most environment steps (summed over environments) to "
                            "train for", "total env steps")
    hidden: int = knob(64, "Width of the two hidden layers of both networks")
    activation: Literal["relu", "tanh"] = knob(
        "relu", "Hidden-layer nonlinearity of both networks: tanh is the PPO paper's; ReLU "
        "needs about half the updates here")
    scale_rewards: bool = knob(True, "Multiply rewards by (1 − γ) so values stay in [0, 1] "
                               "whatever the horizon")
    anneal_lr: bool = knob(True, "Decay the learning rate linearly to 0 over total_steps")
    stop_when_solved: bool = knob(True, "Stop once the mean return of the last 20 episodes "
                                  "reaches 475")

    @property
    def rollout_rows(self) -> int:
        """Transitions in one rollout: ``n_envs × n_steps``."""
        return self.n_envs * self.n_steps

    def check(self) -> None:
        """Raise ``ValueError`` if one rollout cannot be cut into ``minibatches`` or is
        longer than the whole training; the message starts with the field to change
        (``"minibatches: ..."``, ``"total_steps: ..."``) and says what would work."""
        rows = self.rollout_rows
        if self.minibatches > rows:
            raise ValueError(
                f"minibatches: {self.minibatches} minibatches need at least {self.minibatches} "
                f"transitions per rollout, but n_envs × n_steps = {self.n_envs} × "
                f"{self.n_steps} = {rows}; choose minibatches ≤ {rows} or n_steps ≥ "
                f"{-(-self.minibatches // self.n_envs)}")
        if rows > self.total_steps:
            raise ValueError(
                f"total_steps: {self.total_steps} is less than one rollout of n_envs × "
                f"n_steps = {self.n_envs} × {self.n_steps} = {rows} steps; raise total_steps "
                f"to {rows} or lower n_steps to {max(8, self.total_steps // self.n_envs)}")
