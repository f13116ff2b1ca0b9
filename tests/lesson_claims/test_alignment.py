"""What lessons/alignment.md says its demos show, checked by running them.

Every test quotes its sentence first (``lesson_says``), runs the `alignment` demo with the
lesson's own fence settings plus the change the sentence asks for, and asserts the
direction or bound it states over the seeds named in its comments; the exercises are
computed with app/ml's own functions. Runs are cached within this file. A DPO run costs
about 0.25 s of CPU, an RLHF run 0.5 s; the whole file about 17 s (20 s with
imports).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from app.ml.dpo import dpo_loss, dpo_loss_gradient
from app.ml.preferences import (
    LANGUAGE,
    STRENGTH,
    TEXTS,
    fit_reward_model,
    kl_divergence,
    optimal_policy,
    reference_policy,
    rule_reward,
    sample_pairs,
)
from app.ml.rlhf import kl_regularised_objective
from tests.lesson_claims.claims import Run, fence, lesson_says, run_demo

SLUG = "alignment"
SEEDS = range(3)
_RUNS: dict[str, Run] = {}


def run(instance: str, **change) -> Run:
    """The fence ``instance``'s run with ``change``, remembered for the whole file."""
    params = {**fence(SLUG, "alignment", instance), **change}
    key = json.dumps(params, sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = run_demo("alignment", params)
    return _RUNS[key]


def the_mass(p: list[float]) -> float:
    return sum(q for text, q in zip(TEXTS, p, strict=True) if text.startswith("the "))


# ---- the setting ------------------------------------------------------------------------


def test_the_reference_says_the_38_percent_of_the_time():
    lesson_says(SLUG, "it puts 38 % of its probability on sentences that start with \"the\", "
                      "because 38 % of the sentences it read did.")
    assert the_mass(reference_policy().tolist()) == pytest.approx(0.38)
    assert len(LANGUAGE) == 15


def test_a_difference_of_two_gives_0_88():
    lesson_says(SLUG, "Equal rewards give a coin flip; a difference of 2 gives $\\sigma(2) "
                      "\\approx 0.88$.")
    assert 1 / (1 + math.exp(-STRENGTH)) == pytest.approx(0.88, abs=0.005)
    assert STRENGTH == 2
    no_the = rule_reward("without the")
    assert set(no_the.tolist()) == {0.0, 2.0}


def test_the_opening_demo_shrinks_the_the_sentences_to_the_optimum():
    lesson_says(SLUG, "Press Run: the policy (indigo) learns from 5000 pairs an annotator "
                      "labelled, and its sentences with \"the\" shrink to the exact optimum "
                      "(green). Then pick another `rule`.")
    # Seed 0 (hidden): "the" mass 0.38 -> 0.081 (optimum 0.077), TV 0.019. The other
    # rules end 0.021 (cats), 0.044 (dogs) and 0.039 (shorter) from their optima.
    first = run("first-look")
    assert first.result["method"] == "dpo" and first.result["pairs"] == 5000
    assert the_mass(first.result["policy"]) < 0.1 and first.result["tv_to_optimum"] < 0.05
    assert the_mass(first.result["policy"]) == pytest.approx(
        the_mass(first.result["optimum"]), abs=0.01)
    for rule in ("about cats", "about dogs", "shorter"):
        assert run("first-look", rule=rule).result["tv_to_optimum"] < 0.06


# ---- RLHF -------------------------------------------------------------------------------


def test_rlhf_fits_the_rule_and_ends_within_0_05_of_the_optimum():
    lesson_says(SLUG, "Run it with the defaults: the reward model matches the rule's reward "
                      "closely (every sentence within 0.25 of it, so the sentences without "
                      "\"the\" about 2 higher), and the policy ends within 0.05 of $\\pi^*$ in "
                      "total variation")
    lesson_says(SLUG, "Its KL from $\\pi_{\\text{ref}}$ ends near $\\mathrm{KL}(\\pi^* \\,\\|\\, "
                      "\\pi_{\\text{ref}})$, the dashed line.")
    # Seeds 0-2: largest error 0.18-0.24; gap 1.94-2.14; TV 0.018-0.019; KL 0.24-0.27
    # against the optimum's 0.245.
    for seed in SEEDS:
        result = run("rlhf", seed=seed).result
        model, rule = result["reward_model"], result["rule_reward"]
        assert max(abs(a - b) for a, b in zip(model, rule, strict=True)) < 0.25
        gap = sum(model[12:]) / 3 - sum(model[:12]) / 12  # the last three have no "the"
        assert gap == pytest.approx(2, abs=0.2)
        assert result["tv_to_optimum"] <= 0.05
        assert result["kl_to_reference"] == pytest.approx(result["optimum_kl_to_reference"],
                                                          abs=0.03)


def test_the_rlhf_loss_falls_onto_minus_beta_log_z():
    lesson_says(SLUG, "The loss curve is $-J(\\pi)$ under the reward model; it falls onto the "
                      "dashed line, $-\\beta \\log Z$, the lowest value any policy can reach.")
    r = run("rlhf")
    losses = [y for op in r.ops("loss") for y in op["y"][0]]
    floor = r.result["lowest_loss"]
    assert losses[0] > floor + 0.1 and losses[-1] == pytest.approx(floor, abs=1e-4)
    assert min(losses) >= floor - 1e-6
    reward_model = torch.tensor(r.result["reward_model"], dtype=torch.float64)
    pi_ref = reference_policy()
    beta = fence(SLUG, "alignment", "rlhf").get("beta", 1.0)
    star = optimal_policy(pi_ref, reward_model, beta)
    assert floor == pytest.approx(-kl_regularised_objective(star, pi_ref, reward_model, beta))


def test_preference_accuracy_ends_below_0_7_for_the_policy_and_the_rule():
    lesson_says(SLUG, "It ends below 0.7, and so does the rule's own reward (dashed)")
    lesson_says(SLUG, "even a pair with a clear favourite goes the other way 12 % of the time")
    # Seeds 0-2: policy 0.676-0.691, rule 0.669-0.685; both methods.
    for seed in SEEDS:
        for instance in ("rlhf", "dpo"):
            result = run(instance, seed=seed).result
            assert 0.6 < result["preference_accuracy"] < 0.7
            assert 0.6 < result["rule_accuracy"] < 0.7
    assert 1 - 1 / (1 + math.exp(-2)) == pytest.approx(0.12, abs=0.005)
    lesson_says(SLUG, "with few pairs a wrong reward can even score higher than the true one "
                      "(the last section's run: 0.625 against the rule's 0.577)")
    # Seeds 0-2 of the failure run: policy 0.625-0.648, rule 0.568-0.577.
    failure = run("failure").result
    assert failure["preference_accuracy"] == pytest.approx(0.625, abs=5e-4)
    assert failure["rule_accuracy"] == pytest.approx(0.577, abs=5e-4)
    for seed in SEEDS:
        result = run("failure", seed=seed).result
        assert result["preference_accuracy"] > result["rule_accuracy"] + 0.03


# ---- DPO --------------------------------------------------------------------------------


def test_dpo_and_rlhf_end_at_the_same_policy():
    lesson_says(SLUG, "on the same pairs both end at the same policy (their distances to "
                      "$\\pi^*$ agree to three decimals)")
    for seed in SEEDS:
        dpo, rlhf = run("dpo", seed=seed).result, run("rlhf", seed=seed).result
        assert dpo["tv_to_optimum"] == pytest.approx(rlhf["tv_to_optimum"], abs=5e-4)
        assert max(abs(a - b) for a, b in zip(dpo["policy"], rlhf["policy"], strict=True)) < 1e-3
    lesson_says(SLUG, "so the policy that minimises DPO's loss is exactly the optimum "
                      "$\\pi_{\\text{ref}}\\, e^{r_\\phi/\\beta} / Z$ of RLHF's reward model.")
    # Seeds 0-2: DPO's policy within 1e-7 of pi_ref exp(r_hat / beta) / Z.
    for seed in SEEDS:
        dpo = run("dpo", seed=seed).result
        target = optimal_policy(reference_policy(),
                                torch.tensor(dpo["reward_model"], dtype=torch.float64), 1.0)
        assert max(abs(a - b) for a, b in zip(dpo["policy"], target.tolist(), strict=True)) < 1e-5


def test_the_implicit_reward_grows_from_zero_towards_the_rule():
    lesson_says(SLUG, "The second chart now shows the implicit reward itself, growing from "
                      "zero towards the rule's reward as training goes on.")
    r = run("dpo")
    ops = r.ops("rewards")
    assert ops[0]["data"][1]["x"] == [0.0] * 15
    rule = ops[0]["data"][0]["x"]
    errors = [max(abs(a - b) for a, b in zip(op["data"][1]["x"], rule, strict=True))
              for op in ops]
    assert errors[0] == pytest.approx(2 * 0.62, abs=0.01)  # 0 against "the" ones: -2 * 0.62
    # Seed 0: 1.24, then falling frame by frame to 0.18 (converged by half-way).
    assert errors[-1] < 0.25 and errors[3] < errors[2] < errors[1] < errors[0]


def test_beta_half_and_two_move_the_optimum_and_the_policy_follows():
    lesson_says(SLUG, "Move `beta` to 0.5 and then to 2: the green optimum moves (at 0.5 the "
                      "\"the\" sentences nearly vanish; at 2 they keep about half their "
                      "probability), and the policy follows it to within 0.05 both times. The "
                      "final KL from $\\pi_{\\text{ref}}$ falls as $\\beta$ grows.")
    # Seed 0: "the" mass 0.011 at beta 0.5, 0.184 at 2 (of 0.38); TV 0.035 and 0.011.
    low, mid, high = (run("dpo", beta=b).result for b in (0.5, 1.0, 2.0))
    assert the_mass(low["optimum"]) < 0.02
    assert the_mass(high["optimum"]) / 0.38 == pytest.approx(0.5, abs=0.05)
    assert low["tv_to_optimum"] <= 0.05 and high["tv_to_optimum"] <= 0.05
    assert low["kl_to_reference"] > mid["kl_to_reference"] > high["kl_to_reference"]


def test_shorter_differs_by_one_per_word():
    lesson_says(SLUG, "Try the rule `shorter`: every pair of a three-word and a four-word "
                      "sentence now has a reward difference of 1, a weaker preference than the "
                      "others' 2.")
    rewards = dict(zip(TEXTS, rule_reward("shorter").tolist(), strict=True))
    assert {len(t.split()) - 1 for t in TEXTS} == {3, 4}
    for text, reward in rewards.items():
        assert reward == -(len(text.split()) - 1)
    result = run("dpo", rule="shorter").result  # runs, and moves towards the short ones
    assert result["reward_gain"] > 0
    lesson_says(SLUG, "The optimum moves less far: the two four-word sentences keep 16 % of the "
                      "probability (from 34 %), and $\\mathrm{KL}(\\pi^* \\,\\|\\, "
                      "\\pi_{\\text{ref}})$, the dashed line, is 0.08 instead of 0.25.")
    # Seed 0: four-word mass 0.340 -> 0.159; optimum KL 0.083 (without the: 0.245).
    def four_words(p: list[float]) -> float:
        return sum(q for text, q in zip(TEXTS, p, strict=True) if len(text.split()) == 5)

    assert four_words(result["reference"]) == pytest.approx(0.34, abs=0.005)
    assert four_words(result["optimum"]) == pytest.approx(0.16, abs=0.005)
    assert result["optimum_kl_to_reference"] == pytest.approx(0.08, abs=0.005)
    assert run("dpo").result["optimum_kl_to_reference"] == pytest.approx(0.25, abs=0.01)


# ---- failure modes ----------------------------------------------------------------------


def test_the_failure_instance_has_rare_dogs_that_the_optimum_takes():
    lesson_says(SLUG, "Three dog sentences have 3 % of the reference's probability each, so "
                      "among 300 pairs each appears only about 19 times")
    lesson_says(SLUG, "With $\\beta = 0.25$ the optimum puts almost all its probability "
                      "(99.7 %) on them.")
    settings = fence(SLUG, "alignment", "failure")
    assert (settings["rule"], settings["pairs"], settings["beta"]) == ("about dogs", 300, 0.25)
    dogs = [p for t, p in LANGUAGE.items() if "dog" in t]
    assert len(dogs) == 3 and all(p == pytest.approx(0.0317, abs=5e-4) for p in dogs)
    assert 300 * 2 * dogs[0] == pytest.approx(19, abs=0.5)
    result = run("failure").result
    dog_mass = sum(p for t, p in zip(TEXTS, result["optimum"], strict=True) if "dog" in t)
    assert dog_mass == pytest.approx(0.997, abs=5e-4)


def test_the_reward_model_promises_more_than_the_policy_gets():
    lesson_says(SLUG, "The reward model promises more than the policy gets")
    lesson_says(SLUG, "The policy ends far from $\\pi^*$ (a total variation above 0.2).")
    lesson_says(SLUG, "Back on `dpo`, raise `pairs` to 5000: the two gains agree to within 0.1 "
                      "and the distance to $\\pi^*$ shrinks — though not to the defaults' 0.02.")
    # Seeds 0-2, 300 pairs: believed gain 2.28-4.45 against a true 1.73-1.80; TV 0.25-0.34.
    # 5000 pairs: gains within 0.09 of each other, TV 0.07-0.17.
    for seed in SEEDS:
        few, many = run("failure", seed=seed).result, run("failure", seed=seed, pairs=5000).result
        assert few["reward_model_gain"] > few["reward_gain"] + 0.3
        assert few["tv_to_optimum"] > 0.2
        assert abs(many["reward_model_gain"] - many["reward_gain"]) < 0.1
        assert 0.05 < many["tv_to_optimum"] < few["tv_to_optimum"]


def test_the_distance_to_the_optimum_falls_then_rises_and_rlhf_goes_further():
    lesson_says(SLUG, "Watch the green line, the distance to $\\pi^*$: it falls to its lowest "
                      "near update 90, then rises again while the loss goes on falling.")
    lesson_says(SLUG, "Switch `method` to `rlhf`: PPO goes all the way to the learned reward's "
                      "optimum and ends more than 0.5 from $\\pi^*$.")
    # Seeds 0-2, DPO: lowest TV 0.085, 0.248, 0.149 at updates 95, 90, 90; final 0.252,
    # 0.318, 0.336. RLHF: final 0.61-0.67, and the policy is within 0.01 of
    # pi_ref exp(r_hat / beta) / Z for the reward model r_hat.
    for seed in SEEDS:
        r = run("failure", seed=seed)
        tv = [y for op in r.ops("distances") for y in op["y"][1]]
        steps = [x for op in r.ops("distances") for x in op["x"][1]]
        losses = dict(zip([x for op in r.ops("loss") for x in op["x"][0]],
                          [y for op in r.ops("loss") for y in op["y"][0]], strict=True))
        lowest = min(range(len(tv)), key=tv.__getitem__)
        assert 80 <= steps[lowest] <= 110
        assert tv[-1] > tv[lowest] + 0.05
        assert losses[steps[-1]] < losses[steps[lowest]]
        rlhf = run("failure", seed=seed, method="rlhf").result
        assert rlhf["tv_to_optimum"] > 0.5
        target = optimal_policy(reference_policy(), torch.tensor(rlhf["reward_model"]), 0.25)
        assert sum(abs(a - b) for a, b in zip(rlhf["policy"], target.tolist(),
                                              strict=True)) / 2 < 0.01


def test_over_optimisation_costs_variety_not_true_reward():
    lesson_says(SLUG, "The true reward gain never falls: it climbs to within 0.1 of the "
                      "optimum's 1.80, since every dog sentence earns the same reward.")
    lesson_says(SLUG, "policy piles onto the one the few pairs overrated (\"the dog sat\" at "
                      "58 % with seed 0; RLHF puts over 90 % on a single sentence).")
    # Seeds 0-2, DPO: true gain rising to 1.73-1.80 (optimum 1.804); its largest dog
    # sentence 0.58, 0.61, 0.65. RLHF: 0.998, 0.944, 0.987.
    dogs = [i for i, text in enumerate(TEXTS) if "dog" in text]
    for seed in SEEDS:
        r = run("failure", seed=seed)
        gains = [f["metrics"]["reward_gain"] for f in r.frames if "reward_gain" in f["metrics"]]
        assert all(b >= a - 1e-6 for a, b in zip(gains, gains[1:], strict=False))
        assert r.result["optimum_reward_gain"] == pytest.approx(1.80, abs=0.005)
        assert gains[-1] > r.result["optimum_reward_gain"] - 0.1
        assert [r.result["optimum"][i] for i in dogs] == pytest.approx([0.997 / 3] * 3,
                                                                        abs=1e-3)
        assert max(r.result["policy"][i] for i in dogs) > 0.55
        assert max(run("failure", seed=seed, method="rlhf").result["policy"]) > 0.9
    seed0 = run("failure").result["policy"]
    assert seed0[TEXTS.index("the dog sat .")] == pytest.approx(0.58, abs=0.005)
    assert max(seed0) == seed0[TEXTS.index("the dog sat .")]


def test_chosen_and_rejected_likelihoods_both_fall():
    lesson_says(SLUG, "so the average log-probability of the chosen sentences falls (by more "
                      "than 3 nats against $\\pi_{\\text{ref}}$, see `chosen_log_ratio` in the "
                      "run's result), only less than that of the rejected ones.")
    lesson_says(SLUG, "fewer than one chosen sentence in five is a dog sentence (most pairs "
                      "hold none)")
    lesson_says(SLUG, "That is not a bug here: $\\pi^*$ itself does the same (its chosen "
                      "sentences average more than 4 nats below $\\pi_{\\text{ref}}$)")
    # Seeds 0-2: chosen -3.2 to -4.5, rejected -4.4 to -5.9; under pi* chosen -4.21 to
    # -4.32, rejected -5.33 to -5.44; dog sentences 17-18 % of the chosen.
    settings = fence(SLUG, "alignment", "failure")
    pi_ref, reward = reference_policy(), rule_reward(settings["rule"])
    dog = torch.tensor(["dog" in text for text in TEXTS])
    for seed in SEEDS:
        result = run("failure", seed=seed).result
        assert result["chosen_log_ratio"] < -3
        assert result["rejected_log_ratio"] < result["chosen_log_ratio"]
        # The run's own pairs (the demo draws them first from its seeded generator).
        pairs = sample_pairs(pi_ref, reward, settings["pairs"], 0.0,
                             torch.Generator().manual_seed(seed))
        policy_ratio = torch.tensor(result["policy"], dtype=torch.float64).log() - pi_ref.log()
        assert float(policy_ratio[pairs.chosen].mean()) == pytest.approx(
            result["chosen_log_ratio"])
        assert float(dog[pairs.chosen].double().mean()) < 0.2
        assert float((dog[pairs.chosen] | dog[pairs.rejected]).double().mean()) < 0.5
        optimum_ratio = torch.tensor(result["optimum"], dtype=torch.float64).log() - pi_ref.log()
        assert float(optimum_ratio[pairs.chosen].mean()) < -4
        assert float(optimum_ratio[pairs.rejected].mean()) < float(
            optimum_ratio[pairs.chosen].mean())


def test_label_noise_halves_the_reward_and_the_policy_moves_less():
    lesson_says(SLUG, "the annotator's 88 % preference shrinks to 73 %, and Bradley–Terry "
                      "reads that as a reward difference of about 1 instead of 2")
    lesson_says(SLUG, "its KL from $\\pi_{\\text{ref}}$ ends below 0.12, while $\\pi^*$'s is "
                      "0.25. Both methods are equally affected")
    # Seeds 0-2: reward-model gap 0.96-1.04; KL 0.085-0.102 (the optimum's 0.245).
    for seed in SEEDS:
        dpo = run("dpo", seed=seed, noise=0.2).result
        rlhf = run("rlhf", seed=seed, noise=0.2).result
        model = dpo["reward_model"]
        assert sum(model[12:]) / 3 - sum(model[:12]) / 12 == pytest.approx(1, abs=0.15)
        assert dpo["kl_to_reference"] < 0.12
        assert dpo["optimum_kl_to_reference"] == pytest.approx(0.25, abs=0.01)
        assert rlhf["kl_to_reference"] == pytest.approx(dpo["kl_to_reference"], abs=1e-3)
        assert dpo["flipped_labels"] == pytest.approx(1000, abs=60)
    p = 0.8 / (1 + math.exp(-2)) + 0.2 * (1 - 1 / (1 + math.exp(-2)))
    assert p == pytest.approx(0.73, abs=0.005)


# ---- exercises --------------------------------------------------------------------------


def test_the_optimum_by_hand():
    lesson_says(SLUG, "$Z \\approx 2.278$, so $\\pi^* \\approx (0.351, 0.649)$.")
    lesson_says(SLUG, "$Z \\approx 1.344$, $\\pi^* \\approx (0.595, 0.405)$.")
    lesson_says(SLUG, "The value at $\\beta = 1$ is $\\log 2.278 \\approx 0.823$.")
    lesson_says(SLUG, "$\\mathrm{KL} = 0.351 \\log(0.351/0.8) + 0.649 \\log(0.649/0.2) "
                      "\\approx 0.4744$, and $1.2976 - 0.4744 = 0.8232$.")
    pi_ref = torch.tensor([0.8, 0.2], dtype=torch.float64)
    reward = torch.tensor([0.0, 2.0], dtype=torch.float64)
    one, two = optimal_policy(pi_ref, reward, 1.0), optimal_policy(pi_ref, reward, 2.0)
    assert one.tolist() == pytest.approx([0.351, 0.649], abs=5e-4)
    assert two.tolist() == pytest.approx([0.595, 0.405], abs=5e-4)
    assert kl_regularised_objective(one, pi_ref, reward, 1.0) == pytest.approx(
        math.log(2.278), abs=5e-4)
    assert kl_divergence(one, pi_ref) == pytest.approx(0.4744, abs=5e-5)
    assert float((one * reward).sum()) == pytest.approx(1.2976, abs=5e-5)
    assert kl_regularised_objective(one, pi_ref, reward, 1.0) == pytest.approx(0.8232, abs=5e-5)


def test_rewards_from_win_rates():
    lesson_says(SLUG, "$\\sigma(r_A - r_B) = 0.88$ gives $r_A - r_B = \\log(0.88/0.12) "
                      "\\approx 1.99$")
    assert math.log(0.88 / 0.12) == pytest.approx(1.99, abs=0.005)
    # A Bradley–Terry fit of exactly those win rates (A beats B 88 of 100, B and C 50/50,
    # and no A-C pairs) puts A about 1.99 above B and C.
    chosen = [0] * 88 + [1] * 12 + [1] * 50 + [2] * 50
    rejected = [1] * 88 + [0] * 12 + [2] * 50 + [1] * 50
    from app.ml.preferences import Pairs
    pairs = Pairs(torch.tensor(chosen), torch.tensor(rejected), torch.zeros(200, dtype=bool))
    uniform = torch.full((3,), 1 / 3, dtype=torch.float64)
    reward = list(fit_reward_model(pairs, uniform, steps=500))[-1].reward
    assert float(reward[0] - reward[1]) == pytest.approx(1.99, abs=0.02)
    assert float(reward[0] - reward[2]) == pytest.approx(1.99, abs=0.02)


def test_noise_shrinks_the_reward_exercise():
    lesson_says(SLUG, "$p = (1 - \\varepsilon)\\,\\sigma(2) + \\varepsilon\\,(1 - \\sigma(2)) = "
                      "0.8 \\times 0.8808 + 0.2 \\times 0.1192 \\approx 0.728$. The fit reports "
                      "$\\log(p / (1 - p)) \\approx 0.99$")
    s = 1 / (1 + math.exp(-2))
    p = 0.8 * s + 0.2 * (1 - s)
    assert p == pytest.approx(0.728, abs=1e-3)
    assert math.log(p / (1 - p)) == pytest.approx(0.99, abs=0.005)
    # With epsilon = 0.5 the fit of many noisy labels finds no difference.
    reward = rule_reward("without the")
    pairs = sample_pairs(reference_policy(), reward, 20_000, 0.5, torch.Generator().manual_seed(0))
    fit = list(fit_reward_model(pairs, reference_policy()))[-1].reward
    assert float(fit.abs().max()) < 0.2


def test_the_first_dpo_step():
    lesson_says(SLUG, "so each pair's loss is $-\\log \\sigma(0) = \\log 2 \\approx 0.693$ — "
                      "whatever $\\beta$. The gradient weight is $\\beta\\,\\sigma(0) = \\beta/2$ "
                      "for every pair")
    log_ref = reference_policy().log()
    chosen, rejected = log_ref[[0, 3, 14]], log_ref[[1, 12, 2]]
    for beta in (0.1, 1.0, 4.0):
        assert float(dpo_loss(chosen, rejected, chosen, rejected, beta)) == pytest.approx(
            math.log(2))
        g_w, g_l = dpo_loss_gradient(chosen, rejected, chosen, rejected, beta)
        assert (g_w * 3).tolist() == pytest.approx([-beta / 2] * 3)  # mean over 3 pairs
        assert (g_l * 3).tolist() == pytest.approx([beta / 2] * 3)


# ---- the closing note -------------------------------------------------------------------


def test_the_measured_note():
    lesson_says(SLUG, "DPO: total variation to $\\pi^*$ 0.035, 0.019 and 0.011 at $\\beta = "
                      "0.5, 1, 2$, with KL from $\\pi_{\\text{ref}}$ 0.419, 0.237 and 0.087 (the "
                      "optimum's: 0.422, 0.245 and 0.091)")
    lesson_says(SLUG, "RLHF: the same distances and KLs to three decimals")
    lesson_says(SLUG, "one frame every 5 updates.")
    expected = {0.5: (0.035, 0.419, 0.422), 1.0: (0.019, 0.237, 0.245),
                2.0: (0.011, 0.087, 0.091)}
    for beta, (tv, kl, optimum_kl) in expected.items():
        for instance in ("dpo", "rlhf"):
            result = run(instance, beta=beta).result
            assert result["tv_to_optimum"] == pytest.approx(tv, abs=5e-4)
            assert result["kl_to_reference"] == pytest.approx(kl, abs=5e-4)
            assert result["optimum_kl_to_reference"] == pytest.approx(optimum_kl, abs=5e-4)
    steps = [f["step"] for f in run("dpo").frames if "loss" in f["charts"]]
    assert steps == list(range(5, 301, 5))
