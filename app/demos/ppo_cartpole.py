"""Demo `ppo-cartpole`: PPO learns to balance a pole, one streamed frame per update.

Each frame appends the episodes that ended during the update (returns as dots, the
mean of the last 20 as a line), the losses, the trust-region diagnostics (KL and the
clipped fraction) and every few updates a fresh heatmap of P(push right). When training
ends, the greedy policy plays one episode as an animation. Training is
:func:`app.ml.ppo.train` (its record, :class:`app.ml.ppo.TrainingLog`); the parameters,
their help and their checks are :class:`app.ml.ppo_config.PPOConfig`'s.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    animation,
    control,
    extend,
    figure,
    make_frame,
    seeded,
)
from app.demos.charts import (
    heatmap,
    heatmap_chart,
    layout,
    line,
    line_chart,
    markers,
    panel_chart,
    plain_chart,
)
from app.ml.cartpole import MAX_STEPS, SOLVED_RETURN, THETA_LIMIT, X_LIMIT
from app.ml.ppo import ActorCritic, TrainingLog, train
from app.ml.ppo_config import PPOConfig
from app.ml.ppo_policy import greedy_episode, p_right_grid

HEATMAP_EVERY = 5  # updates between heatmap refreshes: cheap, but not free
CONFIG = {spec.name: spec for spec in fields(PPOConfig)}


def config_field(name: str, **bounds: Any) -> Any:
    """The control of PPOConfig's ``name``: its default, help and label from
    app/ml/ppo_config.py (``json_schema_extra`` adds to the label, e.g. a log scale)."""
    spec = CONFIG[name]
    hints = {**control(label=spec.metadata["label"]), **bounds.pop("json_schema_extra", {})}
    return Field(spec.default, description=spec.metadata["help"], json_schema_extra=hints,
                 **bounds)


class Params(DemoParams):
    variant: Literal["clip", "kl"] = config_field("variant")
    learning_rate: float = config_field("learning_rate", ge=1e-4, le=1e-2,
                                        json_schema_extra=control(log_scale=True))
    gamma: float = config_field("gamma", ge=0.9, le=0.999)
    gae_lambda: float = config_field("gae_lambda", ge=0.0, le=1.0)
    clip_eps: float = config_field("clip_eps", ge=0.05, le=0.5,
                                   json_schema_extra=control(show_if={"variant": "clip"}))
    kl_beta: float = config_field("kl_beta", ge=0.01, le=10.0, json_schema_extra=control(
        log_scale=True, show_if={"variant": "kl"}))
    target_kl: float = config_field("target_kl", ge=0.0, le=0.1)
    epochs: int = config_field("epochs", ge=1, le=20)
    minibatches: int = config_field("minibatches", ge=1, le=16)
    n_envs: int = config_field("n_envs", ge=1, le=128)
    n_steps: int = config_field("n_steps", ge=8, le=512)
    activation: Literal["relu", "tanh"] = config_field("activation")
    ent_coef: float = config_field("ent_coef", ge=0.0, le=0.1)
    total_steps: int = config_field("total_steps", ge=10_000, le=300_000)
    stop_when_solved: bool = config_field("stop_when_solved")

    @model_validator(mode="after")
    def _rollout_fits(self) -> Params:
        self.config().check()  # a ValueError names the field to change
        return self

    def config(self) -> PPOConfig:
        return PPOConfig(**{k: v for k, v in self.model_dump().items() if k in CONFIG})


THETA_GRID = torch.linspace(-THETA_LIMIT, THETA_LIMIT, 41)
OMEGA_GRID = torch.linspace(-2.0, 2.0, 41)


def policy_map(model: ActorCritic) -> dict:
    """P(push right) over pole angle and angular velocity, with x = x_dot = 0."""
    p_right = p_right_grid(model, THETA_GRID, OMEGA_GRID)
    return figure([heatmap(p_right.tolist(),
                           torch.rad2deg(THETA_GRID).tolist(),
                           OMEGA_GRID.tolist(), colorscale="RdBu", zmin=0, zmax=1,
                           reverse=True, colorbar_title="P(right)",
                           hover="θ %{x}°, θ̇ %{y} rad/s<br>P(right) %{z}<extra></extra>")])


def cart_traces(s: torch.Tensor) -> list[dict]:
    """The cart as a filled rectangle and the pole as a thick line, at state ``s``."""
    x, theta = float(s[0]), float(s[2])
    cart_x = [x - 0.25, x + 0.25, x + 0.25, x - 0.25, x - 0.25]
    tip = (x + 1.0 * math.sin(theta), 0.1 + 1.0 * math.cos(theta))  # pole drawn 1 m long
    return [
        line("cart", cart_x, [-0.05, -0.05, 0.1, 0.1, -0.05], fill="toself",
             line={"color": "#1f6feb"}, fillcolor="#1f6feb"),
        line("pole", [x, tip[0]], [0.1, tip[1]], markers=True,
             line={"color": "#d97706", "width": 6}, marker={"size": [4, 10]}),
    ]


def cart_layout(title: str) -> dict:
    return layout("cart position x (m)", x={"range": [-2.6, 2.6], "zeroline": False},
                  y={"range": [-0.3, 1.2], "scaleanchor": "x", "zeroline": False,
                     "showticklabels": False}, showlegend=False, title=title)


TRACK = line("track (ends at ±2.4 m)", [-X_LIMIT, X_LIMIT], [-0.06, -0.06],
             line={"color": "#888", "width": 3})


def balance_animation(states: torch.Tensor) -> dict:
    """The episode as frames; the moving traces come first so frames can replace them."""
    shown = states[::2]  # every other tick: 0.04 s of simulated time per frame
    verdict = "balanced to the time limit" if len(states) > MAX_STEPS else "fell"
    return animation(cart_traces(shown[0]) + [TRACK], [cart_traces(s) for s in shown],
                     cart_layout(f"greedy policy: {len(states) - 1} steps, {verdict}"),
                     frame_ms=40)


SOLVED_LINE = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": SOLVED_RETURN,
               "y1": SOLVED_RETURN, "line": {"dash": "dash", "color": "#2a9d47"}}
CHARTS = [
    line_chart("returns", "Episode returns", x_title="environment steps", integer_x=True,
               y_title="return (steps balanced)", y={"range": [0, 520]}, shapes=[SOLVED_LINE],
               lines=[markers("episode return", marker={"size": 4, "opacity": 0.5}),
                      line("mean of last 20", line={"width": 3})],
               summary="Dots: the return of every finished episode. Line: mean of the last 20 "
               "episodes. Dashed: the solved threshold 475."),
    # Each on its own scale: a value loss in the hundreds would flatten the others.
    panel_chart("losses", "Losses and entropy per update", x_title="update", integer_x=True,
                panels=[("policy loss", line("policy loss")),
                        ("value loss", line("value loss")), ("entropy", line("entropy"))],
                summary="Three stacked line charts over the update: policy loss, value loss "
                "and policy entropy, each on its own scale."),
    line_chart("trust", "How far each update moved the policy", x_title="update", integer_x=True,
               lines=[line("mean KL(old‖new)"), line("clip fraction")],
               summary="Mean KL divergence between the old and the new policy, measured "
               "exactly before each gradient step of the update, and the fraction of clipped "
               "ratios."),
    heatmap_chart("policy", "The policy: P(push right) with the cart centred and still",
                  x_title="pole angle θ (degrees)", y_title="angular velocity θ̇ (rad/s)",
                  summary="Heatmap of the probability of pushing right over pole angle and "
                  "angular velocity."),
    plain_chart("cart", "The learned policy at work",
                summary="When training ends, an animation of the greedy policy balancing the "
                "pole."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    cfg = params.config()
    with seeded(params.seed):
        model = ActorCritic(cfg.hidden, cfg.activation)
    yield make_frame(0, 0.0, {  # the untrained policy: a fair coin everywhere
        "policy": policy_map(model),
        "cart": figure(cart_traces(torch.zeros(4)) + [TRACK],
                       cart_layout("plays the learned policy when training ends")),
    }, {"mean_return_20": 0.0})
    log = TrainingLog()
    for stats in train(cfg, params.seed, model, ctx.should_stop):
        log.add(stats)
        mean_20 = log.mean_of_last_20
        u = [[stats.update]]
        charts = {
            "returns": extend([0, 1], [stats.episode_end_steps, [stats.env_steps]],
                              [stats.episode_returns, [mean_20]], max_points=5000),
            "losses": extend([0, 1, 2], u * 3,
                             [[stats.policy_loss], [stats.value_loss], [stats.entropy]]),
            "trust": extend([0, 1], u * 2, [[stats.mean_kl], [stats.clip_fraction]]),
        }
        if stats.update % HEATMAP_EVERY == 0:
            charts["policy"] = policy_map(model)
        yield make_frame(stats.update, stats.env_steps / cfg.total_steps, charts, {
            "mean_return_20": mean_20, "episodes": len(log.returns),
            "env_steps": stats.env_steps, "steps_per_second": round(stats.steps_per_second),
            "mean_kl": stats.mean_kl,
            "clip_fraction": stats.clip_fraction,
            "gradient_steps": stats.gradient_steps,
            "learning_rate": stats.learning_rate,
        })
    states = greedy_episode(model, params.seed)
    final_mean = log.mean_of_last_20
    yield make_frame(log.updates + 1, 1.0,
                     {"policy": policy_map(model), "cart": balance_animation(states)},
                     {"mean_return_20": final_mean, "greedy_episode": len(states) - 1})
    return {
        "solved_at_step": log.solved.env_steps if log.solved else None,
        "solved_at_seconds": log.solved.seconds if log.solved else None,
        "final_mean_return": final_mean,
        "episodes": len(log.returns),
        "env_steps": log.env_steps,
        "updates": log.updates,
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
    metric_labels={"mean_return_20": "mean of last 20 returns", "mean_kl": "mean KL(old‖new)"},
)
