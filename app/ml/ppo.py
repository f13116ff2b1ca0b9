"""Proximal Policy Optimisation on the batched CartPole, top to bottom.

0. the hyperparameters (``app.ml.ppo_config``): :class:`PPOConfig`, each with its help;
1. the networks (``app.ml.ppo_policy``): a small actor (state -> logit of "push right")
   and a separate critic;
2. the rollout: play ``n_steps`` in ``n_envs`` environments with the current policy;
3. advantages by GAE (``app.ml.gae``) and value targets;
4. the update: a few epochs of minibatch gradient steps on the clipped (or KL-penalty)
   surrogate, the value loss and an entropy bonus, with gradient clipping, and optional
   early stopping once the policy has moved too far (``target_kl``);
5. :func:`train`, which yields one :class:`UpdateStats` per update, and
   :class:`TrainingLog`, what a run has done so far.

Every random draw uses an explicit ``torch.Generator`` so runs are reproducible even
when several run in threads at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.ml.cartpole import SOLVED_RETURN, BatchedCartPole
from app.ml.gae import gae
from app.ml.ppo_config import PPOConfig
from app.ml.ppo_policy import ActorCritic, entropy, kl_divergence, log_prob

# ------------------------------------------------------- 0. hyperparameters: app/ml/ppo_config.py
# ---------------------------------------------------------------- 1. networks: app/ml/ppo_policy.py


# ---------------------------------------------------------------- 2. rollout


@dataclass
class Rollout:
    """``T`` steps of ``N`` environments, time first: tensors are ``[T, N, ...]``."""

    obs: Tensor
    actions: Tensor
    logits: Tensor  # the behaviour policy's logits, for ratios and KL
    rewards: Tensor
    final_obs: Tensor  # the state each step reached, before any reset
    terminated: Tensor
    done: Tensor
    episode_returns: list[float]  # returns of the episodes that ended, in order
    episode_ends: list[int]  # the rollout step (0..T-1) at which each of them ended


@torch.no_grad()  # acting needs no gradients: skipping the graph makes the rollout cheap
def collect_rollout(model: ActorCritic, env: BatchedCartPole, obs: Tensor, n_steps: int,
                    generator: torch.Generator) -> tuple[Rollout, Tensor]:
    """Play ``n_steps`` in every environment; returns the rollout and the next observation."""
    # Push right with probability sigmoid(logit): u < sigmoid(logit) <=> logit(u) < logit,
    # so the uniform draws of the whole rollout become logit thresholds in one go.
    thresholds = torch.logit(torch.rand(n_steps, env.n_envs, generator=generator))
    keys = ("obs", "actions", "logits", "final_obs", "terminated", "done", "ret")
    buffers: dict[str, list[Tensor]] = {k: [] for k in keys}
    for t in range(n_steps):
        logit = model.actor(obs).squeeze(-1)
        action = thresholds[t] < logit  # True = push right
        result = env.step(action)
        for key, value in zip(keys, (obs, action, logit, result.final_obs, result.terminated,
                                     result.done, result.episode_return), strict=True):
            buffers[key].append(value)
        obs = result.obs
    t = {k: torch.stack(v) for k, v in buffers.items()}
    ended = t["done"]
    rollout = Rollout(t["obs"], t["actions"].float(), t["logits"],
                      torch.ones(n_steps, env.n_envs),  # CartPole pays 1 per step
                      t["final_obs"], t["terminated"], ended,
                      t["ret"][ended].tolist(),  # time-major order
                      ended.nonzero()[:, 0].tolist())
    return rollout, obs


# ---------------------------------------------------------------- 3-4. update


@dataclass
class UpdateStats:
    """What one update reports to the demo."""

    update: int
    env_steps: int
    seconds: float
    episode_returns: list[float]
    episode_end_steps: list[int]  # total environment steps when each episode ended
    mean_return_20: float | None
    policy_loss: float
    value_loss: float
    entropy: float
    mean_kl: float
    clip_fraction: float
    gradient_steps: int  # epochs * minibatches, or fewer if target_kl stopped the update
    steps_per_second: float
    learning_rate: float
    solved: bool = False


def policy_loss(cfg: PPOConfig, new_logit: Tensor, old_logit: Tensor, old_log_prob: Tensor,
                actions: Tensor, advantages: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The surrogate to minimise, the mean KL(old||new) and the fraction of clipped ratios."""
    # The ratio pi_new(a|s) / pi_old(a|s) reweights samples the old policy collected
    # (importance sampling), so one rollout can serve several gradient steps.
    ratio = torch.exp(log_prob(new_logit, actions) - old_log_prob)
    with torch.no_grad():  # diagnostics only: no graph, no backward cost
        clipped = ((ratio - 1).abs() > cfg.clip_eps).float().mean()
        if cfg.variant == "clip":
            kl = kl_divergence(old_logit, new_logit).mean()
    if cfg.variant == "clip":
        # Pessimistic bound: once the ratio leaves [1-eps, 1+eps] in the direction the
        # advantage favours, the min picks the flat clipped term and the gradient is zero.
        surrogate = torch.min(ratio * advantages,
                              ratio.clamp(1 - cfg.clip_eps, 1 + cfg.clip_eps) * advantages)
        return -surrogate.mean(), kl, clipped
    kl = kl_divergence(old_logit, new_logit).mean()
    return -(ratio * advantages).mean() + cfg.kl_beta * kl, kl, clipped


def update(model: ActorCritic, optimizer: torch.optim.Optimizer, cfg: PPOConfig,
           rollout: Rollout, generator: torch.Generator,
           should_stop: Callable[[], bool] = lambda: False) -> dict[str, float] | None:
    """Advantages, then ``epochs`` passes of ``minibatches`` gradient steps each.

    The KL and losses of each minibatch are measured before its step. With ``target_kl``
    set, the update ends as soon as a minibatch's mean KL(old||new) exceeds
    1.5 * target_kl, without taking that step (as Stable-Baselines3 does; it estimates
    the KL from the sampled actions, here it is exact). Returns the mean losses and the
    number of gradient steps taken, or None if ``should_stop()`` turned true between epochs
    (a large rollout takes seconds to learn from; a student's Stop should not wait).
    """
    with torch.no_grad():
        n_steps, n_envs = rollout.rewards.shape
        both = model.value(torch.cat([rollout.obs, rollout.final_obs]).reshape(-1, 4))
        values, next_values = both.reshape(2, n_steps, n_envs)
        # Scaled, CartPole's values lie in [0, 1] whatever gamma is (unscaled they reach
        # 1 / (1 - gamma) = 100): the critic's targets start at its outputs' scale.
        rewards = rollout.rewards * (1 - cfg.gamma) if cfg.scale_rewards else rollout.rewards
        advantages = gae(rewards, values, next_values, rollout.terminated,
                         rollout.done, cfg.gamma, cfg.gae_lambda)
        returns = advantages + values  # the critic's regression targets
        old_log_prob = log_prob(rollout.logits, rollout.actions)
    data = [x.reshape(-1, *x.shape[2:]) for x in (rollout.obs, rollout.actions, rollout.logits,
                                                  old_log_prob, advantages, returns)]
    totals, measured, steps = torch.zeros(5), 0, 0
    for _ in range(cfg.epochs):
        if should_stop():
            return None
        # Every row once per epoch, in minibatches whose sizes differ by at most one.
        order = torch.randperm(data[0].shape[0], generator=generator)
        for rows in order.tensor_split(cfg.minibatches):
            obs, actions, old_logit, old_lp, adv, ret = (x[rows] for x in data)
            # Normalising per minibatch keeps the step size independent of the reward scale.
            # One row has no spread (its std is NaN): leave it as it is, as SB3 does.
            if len(adv) > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            new_logit = model.logit(obs)
            pg_loss, kl, clipped = policy_loss(cfg, new_logit, old_logit, old_lp, actions, adv)
            v_loss = 0.5 * F.mse_loss(model.value(obs), ret)
            if cfg.ent_coef > 0:
                ent = entropy(new_logit).mean()
                loss = pg_loss - cfg.ent_coef * ent + cfg.vf_coef * v_loss
            else:  # no bonus: keep the entropy out of the graph, report it only
                ent = entropy(new_logit.detach()).mean()
                loss = pg_loss + cfg.vf_coef * v_loss
            totals += torch.stack([pg_loss.detach(), v_loss.detach(), ent.detach(), kl.detach(),
                                   clipped])
            measured += 1
            # Clipping removes the incentive to move far, not the possibility: once the
            # policy has drifted past 1.5 * target_kl, skip this step and the rest.
            if cfg.target_kl > 0 and float(kl) > 1.5 * cfg.target_kl:
                return finish(totals, measured, steps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Clip each network on its own: a large critic gradient must not scale the actor's.
            nn.utils.clip_grad_norm_(model.actor.parameters(), cfg.max_grad_norm)
            nn.utils.clip_grad_norm_(model.critic.parameters(), cfg.max_grad_norm)
            optimizer.step()
            steps += 1
    return finish(totals, measured, steps)


def finish(totals: Tensor, measured: int, steps: int) -> dict[str, float]:
    """Mean losses over the minibatches measured (the one that stopped early included)."""
    means = (totals / measured).tolist()
    return dict(zip(("policy_loss", "value_loss", "entropy", "mean_kl", "clip_fraction"),
                    means, strict=True)) | {"gradient_steps": steps}


# ---------------------------------------------------------------- 5. training loop


def train(cfg: PPOConfig, seed: int, model: ActorCritic,
          should_stop: Callable[[], bool] = lambda: False) -> Iterator[UpdateStats]:
    """Train ``model`` in place, yielding statistics after every update.

    Build ``model`` under a fixed seed (its initial weights are random). Stops after
    ``total_steps`` environment steps, when ``should_stop()`` is true, or — if
    ``stop_when_solved`` — once the mean of the last 20 episode returns reaches 475.
    """
    batch = cfg.n_envs * cfg.n_steps
    if not 1 <= cfg.minibatches <= batch:
        raise ValueError(f"minibatches must be between 1 and the rollout's {batch} rows")
    generator = torch.Generator().manual_seed(seed)
    env = BatchedCartPole(cfg.n_envs, generator)
    obs = env.state
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=1e-5,
                                 fused=True)  # one kernel for all parameters
    n_updates = max(1, cfg.total_steps // batch)
    returns: list[float] = []
    start = time.perf_counter()
    for k in range(n_updates):
        if should_stop():
            return
        lr = cfg.learning_rate * (1 - k / n_updates if cfg.anneal_lr else 1.0)
        for group in optimizer.param_groups:
            group["lr"] = lr
        rollout, obs = collect_rollout(model, env, obs, cfg.n_steps, generator)
        losses = update(model, optimizer, cfg, rollout, generator, should_stop)
        if losses is None:
            return
        returns += rollout.episode_returns
        mean_20 = sum(returns[-20:]) / 20 if len(returns) >= 20 else None
        solved = mean_20 is not None and mean_20 >= SOLVED_RETURN
        elapsed = time.perf_counter() - start
        ends = [k * batch + (t + 1) * cfg.n_envs for t in rollout.episode_ends]
        yield UpdateStats(k + 1, (k + 1) * batch, elapsed, rollout.episode_returns, ends, mean_20,
                          steps_per_second=(k + 1) * batch / max(elapsed, 1e-9),
                          learning_rate=lr, solved=solved, **losses)
        if solved and cfg.stop_when_solved:
            return


@dataclass
class TrainingLog:
    """What a run of :func:`train` has done so far: :meth:`add` each :class:`UpdateStats`."""

    returns: list[float] = field(default_factory=list)  # every finished episode's, in order
    last: UpdateStats | None = None  # the latest update
    solved: UpdateStats | None = None  # the first update whose last 20 episodes reached 475

    def add(self, stats: UpdateStats) -> None:
        self.returns += stats.episode_returns
        self.last = stats
        if stats.solved and self.solved is None:
            self.solved = stats

    @property
    def mean_of_last_20(self) -> float:
        """Mean return of the last 20 episodes (of all, while fewer; 0.0 before the first)."""
        recent = self.returns[-20:]
        return sum(recent) / len(recent) if recent else 0.0

    @property
    def updates(self) -> int:
        return self.last.update if self.last else 0

    @property
    def env_steps(self) -> int:
        return self.last.env_steps if self.last else 0
