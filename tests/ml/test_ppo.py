"""PPO: the two-action formulas against torch.distributions, the clipped loss's flat
regions, determinism, and a fixed-seed run that solves CartPole."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import pytest
import torch
from torch.distributions import Bernoulli
from torch.distributions import kl_divergence as torch_kl

from app.demos.base import seeded
from app.ml import ppo
from app.ml.cartpole import (
    MAX_STEPS,
    THETA_LIMIT,
    X_LIMIT,
    BatchedCartPole,
    reset_states,
    step,
)
from app.ml.ppo import (
    ActorCritic,
    PPOConfig,
    TrainingLog,
    UpdateStats,
    collect_rollout,
    entropy,
    kl_divergence,
    log_prob,
    policy_loss,
    train,
)
from app.ml.ppo_config import PPOConfig as ConfigFromItsModule
from app.ml.ppo_policy import greedy_episode, p_right_grid

LOGITS = torch.linspace(-6, 6, 25, dtype=torch.float64)


def test_log_prob_entropy_and_kl_match_torch_distributions():
    for action in (0.0, 1.0):
        a = torch.full_like(LOGITS, action)
        assert torch.allclose(log_prob(LOGITS, a), Bernoulli(logits=LOGITS).log_prob(a))
    assert torch.allclose(entropy(LOGITS), Bernoulli(logits=LOGITS).entropy())
    new = LOGITS.flip(0) * 0.5
    expected = torch_kl(Bernoulli(logits=LOGITS), Bernoulli(logits=new))
    assert torch.allclose(kl_divergence(LOGITS, new), expected)


def test_clipped_loss_has_no_gradient_once_the_ratio_passes_the_clip():
    cfg = PPOConfig(clip_eps=0.2)
    old = torch.zeros(4, dtype=torch.float64)  # P(right) = 0.5
    actions = torch.ones(4, dtype=torch.float64)
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    # New probabilities 0.55, 0.7, 0.45, 0.3 -> ratios 1.1, 1.4, 0.9, 0.6.
    p_new = torch.tensor([0.55, 0.7, 0.45, 0.3], dtype=torch.float64)
    new = torch.logit(p_new).requires_grad_()
    loss, _, clipped = policy_loss(cfg, new, old, log_prob(old, actions), actions, adv)
    loss.backward()
    grad = new.grad
    assert grad[0] != 0 and grad[2] != 0  # inside the clip range: still pushed
    assert grad[1] == 0 and grad[3] == 0  # beyond it in the favoured direction: flat
    assert clipped == 0.5


def test_kl_variant_penalises_drift():
    cfg = PPOConfig(variant="kl", kl_beta=2.0)
    old = torch.zeros(3, dtype=torch.float64)
    actions = torch.ones(3, dtype=torch.float64)
    adv = torch.zeros(3, dtype=torch.float64)  # no advantage: only the penalty remains
    new = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64)
    loss, kl, _ = policy_loss(cfg, new, old, log_prob(old, actions), actions, adv)
    assert float(loss) == float(2.0 * kl) > 0


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_both_networks_use_the_chosen_activation_and_start_as_a_fair_coin(activation):
    with seeded(0):
        model = ActorCritic(16, activation)
    kind = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    for net in (model.actor, model.critic):
        assert [type(m) for m in net][1::2] == [kind, kind]  # Linear, act, Linear, act, Linear
    states = reset_states(256, torch.Generator().manual_seed(1)) * 20  # well beyond resets
    with torch.no_grad():
        p_right = torch.sigmoid(model.logit(states))
    assert float((p_right - 0.5).abs().max()) < 0.05


def first_updates(seed: int, n: int) -> list[tuple[float, float]]:
    cfg = PPOConfig(total_steps=20_000)
    with seeded(seed):
        model = ActorCritic()
    stats = [s for _, s in zip(range(n), train(cfg, seed, model), strict=False)]
    return [(s.policy_loss, s.value_loss) for s in stats]


def test_same_seed_same_training():
    assert first_updates(3, 3) == first_updates(3, 3)
    assert first_updates(3, 3) != first_updates(4, 3)


def test_ppo_solves_cartpole_with_the_defaults_for_a_fixed_seed():
    cfg = PPOConfig()
    with seeded(0):
        model = ActorCritic(cfg.hidden, cfg.activation)
    log = TrainingLog()
    episodes = 0
    for stats in train(cfg, 0, model):
        log.add(stats)
        episodes += len(stats.episode_returns)
        assert not stats.solved or log.solved is not None
    last = log.last
    assert last is not None and last.solved
    assert last.mean_return_20 >= 475
    assert last.env_steps < cfg.total_steps
    # The log: the first update that solved it (with stop_when_solved, the last one), the
    # mean of the last 20 returns as train measured it, and every episode once.
    assert log.solved is last and log.updates == last.update and log.env_steps == last.env_steps
    assert log.mean_of_last_20 == pytest.approx(last.mean_return_20)
    assert len(log.returns) == episodes
    # The greedy policy balances most fresh poles for the whole 500 steps.
    state = reset_states(8, torch.Generator().manual_seed(123))
    alive = torch.ones(8, dtype=torch.bool)
    with torch.no_grad():
        for _ in range(MAX_STEPS):
            state, _, terminated = step(state, (model.logit(state) > 0).long())
            alive &= ~terminated
    assert int(alive.sum()) >= 6
    # The demo's greedy episode: the same policy from one seeded start, played to 500.
    states = greedy_episode(model, 0)
    assert states.shape == (MAX_STEPS + 1, 4)
    assert torch.equal(states[0], reset_states(1, torch.Generator().manual_seed(0))[0])
    # Its P(push right) map: pole falling right (theta > 0, omega > 0) -> push right.
    thetas, omegas = torch.linspace(-0.2, 0.2, 5), torch.linspace(-2.0, 2.0, 3)
    p_right = p_right_grid(model, thetas, omegas)
    assert p_right.shape == (3, 5)
    assert float(p_right[-1, -1]) > 0.99 and float(p_right[0, 0]) < 0.01
    state = torch.tensor([[0.0, 0.0, float(thetas[1]), float(omegas[2])]])
    with torch.no_grad():
        expected = float(torch.sigmoid(model.logit(state))[0])
    assert float(p_right[2, 1]) == pytest.approx(expected)


def test_greedy_episode_of_an_untrained_policy_ends_when_the_pole_falls():
    with seeded(0):
        model = ActorCritic()
    states = greedy_episode(model, 5)
    assert 2 <= len(states) - 1 < MAX_STEPS
    last = states[-1]
    assert abs(float(last[2])) > THETA_LIMIT or abs(float(last[0])) > X_LIMIT
    assert all(abs(float(s[2])) <= THETA_LIMIT and abs(float(s[0])) <= X_LIMIT
               for s in states[:-1])


def test_a_minibatch_of_one_row_trains_on_finite_numbers():
    # 1 environment x 8 steps in 8 minibatches: one row each, whose standard deviation is
    # NaN. Normalising it poisoned every weight; like Stable-Baselines3, one row is left as is.
    cfg = PPOConfig(n_envs=1, n_steps=8, minibatches=8, total_steps=10_000)
    with seeded(0):
        model = ActorCritic()
    stats = [s for _, s in zip(range(5), train(cfg, 0, model), strict=False)]
    numbers = [v for s in stats for v in (s.policy_loss, s.value_loss, s.entropy, s.mean_kl)]
    assert all(math.isfinite(v) for v in numbers)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


class RecordingActorCritic(ActorCritic):
    """Notes how many rows each gradient step's policy sees."""

    def __init__(self) -> None:
        super().__init__()
        self.rows_seen: list[int] = []

    def logit(self, obs: torch.Tensor) -> torch.Tensor:
        self.rows_seen.append(obs.shape[0])
        return super().logit(obs)


def test_minibatches_use_every_row_of_the_rollout_once_per_epoch():
    # 10 rows in 3 minibatches: 4 + 3 + 3, not 3 + 3 + 3 with one row thrown away.
    cfg = PPOConfig(n_envs=1, n_steps=10, minibatches=3, epochs=2, total_steps=10)
    with seeded(0):
        model = RecordingActorCritic()
    deque(train(cfg, 0, model), maxlen=0)
    assert model.rows_seen == [4, 3, 3, 4, 3, 3]


def test_more_minibatches_than_rows_is_refused():
    cfg = PPOConfig(n_envs=1, n_steps=8, minibatches=9)
    with pytest.raises(ValueError, match="minibatches"):
        next(train(cfg, 0, ActorCritic()))


def test_stop_is_heard_between_epochs_of_an_update():
    # A big rollout takes seconds to learn from; Stop must not wait for all its epochs.
    cfg = PPOConfig(n_envs=1, n_steps=10, minibatches=2, epochs=10, total_steps=10)
    with seeded(0):
        model = RecordingActorCritic()
    checks = 0

    def stop_at_third_check() -> bool:  # 1: before the rollout, 2: epoch 1, 3: epoch 2
        nonlocal checks
        checks += 1
        return checks >= 3

    assert list(train(cfg, 0, model, stop_at_third_check)) == []  # no stats for half an update
    assert model.rows_seen == [5, 5]  # one epoch of two minibatches, then it stopped


def update_recording_kls(monkeypatch, cfg: PPOConfig) -> tuple[dict, list[float]]:
    """One update of a fixed model and rollout; returns its stats and each measured KL."""
    kls: list[float] = []

    def recording_policy_loss(*args):
        loss, kl, clipped = policy_loss(*args)
        kls.append(float(kl))
        return loss, kl, clipped

    monkeypatch.setattr(ppo, "policy_loss", recording_policy_loss)
    with seeded(0):
        model = ActorCritic()
    generator = torch.Generator().manual_seed(0)
    env = BatchedCartPole(cfg.n_envs, generator)
    rollout, _ = collect_rollout(model, env, env.state, cfg.n_steps, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=1e-5)
    return ppo.update(model, optimizer, cfg, rollout, generator), kls


def test_target_kl_ends_the_update_before_the_first_step_past_one_and_a_half_targets(
        monkeypatch):
    # Stable-Baselines3's rule: measure the minibatch KL before each step; once it exceeds
    # 1.5 * target_kl, take no step and end the update (all remaining epochs included).
    cfg = PPOConfig(clip_eps=0.5, epochs=20)
    free, free_kls = update_recording_kls(monkeypatch, cfg)
    assert free["gradient_steps"] == 40 and len(free_kls) == 40
    target = 0.01
    first_over = next(i for i, kl in enumerate(free_kls) if kl > 1.5 * target)
    assert 0 < first_over < 39  # the rule has something to do in this update
    braked, braked_kls = update_recording_kls(monkeypatch, replace(cfg, target_kl=target))
    assert braked["gradient_steps"] == first_over  # the step that crossed was not taken
    assert braked_kls == pytest.approx(free_kls[:first_over + 1], abs=1e-9)
    assert braked["mean_kl"] == pytest.approx(sum(braked_kls) / len(braked_kls), abs=1e-7)
    never, _ = update_recording_kls(monkeypatch, replace(cfg, target_kl=1.0))
    assert never["gradient_steps"] == 40


def test_the_config_is_one_object_importable_from_either_module():
    assert ConfigFromItsModule is PPOConfig
    assert PPOConfig().rollout_rows == 16 * 32


@pytest.mark.parametrize("sizes, message", [
    ({"n_envs": 1, "n_steps": 8, "minibatches": 16},
     "minibatches: 16 minibatches need at least 16 transitions per rollout, but n_envs × "
     "n_steps = 1 × 8 = 8; choose minibatches ≤ 8 or n_steps ≥ 16"),
    ({"n_envs": 128, "n_steps": 256, "total_steps": 10_000},
     "total_steps: 10000 is less than one rollout of n_envs × n_steps = 128 × 256 = 32768 "
     "steps; raise total_steps to 32768 or lower n_steps to 78"),
])
def test_check_refuses_a_rollout_that_does_not_fit_naming_the_field_and_a_fix(sizes, message):
    with pytest.raises(ValueError) as refused:
        PPOConfig(**sizes).check()
    assert str(refused.value) == message
    PPOConfig().check()  # the defaults fit
    PPOConfig(n_envs=1, n_steps=8, minibatches=8, total_steps=8).check()  # exactly fits


def test_the_log_of_a_run_that_has_not_finished_an_episode():
    log = TrainingLog()
    assert (log.mean_of_last_20, log.updates, log.env_steps, log.solved) == (0.0, 0, 0, None)
    losses = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "mean_kl": 0.0,
              "clip_fraction": 0.0, "gradient_steps": 1, "steps_per_second": 1.0,
              "learning_rate": 0.1}
    for update, returns in enumerate(([10.0, 30.0], [], [500.0] * 25), start=1):
        log.add(UpdateStats(update, 100 * update, 0.1 * update, returns, [], None,
                            solved=update == 3, **losses))
        if update == 1:
            assert log.mean_of_last_20 == 20.0  # fewer than 20 episodes: the mean of all
    assert log.mean_of_last_20 == 500.0 and len(log.returns) == 27
    assert log.solved is log.last and (log.updates, log.env_steps) == (3, 300)
