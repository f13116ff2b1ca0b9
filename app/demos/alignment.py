"""Demo `alignment`: a policy over the little language learns a hidden preference, by DPO or RLHF.

The reference policy pi_ref is the beam-search demo's language (:mod:`app.ml.tiny_lm`),
fifteen sentences with exact probabilities. An annotator with a hidden rule labels pairs
of sentences drawn from pi_ref (:mod:`app.ml.preferences`); the policy, one logit per
sentence started at pi_ref, then learns from the pairs by DPO (:mod:`app.ml.dpo`) or by
a Bradley–Terry reward model and PPO (:mod:`app.ml.rlhf`). Because the language is
finite, the optimum pi* ∝ pi_ref·exp(r/β) of the KL-regularised objective is exact, so
the bars show pi_ref, pi* and the policy side by side, and the curves how far the policy
is from pi* (total variation) and from pi_ref (KL).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    extend,
    figure,
    make_frame,
)
from app.demos.charts import bar_chart, bars, category_axis, layout, line, line_chart
from app.ml.dpo import PolicyStep, train_dpo
from app.ml.preferences import (
    RULE_NAMES,
    TEXTS,
    Pairs,
    centred,
    fit_reward_model,
    implicit_reward,
    kl_divergence,
    minimum_kl_regularised_loss,
    optimal_policy,
    preference_accuracy,
    reference_policy,
    rule_reward,
    sample_pairs,
    total_variation,
)
from app.ml.rlhf import train_rlhf

REPORT_EVERY = 5  # policy updates per streamed frame
REWARD_MODEL_STEPS = 300  # full-batch Adam steps of the Bradley–Terry fit (converged)
LABELS = [text.removesuffix(" .") for text in TEXTS]  # "my cat sat": the "." is in every one

Rule = Literal["without the", "about cats", "about dogs", "shorter"]
assert set(Rule.__args__) == set(RULE_NAMES)  # type: ignore[attr-defined]


class Params(DemoParams):
    method: Literal["dpo", "rlhf"] = Field(
        "dpo", description="dpo: train the policy on the pairs directly; rlhf: fit a "
        "Bradley–Terry reward model, then PPO on the KL-regularised objective")
    rule: Rule = Field("without the", description="The annotator's hidden taste: the reward "
                       "a sentence gets (2 for following a yes/no rule, minus one per word "
                       "for shorter)")
    # Linear sliders: a log slider snaps to steps of 0.01 in log10, and would send 0.251
    # for a lesson's beta of 0.25.
    beta: float = Field(1.0, ge=0.05, le=5.0, description="β: the price of each nat of "
                        "KL(π ‖ π_ref); small β trusts the preferences, large β stays home",
                        json_schema_extra=control(label="β", step=0.05))
    learning_rate: float = Field(0.05, ge=0.005, le=0.5, description="Adam step size for "
                                 "the policy's logits (decays linearly to 0)",
                                 json_schema_extra=control(step=0.005))
    steps: int = Field(300, ge=10, le=2000, description="Policy updates")
    pairs: int = Field(5000, ge=10, le=20000, description="Labelled pairs of sentences "
                       "drawn from π_ref")
    noise: float = Field(0.0, ge=0.0, le=0.5, description="Chance that a label is flipped "
                         "after the annotator chose", json_schema_extra=control(step=0.05))


REF, STAR, POLICY = "#9ca3af", "#2a9d47", "#4f46e5"
RULE_COLOUR, LEARNED = "#d97706", "#4f46e5"
DASHED = {"dash": "dash"}
SENTENCE_AXIS = category_axis(LABELS, max_chars=None, autorange="reversed")
BAR_HEIGHT = 560


def sentence_bars(name: str, values: list[float], colour: str, **style) -> dict:
    return bars(name, values, LABELS, orientation="h", marker={"color": colour},
                hovertemplate="%{y}: %{x:.3f}<extra>" + name + "</extra>", **style)


def probability_figure(pi_ref: torch.Tensor, star: torch.Tensor, pi: torch.Tensor) -> dict:
    top = float(torch.stack([pi_ref, star, pi]).max())
    return figure([sentence_bars("π_ref", pi_ref.tolist(), REF),
                   sentence_bars("π* (the optimum)", star.tolist(), STAR),
                   sentence_bars("π (trained)", pi.tolist(), POLICY)],
                  layout(x={"range": [0, max(0.3, top * 1.05)]}))


def reward_figure(rule: torch.Tensor, learned: torch.Tensor, name: str) -> dict:
    return figure([sentence_bars("the rule's reward", rule.tolist(), RULE_COLOUR),
                   sentence_bars(name, learned.tolist(), LEARNED)])


CHARTS = [
    bar_chart("probabilities", "Each sentence's probability: π_ref, the optimum π*, the "
              "trained π", x_title="probability", y=SENTENCE_AXIS, height=BAR_HEIGHT,
              series=[sentence_bars("π_ref", [], REF),
                      sentence_bars("π* (the optimum)", [], STAR),
                      sentence_bars("π (trained)", [], POLICY)],
              summary="Three bars per sentence: its probability under the reference "
              "policy (grey), under the exact optimum of the KL-regularised objective "
              "(green) and under the policy being trained (indigo)."),
    bar_chart("rewards", "The rule's reward and the learned one (centred)",
              x_title="reward (mean 0 under π_ref)", y=SENTENCE_AXIS, height=BAR_HEIGHT,
              series=[sentence_bars("the rule's reward", [], RULE_COLOUR),
                      sentence_bars("learned reward", [], LEARNED)],
              summary="Two bars per sentence: the hidden rule's reward and the reward the "
              "method learned (DPO: the implicit reward β·log(π/π_ref); RLHF: the reward "
              "model), both shifted to mean 0 under π_ref, since only differences count."),
    line_chart("loss", "Training loss", x_title="policy update",
               y_title="loss", integer_x=True,
               lines=[line("loss"), line("lowest it can reach", line=DASHED)],
               summary="DPO: the DPO loss over all pairs, in nats; its floor is the lowest "
               "loss any reward reaches on these pairs. RLHF: minus the KL-regularised "
               "objective under the reward model, in reward units; its floor is −β·log Z."),
    line_chart("accuracy", "Preference accuracy of the implicit reward",
               x_title="policy update", y_title="pairs ranked as labelled",
               integer_x=True, y={"range": [0.45, 1.0]},
               lines=[line("implicit reward β·log(π/π_ref)"),
                      line("the rule's own reward", line={**DASHED, "color": RULE_COLOUR})],
               summary="The fraction of the labelled pairs whose chosen sentence the policy's "
               "implicit reward ranks higher (ties count half). Dashed: the same for the "
               "rule's own reward, which label noise and Bradley–Terry's coin flips keep "
               "below 1."),
    line_chart("distances", "How far the policy has moved", x_title="policy update",
               y_title="nats (KL) · probability (TV)", integer_x=True,
               lines=[line("KL(π ‖ π_ref)", line={"color": POLICY}),
                      line("TV(π, π*)", line={"color": STAR}),
                      line("KL(π* ‖ π_ref)", line={**DASHED, "color": POLICY})],
               summary="KL divergence of the policy from the reference, in nats, with the "
               "optimum's own KL dashed; and the total-variation distance from the policy to "
               "the optimum, which should fall towards 0."),
]


def policy_frame(step: PolicyStep, params: Params, pairs: Pairs, pi_ref: torch.Tensor,
                 star: torch.Tensor, rewards: tuple[torch.Tensor, torch.Tensor]
                 ) -> tuple[dict, dict]:
    """The probability bars and the numbers of the policy after ``step``; ``rewards`` are
    the rule's and the reward model's, both centred (0 under pi_ref)."""
    pi = step.log_pi.exp()
    rule, model = rewards
    numbers = {
        "loss": step.loss,
        # What the policy gained over pi_ref: truly (the rule), and as the reward model sees it.
        "reward_gain": float((pi * rule).sum()),
        "reward_model_gain": float((pi * model).sum()),
        "preference_accuracy": preference_accuracy(
            implicit_reward(step.log_pi, pi_ref, params.beta), pairs),
        "kl_to_reference": kl_divergence(pi, pi_ref),
        "tv_to_optimum": total_variation(pi, star),
    }
    return probability_figure(pi_ref, star, pi), numbers


def run(params: Params, ctx: RunContext) -> RunGenerator:
    generator = torch.Generator().manual_seed(params.seed)
    pi_ref = reference_policy()
    reward = rule_reward(params.rule)
    star = optimal_policy(pi_ref, reward, params.beta)
    star_kl = kl_divergence(star, pi_ref)
    pairs = sample_pairs(pi_ref, reward, params.pairs, params.noise, generator)
    rule_accuracy = preference_accuracy(reward, pairs)
    rule_centred = centred(reward, pi_ref)
    learned_name = ("implicit reward β·log(π/π_ref)" if params.method == "dpo"
                    else "reward model r̂")
    # Before any learning: pi = pi_ref, every implicit reward 0 (all pairs tied).
    yield make_frame(0, 0.0, {
        "probabilities": probability_figure(pi_ref, star, pi_ref),
        "rewards": reward_figure(rule_centred, torch.zeros_like(reward), learned_name),
        "accuracy": extend([0, 1], [[0], [0]], [[0.5], [rule_accuracy]]),
        "distances": extend([0, 1, 2], [[0]] * 3,
                            [[0.0], [total_variation(pi_ref, star)], [star_kl]]),
    }, {"tv_to_optimum": total_variation(pi_ref, star), "kl_to_reference": 0.0,
        # What the best policy gains, to read the "reward gain (true)" chip against.
        "optimum_reward_gain": float((star * rule_centred).sum())})

    # The Bradley–Terry fit: RLHF's reward model, and for DPO the lowest loss it can reach
    # (the implicit reward can be any reward, so DPO's minimum is the fit's minimum).
    reward_model, floor = torch.zeros_like(reward), float("nan")
    for fit in fit_reward_model(pairs, pi_ref, REWARD_MODEL_STEPS):
        reward_model, floor = fit.reward, fit.loss
        if ctx.should_stop():
            break
    reward_model_accuracy = preference_accuracy(reward_model, pairs)
    if params.method == "dpo":
        updates = train_dpo(pairs, pi_ref, params.beta, params.steps, params.learning_rate)
    else:
        floor = minimum_kl_regularised_loss(pi_ref, reward_model, params.beta)
        updates = train_rlhf(reward_model, pi_ref, params.beta, params.steps,
                             params.learning_rate, generator)
        yield make_frame(0, 0.02, {"rewards": reward_figure(rule_centred, reward_model,
                                                            learned_name)},
                         {"reward_model_accuracy": reward_model_accuracy})

    xs: list[int] = []
    losses: list[float] = []
    step = PolicyStep(0, float("nan"), torch.log(pi_ref))
    numbers: dict = {}
    for step in updates:
        xs.append(step.step)
        losses.append(step.loss)
        last = step.step == params.steps
        stopping = ctx.should_stop()
        if step.step % REPORT_EVERY and not (last or stopping):
            continue
        bars_op, numbers = policy_frame(step, params, pairs, pi_ref, star,
                                        (rule_centred, reward_model))
        charts = {
            "probabilities": bars_op,
            "loss": extend([0, 1], [xs, [step.step]], [losses, [floor]]),
            "accuracy": extend([0, 1], [[step.step]] * 2,
                               [[numbers["preference_accuracy"]], [rule_accuracy]]),
            "distances": extend([0, 1, 2], [[step.step]] * 3, [
                [numbers["kl_to_reference"]], [numbers["tv_to_optimum"]], [star_kl]]),
        }
        if params.method == "dpo":
            charts["rewards"] = reward_figure(
                rule_centred, centred(implicit_reward(step.log_pi, pi_ref, params.beta),
                                      pi_ref), learned_name)
        yield make_frame(step.step, step.step / params.steps, charts, numbers)
        xs, losses = [], []
        if stopping:
            break
    if not numbers:  # stopped before the first update
        _, numbers = policy_frame(step, params, pairs, pi_ref, star,
                                  (rule_centred, reward_model))
    pi = step.log_pi.exp()
    log_ratio = step.log_pi - torch.log(pi_ref)
    learned = (centred(implicit_reward(step.log_pi, pi_ref, params.beta), pi_ref)
               if params.method == "dpo" else reward_model)
    return {
        "method": params.method,
        "steps_run": step.step,
        "pairs": len(pairs),
        "tv_to_optimum": numbers["tv_to_optimum"],
        "kl_to_reference": numbers["kl_to_reference"],
        "preference_accuracy": numbers["preference_accuracy"],
        "final_loss": numbers["loss"],
        "reward_gain": numbers["reward_gain"],
        "reward_model_gain": numbers["reward_model_gain"],
        "optimum_reward_gain": float((star * rule_centred).sum()),
        "lowest_loss": floor,
        "optimum_kl_to_reference": star_kl,
        "optimum_tv_to_reference": total_variation(star, pi_ref),
        "rule_accuracy": rule_accuracy,
        "reward_model_accuracy": reward_model_accuracy,
        "flipped_labels": int(pairs.flipped.sum()),
        # mean log(pi / pi_ref) of the chosen and of the rejected sentences over the pairs
        "chosen_log_ratio": float(log_ratio[pairs.chosen].mean()),
        "rejected_log_ratio": float(log_ratio[pairs.rejected].mean()),
        "sentences": LABELS,
        "reference": pi_ref.tolist(),
        "optimum": star.tolist(),
        "policy": pi.tolist(),
        "rule_reward": rule_centred.tolist(),
        "learned_reward": learned.tolist(),
        "reward_model": reward_model.tolist(),
    }


demo = Demo(
    slug="alignment",
    title="Aligning a policy to preferences: DPO and RLHF",
    description="An annotator with a hidden taste labels pairs of sentences of a little "
    "language; a policy learns it by DPO or by a reward model and PPO, and you watch it "
    "approach the exact optimum π* ∝ π_ref·exp(r/β).",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.04,
    live=False,
    metric_labels={"tv_to_optimum": "TV(π, π*)", "kl_to_reference": "KL(π ‖ π_ref)",
                   "preference_accuracy": "preference accuracy",
                   "reward_model_accuracy": "reward model accuracy",
                   "reward_gain": "reward gain (true)",
                   "optimum_reward_gain": "reward gain of π*",
                   "reward_model_gain": "reward gain (reward model)"},
)
