"""What lessons/seq2seq.md says its demos show, checked by running them.

Every test quotes its sentence first (``lesson_says``), runs the seq2seq demo with the
lesson's own fence settings plus the change the sentence asks for, and asserts what it
states over the seeds named in its docstring. Runs are remembered within this file, and
the demo itself keeps trained models by training settings, so a changed ``source`` or
``decoding`` re-uses a training. Cost on one thread: three default dates runs (about 4–5 s
of CPU each), nine 150-step numbers runs (about 1.3 s each) and one 400-step numbers run
(about 3.5 s): some 30 s of training, about 45 s of CPU for the file with its imports.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sacrebleu
import torch

from app.demos import registry
from app.demos.seq2seq import EVAL_EVERY, TRAINED
from app.ml.bleu import corpus_bleu
from app.ml.seq2seq_training import TrainConfig, Trained
from app.ml.translation_data import (
    HELD_OUT_SHARE,
    date_example,
    example_of,
    held_out_examples,
    to_tensors,
)
from app.params import parse_params
from tests.lesson_claims.claims import Run, fence, lesson_says, run_demo

SLUG = "seq2seq"
SEEDS = (0, 1, 2)
_RUNS: dict[str, Run] = {}
_TRAINED: dict[tuple, Trained] = {}  # each training of this file, by its training key


def run(instance: str, **change) -> Run:
    """The demo with the fence ``instance``'s presets and ``change``, run once per file.

    A run that trains starts from an empty model cache (another test file may have
    trained the same settings in this process, and a re-used model streams no training);
    a run that changes only ``source`` or ``decoding`` gets its training put back first.
    """
    params = {"seed": 0, **fence(SLUG, "seq2seq", instance), **change}
    key = json.dumps(params, sort_keys=True)
    if key not in _RUNS:
        training = parse_params(registry()["seq2seq"], params).training_key()
        if training in _TRAINED:
            TRAINED.keep(training, _TRAINED[training])
        else:
            TRAINED.clear()
        _RUNS[key] = run_demo("seq2seq", params)
        _TRAINED.setdefault(training, TRAINED.get(training))
    return _RUNS[key]


def evaluations(r: Run) -> list[tuple[int, float, float]]:
    """(step, exact match, BLEU) of every held-out evaluation the run streamed."""
    return [(f["metrics"]["step"], f["metrics"]["exact_match"], f["metrics"]["bleu"])
            for f in r.frames if {"step", "exact_match"} <= f["metrics"].keys()]


def maps_of(op: dict) -> list[list[list[float]]]:
    """The heatmaps' weights of an attention figure, rows back in output order."""
    return [trace["z"] for trace in op["data"]]


# ---- the dates demo -----------------------------------------------------------------------


def test_the_demo_trains_as_the_lesson_describes_it():
    lesson_says(SLUG, "The demo trains a one-layer encoder and a one-layer decoder ($d = 32$, "
                      "two heads) on batches of 64 random dates from 1900 to 2099. One date "
                      "in ten is held out and never trained on; every 25 steps 256 of those "
                      "are translated with greedy decoding")
    config = TrainConfig()
    assert (config.layers, config.d_model, config.heads, config.batch) == (1, 32, 2, 64)
    assert HELD_OUT_SHARE == 10 and EVAL_EVERY == 25
    assert len(held_out_examples("dates")) == 256
    steps = [step for step, _, _ in evaluations(run("translate"))]
    assert steps == list(range(0, 401, 25))


def test_rows_spread_at_step_0_and_end_on_the_aligned_characters():
    """Seeds 0–2. Measured weight inside the aligned boxes at the end: 0.68, 0.57, 0.54;
    at step 0 no row of any head puts more than half its weight on one character."""
    lesson_says(SLUG, "At step 0 every row spreads its weight over the whole input.")
    lesson_says(SLUG, "By step 200 most rows have sorted themselves out, and by the end all of "
                      "them: the day's digits look at characters 9–10, the month's name at the "
                      "month's two digits, each year digit at its own character")
    lesson_says(SLUG, "On seed 1 the row of the year's second digit, `0`, settles instead on "
                      "the hyphen after the year, three characters from its own")
    lesson_says(SLUG, "At the end the rows of the probe put between 0.5 and 0.7 of their "
                      "weight inside the dotted boxes (seeds 0, 1 and 2; the chip weight on "
                      "the aligned input averages over rows and heads), where a row spread "
                      "evenly would put about 0.11 there.")
    probe = date_example(date(2026, 11, 29))
    uniform = sum(end - start for start, end in probe.spans) / len(probe.spans) / 10
    assert uniform == pytest.approx(0.11, abs=0.005)
    for seed in SEEDS:
        r = run("translate", seed=seed)
        first = maps_of(r.ops("attention")[0])
        assert max(max(row) for panel in first for row in panel) < 0.5
        assert r.result["output"] == " ".join(probe.target)
        assert 0.5 <= r.result["alignment"] <= 0.7
        assert r.metric("alignment")[-1] == pytest.approx(r.result["alignment"], rel=1e-5)
        # Each kind of row, averaged over heads, puts its largest share where the lesson says.
        # Each row, averaged over heads, puts its largest weight inside its box; on seed 1
        # the second year digit's row (row 4) on the hyphen (character 5, index 4).
        # Step 200: at least 5 of the 7 rows, averaged over heads, peak inside their box
        # (measured 6, 5, 6 on seeds 0, 1, 2; every row of seed 0 by the end).
        at_200 = [f["charts"]["attention"] for f in r.frames
                  if f["metrics"].get("step") == 200 and "attention" in f["charts"]]
        panels = maps_of(at_200[0])
        inside = 0
        for row, (start, end) in enumerate(probe.spans):
            mean = [sum(p[row][c] for p in panels) / len(panels) for c in range(10)]
            inside += start <= max(range(10), key=mean.__getitem__) < end
        assert inside >= 5, (seed, inside)
        heads = r.result["cross_attention"][-1]
        for row, (start, end) in enumerate(probe.spans):
            mean = [sum(h[row][c] for h in heads) / len(heads) for c in range(10)]
            best = max(range(10), key=mean.__getitem__)
            if (seed, row) == (1, 4):
                assert probe.target[row] == "0" and (start, best) == (1, 4)
                assert probe.source[best] == "-"
            else:
                assert start <= best < end, (seed, row, mean)


def test_bleu_runs_ahead_of_exact_match_which_passes_90_percent_at_step_175():
    """Seeds 0–2. At step 100: BLEU 72.5, 75.9, 57.5; exact match 0.42, 0.48, 0.16. Exact
    match first ≥ 0.9 at step 175 on each; final 1.0, 1.0, 0.9766."""
    lesson_says(SLUG, "At step 100 BLEU is already above 50 while fewer than half of the "
                      "held-out dates are exactly right")
    lesson_says(SLUG, "With the defaults, exact match passes 90 % at step 175 and ends at "
                      "97 % or more.")
    lesson_says(SLUG, "exact match passes 90 % at step 175 on seeds 0, 1 and 2 and ends at "
                      "97.6 % or more")
    for seed in SEEDS:
        r = run("translate", seed=seed)
        scores = {step: (exact, bleu) for step, exact, bleu in evaluations(r)}
        assert scores[100][1] > 50 and scores[100][0] < 0.5
        assert min(step for step, (exact, _) in scores.items() if exact >= 0.9) == 175
        assert r.result["exact_match"] >= 0.976
        assert 0 <= r.result["bleu"] <= 100  # the 0–100 scale the lesson states


def test_the_measured_note_seed_0_reaches_100_percent():
    lesson_says(SLUG, "With the defaults (dates, seed 0) the held-out exact match is 100 % and "
                      "BLEU 100 after 400 steps")
    r = run("translate")
    assert r.result["steps_run"] == 400
    assert r.result["exact_match"] == 1.0 and r.result["bleu"] == pytest.approx(100)
    # The first frame is the untrained model's evaluation, before any training step.
    assert r.frames[0]["step"] == 0 and "attention" in r.frames[0]["charts"]


def test_a_typed_date_reuses_the_model_and_a_missing_day_is_translated_anyway():
    lesson_says(SLUG, "Type `1999-01-05` into `source` and run again. The chip says the model "
                      "was re-used")
    lesson_says(SLUG, "The model writes `30 February 2026` without hesitation")
    lesson_says(SLUG, "(the chips print the output token by token:\n  `5 January 1 9 9 9`)")
    for seed in SEEDS:
        run("translate", seed=seed)  # trained and kept
        typed = run("translate", seed=seed, source="1999-01-05")
        assert typed.metric("model")[-1].startswith("re-used")
        assert "step" not in typed.frames[0]["metrics"]  # no training frames at all
        assert typed.result["output"] == "5 January 1 9 9 9" == typed.result["reference"]
        assert typed.metric("output")[-1] == "5 January 1 9 9 9"
        missing = run("translate", seed=seed, source="2026-02-30")
        assert missing.result["output"] == "3 0 February 2 0 2 6"
        assert missing.result["reference"] is None and missing.result["alignment"] is None
        assert missing.metric("reference")[-1].startswith("none")


def test_beam_search_changes_exact_match_by_at_most_about_one_point():
    """Seeds 0–2, width 3: 1.0 → 1.0, 1.0 → 1.0, 0.977 → 0.988."""
    lesson_says(SLUG, "beam search changes the exact match by at most about one point")
    for seed in SEEDS:
        greedy = run("translate", seed=seed).result
        beam = run("translate", seed=seed, decoding="beam").result
        assert beam["decoding"] == "beam"
        assert abs(beam["exact_match"] - greedy["exact_match"]) <= 0.015


def test_numbers_align_digit_by_digit_and_seventeen_reads_both_digits():
    """Seed 0: weight on the aligned digits 0.72; the 'seventeen' row, averaged over heads,
    puts 0.9 or more on its two digits."""
    lesson_says(SLUG, "Choose `task: numbers` and run. Most rows look at the digits they "
                      "say — the chip reads about 0.7 — and *seventeen* looks at both of its "
                      "digits.")
    r = run("translate", task="numbers")
    assert r.result["output"] == "four thousand five hundred seventeen"
    assert r.result["alignment"] == pytest.approx(0.7, abs=0.05)
    heads = r.result["cross_attention"][-1]
    row = r.result["output"].split().index("seventeen")
    assert sum(h[row][2] + h[row][3] for h in heads) / len(heads) >= 0.9


def test_a_fully_trained_model_makes_too_few_mistakes_to_show_a_gap():
    """Numbers, seed 0: gap 0.039 after 150 steps, 0.0006 after the default 400."""
    lesson_says(SLUG, "stopped after 150 steps, while the model still\nmakes mistakes (a fully "
                      "trained model makes too few to show a gap)")
    trained = run("translate", task="numbers")
    assert trained.result["steps_run"] == 400
    assert gap(trained) < 0.005 < gap(run("exposure"))


# ---- exposure bias -------------------------------------------------------------------------


def gap(r: Run) -> float:
    return r.result["teacher_forced_accuracy"] - r.result["free_running_accuracy"]


def test_lowering_the_teacher_forcing_ratio_narrows_the_exposure_gap():
    """Numbers, 150 steps, seeds 0–2. Gap at ratio 1: 0.039, 0.013, 0.044 (mean 0.032); at
    0.5: 0.011, 0.007, 0.021 (mean 0.013). Exact match at 1: 0.816, 0.871, 0.801; at 0.5:
    0.898, 0.871, 0.848; at 0: 0.672, 0.785, 0.672."""
    lesson_says(SLUG, "With a ratio of 1 the free-running accuracy ends between 1 and 5 points "
                      "below the teacher-forced one (seeds 0, 1 and 2; about 3.2 points on "
                      "average).")
    lesson_says(SLUG, "Lower the ratio to 0.5. On each of those seeds the gap narrows, to less "
                      "than half on average (about 1.3 points)")
    lesson_says(SLUG, "The exact match does not fall either")
    lesson_says(SLUG, "the exact match at step 150 ends below what a ratio of 1 reaches, on "
                      "each of the three seeds.")
    lesson_says(SLUG, "The chip gives the gap as a fraction: 0.039 on seed 0 is 3.9 points.")
    chip = run("exposure").metric("exposure_gap")[-1]
    assert chip == pytest.approx(0.039, abs=5e-4) and chip == pytest.approx(gap(run("exposure")))
    forced_gaps, half_gaps = [], []
    for seed in SEEDS:
        forced = run("exposure", seed=seed)
        assert forced.result["exposure_gap"] == pytest.approx(gap(forced))
        assert 0.01 <= gap(forced) <= 0.05
        half = run("exposure", seed=seed, teacher_forcing=0.5)
        assert gap(half) < gap(forced)
        assert half.result["exact_match"] >= forced.result["exact_match"]
        never = run("exposure", seed=seed, teacher_forcing=0.0)
        assert never.result["exact_match"] < forced.result["exact_match"]
        forced_gaps.append(gap(forced))
        half_gaps.append(gap(half))
    assert sum(forced_gaps) / 3 == pytest.approx(0.032, abs=0.0015)
    assert sum(half_gaps) / 3 == pytest.approx(0.013, abs=0.0015)
    assert sum(half_gaps) < sum(forced_gaps) / 2


# ---- BLEU and the exercises, through app/ml -----------------------------------------------


def test_the_worked_bleu_example():
    lesson_says(SLUG, "so $p = (0.8, 0.75, 0.667, 0.5)$. Their product is exactly $0.2$ and the "
                      "geometric mean $0.2^{1/4} \\approx 0.669$")
    lesson_says(SLUG, "so $\\mathrm{BP} = 1$ and BLEU $\\approx 66.87$.")
    lesson_says(SLUG, "$\\mathrm{BP} = e^{1 - 5/4} = e^{-0.25} \\approx 0.779$ and BLEU "
                      "$\\approx 77.88$. B scores higher than A")
    reference = "four thousand five hundred seventeen".split()
    a = corpus_bleu(["four thousand five hundred seventy".split()], [reference])
    b = corpus_bleu(["four thousand five hundred".split()], [reference])
    assert [p / 100 for p in a.precisions] == pytest.approx([0.8, 0.75, 0.667, 0.5], abs=5e-4)
    assert a.brevity_penalty == 1 and a.score == pytest.approx(66.87, abs=0.005)
    assert b.brevity_penalty == pytest.approx(0.779, abs=5e-4)
    assert b.score == pytest.approx(77.88, abs=0.005) and b.score > a.score
    assert example_of("numbers", "4517").target == tuple(reference)


def test_the_clipping_exercise():
    lesson_says(SLUG, "clipping counts two of the three: $p_1 = 4/5$ (without clipping it "
                      "would be $5/5$)")
    lesson_says(SLUG, "$p_2 = 2/4$")
    lesson_says(SLUG, "$p_3 = 1/3$")
    lesson_says(SLUG, "$p_4 = 0/2$, so unsmoothed BLEU is 0. The brevity penalty is\n"
                      "$e^{1 - 6/5} = e^{-0.2} \\approx 0.819$.")
    lesson_says(SLUG, "$1/(2 \\cdot 2) = 0.25$")
    lesson_says(SLUG, "\\approx 35.0$")
    output, reference = "the the the cat sat".split(), "the cat sat on the mat".split()
    plain = corpus_bleu([output], [reference], smooth="none")
    assert plain.matches == [4, 2, 1, 0] and plain.totals == [5, 4, 3, 2]
    assert plain.score == 0 and plain.brevity_penalty == pytest.approx(0.819, abs=5e-4)
    smoothed = corpus_bleu([output], [reference])
    assert smoothed.precisions[3] == pytest.approx(25)
    assert smoothed.score == pytest.approx(35.0, abs=0.05)
    library = sacrebleu.corpus_bleu([" ".join(output)], [[" ".join(reference)]], tokenize="none")
    assert library.score == pytest.approx(smoothed.score, abs=1e-9)


def test_one_mistake_is_enough_exercise():
    """The exposure run, seed 0: teacher-forced token accuracy 0.965, exact match 0.816;
    held-out numbers have 6.2 tokens with EOS on average."""
    lesson_says(SLUG, "$0.97^8 \\approx 0.78$")
    lesson_says(SLUG, "a greedy output is exactly right if and only if\nevery teacher-forced "
                      "prediction for that source is right")
    lesson_says(SLUG, "in the exposure run\n(seed 0) the teacher-forced token accuracy is "
                      "0.965, the outputs have about 6 tokens with\nEOS, and $0.965^6 "
                      "\\approx 0.81$, close to the measured exact match of 0.816.")
    assert 0.97 ** 8 == pytest.approx(0.78, abs=0.005)
    r = run("exposure")
    assert r.result["teacher_forced_accuracy"] == pytest.approx(0.965, abs=5e-4)
    assert r.result["exact_match"] == pytest.approx(0.816, abs=5e-4)
    assert 0.965 ** 6 == pytest.approx(0.81, abs=0.005)
    examples = held_out_examples("numbers")
    assert sum(len(e.target) + 1 for e in examples) / len(examples) == pytest.approx(6, abs=0.25)
    # The iff, on the trained model: greedy exact match = all teacher-forced predictions right.
    params = {"seed": 0, **fence(SLUG, "seq2seq", "exposure")}
    model = _TRAINED[parse_params(registry()["seq2seq"], params).training_key()].model
    source, target = to_tensors("numbers", list(examples))
    with torch.no_grad():
        forced = model(source, target[:, :-1]).argmax(-1)
    real = target[:, 1:] != 0
    all_right = ((forced == target[:, 1:]) | ~real).all(dim=1).float().mean().item()
    assert all_right == r.result["exact_match"]
