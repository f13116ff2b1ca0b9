"""Demo `ppo-cartpole`: PPO learns to balance a pole, one streamed frame per update.

Each frame appends the episodes that ended during the update (returns as dots, the
mean of the last 20 as a line), the losses, the trust-region diagnostics (KL and the
clipped fraction) and every few updates a fresh heatmap of P(push right). When training
ends, the greedy policy plays one episode as an animation.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field, model_validator

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    animation,
    extend,
    figure,
    make_frame,
    rounded,
    seeded,
)
from app.ml.cartpole import MAX_STEPS, SOLVED_RETURN, THETA_LIMIT, X_LIMIT, reset_states, step
from app.ml.ppo import ActorCritic, PPOConfig, train

HEATMAP_EVERY = 5  # updates between heatmap refreshes: cheap, but not free


class Params(DemoParams):
    variant: Literal["clip", "kl"] = Field(
        "clip", description="Surrogate objective: clipped ratio, or ratio with a KL penalty")
    learning_rate: float = Field(1e-2, ge=1e-4, le=1e-2, description="Adam learning rate "
                                 "(annealed linearly to 0)", json_schema_extra={"x-scale": "log"})
    gamma: float = Field(0.99, ge=0.9, le=0.999, description="Discount factor γ")
    gae_lambda: float = Field(0.95, ge=0.0, le=1.0, description="GAE λ: 0 = TD, 1 = Monte Carlo")
    clip_eps: float = Field(0.2, ge=0.05, le=0.5, description="Clip range ε of the ratio",
                            json_schema_extra={"x-show-if": {"variant": "clip"}})
    kl_beta: float = Field(1.0, ge=0.01, le=10.0, description="KL penalty weight β",
                           json_schema_extra={"x-scale": "log",
                                              "x-show-if": {"variant": "kl"}})
    target_kl: float = Field(0.0, ge=0.0, le=0.1, description="Early stopping: end an update "
                             "before a gradient step once the KL exceeds 1.5 × target_kl "
                             "(0 = off)")
    epochs: int = Field(3, ge=1, le=20, description="Epochs over each rollout")
    minibatches: int = Field(2, ge=1, le=16, description="Minibatches per epoch")
    n_envs: int = Field(16, ge=1, le=128, description="Environments simulated in parallel")
    n_steps: int = Field(32, ge=8, le=512, description="Steps per environment per rollout")
    activation: Literal["relu", "tanh"] = Field(
        "relu", description="Hidden-layer nonlinearity of both networks")
    ent_coef: float = Field(0.0, ge=0.0, le=0.1, description="Entropy bonus coefficient")
    total_steps: int = Field(100_000, ge=10_000, le=300_000,
                             description="Most environment steps to train for")
    stop_when_solved: bool = Field(True, description="Stop once the mean of the last 20 "
                                   "returns reaches 475")

    @model_validator(mode="after")
    def _rollout_fits(self) -> Params:
        rows = self.n_envs * self.n_steps  # transitions in one rollout
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
        return self

    def config(self) -> PPOConfig:
        fields = PPOConfig.__dataclass_fields__
        values = {k: v for k, v in self.model_dump().items() if k in fields}
        return PPOConfig(**values | {"target_kl": self.target_kl or None})  # 0 means off


THETA_GRID = torch.linspace(-THETA_LIMIT, THETA_LIMIT, 41)
OMEGA_GRID = torch.linspace(-2.0, 2.0, 41)


def heatmap(model: ActorCritic) -> dict:
    """P(push right) over pole angle and angular velocity, with x = x_dot = 0."""
    theta, omega = torch.meshgrid(THETA_GRID, OMEGA_GRID, indexing="xy")
    states = torch.stack([torch.zeros_like(theta), torch.zeros_like(theta), theta, omega], -1)
    with torch.no_grad():
        p_right = torch.sigmoid(model.logit(states.reshape(-1, 4))).reshape(theta.shape)
    return figure([{
        "type": "heatmap", "x": rounded(torch.rad2deg(THETA_GRID).tolist(), 2),
        "y": rounded(OMEGA_GRID.tolist(), 3), "z": rounded(p_right.tolist(), 3),
        "zmin": 0, "zmax": 1, "colorscale": "RdBu", "reversescale": True,
        "colorbar": {"title": {"text": "P(right)"}},
        "hovertemplate": "θ %{x}°, θ̇ %{y} rad/s<br>P(right) %{z}<extra></extra>",
    }], {"xaxis": {"title": {"text": "pole angle θ (degrees)"}},
         "yaxis": {"title": {"text": "angular velocity θ̇ (rad/s)"}}})


def play_episode(model: ActorCritic, seed: int) -> torch.Tensor:
    """States of one greedy episode (always the likelier action), until it ends or 500."""
    state = reset_states(1, torch.Generator().manual_seed(seed))
    states = [state[0]]
    with torch.no_grad():
        for _ in range(MAX_STEPS):
            state, _, terminated = step(state, (model.logit(state) > 0).long())
            states.append(state[0])
            if terminated[0]:
                break
    return torch.stack(states)


def cart_traces(s: torch.Tensor) -> list[dict]:
    """The cart as a filled rectangle and the pole as a thick line, at state ``s``."""
    x, theta = float(s[0]), float(s[2])
    cart_x = [x - 0.25, x + 0.25, x + 0.25, x - 0.25, x - 0.25]
    tip = (x + 1.0 * math.sin(theta), 0.1 + 1.0 * math.cos(theta))  # pole drawn 1 m long
    return [
        {"type": "scatter", "mode": "lines", "x": rounded(cart_x, 3),
         "y": [-0.05, -0.05, 0.1, 0.1, -0.05], "fill": "toself", "name": "cart",
         "line": {"color": "#1f6feb"}, "fillcolor": "#1f6feb"},
        {"type": "scatter", "mode": "lines+markers", "x": [round(x, 3), round(tip[0], 3)],
         "y": [0.1, round(tip[1], 3)], "name": "pole",
         "line": {"color": "#d97706", "width": 6}, "marker": {"size": [4, 10]}},
    ]


def cart_layout(title: str) -> dict:
    return {"xaxis": {"range": [-2.6, 2.6], "title": {"text": "cart position x (m)"},
                      "zeroline": False},
            "yaxis": {"range": [-0.3, 1.2], "scaleanchor": "x", "zeroline": False,
                      "showticklabels": False},
            "showlegend": False, "title": {"text": title, "font": {"size": 13}}}


TRACK = {"type": "scatter", "mode": "lines", "x": [-X_LIMIT, X_LIMIT], "y": [-0.06, -0.06],
         "name": "track (ends at ±2.4 m)", "line": {"color": "#888", "width": 3}}


def balance_animation(states: torch.Tensor) -> dict:
    """The episode as frames; the moving traces come first so frames can replace them."""
    shown = states[::2]  # every other tick: 0.04 s of simulated time per frame
    verdict = "balanced to the time limit" if len(states) > MAX_STEPS else "fell"
    return animation(cart_traces(shown[0]) + [TRACK], [cart_traces(s) for s in shown],
                     cart_layout(f"greedy policy: {len(states) - 1} steps, {verdict}"),
                     frame_ms=40)


CHARTS = [
    Chart("returns", "Episode returns",
          {"xaxis": {"title": {"text": "environment steps"}},
           "yaxis": {"title": {"text": "return (steps balanced)"}, "range": [0, 520]},
           "legend": {"orientation": "h", "y": -0.25},
           "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": SOLVED_RETURN,
                       "y1": SOLVED_RETURN, "line": {"dash": "dash", "color": "#2a9d47"}}]},
          "Dots: the return of every finished episode. Line: mean of the last 20 episodes. "
          "Dashed: the solved threshold 475."),
    Chart("losses", "Losses and entropy per update",
          {"xaxis": {"title": {"text": "update"}}, "legend": {"orientation": "h", "y": -0.25}},
          "Policy loss, value loss and policy entropy after each update."),
    Chart("trust", "How far each update moved the policy",
          {"xaxis": {"title": {"text": "update"}}, "legend": {"orientation": "h", "y": -0.25}},
          "Mean KL divergence between the old and the new policy, measured exactly before "
          "each gradient step of the update, and the fraction of clipped ratios."),
    Chart("policy", "The policy: P(push right) with the cart centred and still", {},
          "Heatmap of the probability of pushing right over pole angle and angular velocity."),
    Chart("cart", "The learned policy at work", {},
          "When training ends, an animation of the greedy policy balancing the pole."),
]


def lines(*names: str) -> list[dict]:
    return [{"type": "scatter", "mode": "lines", "name": n, "x": [], "y": []} for n in names]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    cfg = params.config()
    with seeded(params.seed):
        model = ActorCritic(cfg.hidden, cfg.activation)
    returns_traces = [
        {"type": "scatter", "mode": "markers", "name": "episode return", "x": [], "y": [],
         "marker": {"size": 4, "opacity": 0.5}},
        {"type": "scatter", "mode": "lines", "name": "mean of last 20", "x": [], "y": [],
         "line": {"width": 3}},
    ]
    yield make_frame(0, 0.0, {
        "returns": figure(returns_traces), "losses": figure(lines("policy loss", "value loss",
                                                                   "entropy")),
        "trust": figure(lines("mean KL(old‖new)", "clip fraction")), "policy": heatmap(model),
        "cart": figure(cart_traces(torch.zeros(4)) + [TRACK],
                       cart_layout("plays the learned policy when training ends")),
    }, {"mean_return_20": 0.0})
    all_returns: list[float] = []
    solved_at: tuple[int, float] | None = None
    stats = None
    for stats in train(cfg, params.seed, model, ctx.should_stop):
        all_returns += stats.episode_returns
        recent = all_returns[-20:]
        mean_20 = sum(recent) / len(recent) if recent else 0.0
        if stats.solved and solved_at is None:
            solved_at = (stats.env_steps, stats.seconds)
        u = [[stats.update]]
        charts = {
            "returns": extend([0, 1], [stats.episode_end_steps, [stats.env_steps]],
                              [stats.episode_returns, [round(mean_20, 2)]], max_points=5000),
            "losses": extend([0, 1, 2], u * 3, [[round(stats.policy_loss, 5)],
                                                [round(stats.value_loss, 6)],
                                                [round(stats.entropy, 4)]]),
            "trust": extend([0, 1], u * 2, [[round(stats.approx_kl, 6)],
                                            [round(stats.clip_fraction, 4)]]),
        }
        if stats.update % HEATMAP_EVERY == 0:
            charts["policy"] = heatmap(model)
        yield make_frame(stats.update, stats.env_steps / cfg.total_steps, charts, {
            "mean_return_20": round(mean_20, 2), "episodes": len(all_returns),
            "env_steps": stats.env_steps, "steps_per_second": round(stats.steps_per_second),
            "approx_kl": round(stats.approx_kl, 5), "clip_fraction": round(stats.clip_fraction, 3),
            "gradient_steps": stats.gradient_steps,
            "learning_rate": round(stats.learning_rate, 6),
        })
    states = play_episode(model, params.seed)
    recent = all_returns[-20:]
    final_mean = sum(recent) / len(recent) if recent else 0.0
    yield make_frame((stats.update if stats else 0) + 1, 1.0,
                     {"policy": heatmap(model), "cart": balance_animation(states)},
                     {"mean_return_20": round(final_mean, 2), "greedy_episode": len(states) - 1})
    return {
        "solved_at_step": solved_at[0] if solved_at else None,
        "solved_at_seconds": round(solved_at[1], 3) if solved_at else None,
        "final_mean_return": round(final_mean, 2),
        "episodes": len(all_returns),
        "env_steps": stats.env_steps if stats else 0,
        "updates": stats.update if stats else 0,
        "greedy_episode_length": len(states) - 1,
    }


demo = Demo(
    slug="ppo-cartpole",
    title="PPO balances a pole",
    description="Proximal Policy Optimisation on 16 CartPoles at once. Press Run: the returns "
    "climb to 500 in about a second. Then change ε, λ or the learning rate and compare.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
)
