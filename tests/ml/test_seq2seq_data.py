"""The toy translation tasks (app/ml/translation_data.py) and the decoding and scheduled
sampling of app/ml/seq2seq_training.py, on small or untrained models (no training here:
the trained numbers are the lesson's, in tests/lesson_claims/test_seq2seq.py)."""

from __future__ import annotations

from datetime import date

import pytest
import torch

from app.demos.base import seeded
from app.ml.seq2seq_training import (
    TrainConfig,
    alignment_mass,
    beam_decode,
    build_model,
    evaluate,
    greedy_decode,
    mix_inputs,
    translate,
)
from app.ml.translation_data import (
    MAX_TARGET,
    TARGET_VOCAB,
    check_source,
    date_example,
    example_of,
    held_out_examples,
    is_held_out,
    number_example,
    sample_batch,
    split,
    to_tensors,
)


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (45, "forty five"),
    (105, "one hundred five"), (4017, "four thousand seventeen"),
    (4517, "four thousand five hundred seventeen"), (2100, "two thousand one hundred"),
    (9999, "nine thousand nine hundred ninety nine"),
])
def test_numbers_in_words(n, words):
    assert " ".join(number_example(n).target) == words


def test_every_word_is_aligned_to_the_digits_it_says():
    example = number_example(4517)
    assert example.spans == ((0, 1), (0, 1), (1, 2), (1, 2), (2, 4))  # 17 ← "17"
    dates = date_example(date(2026, 11, 29))
    assert " ".join(dates.target) == "2 9 November 2 0 2 6"
    assert dates.spans == ((8, 9), (9, 10), (5, 7), (0, 1), (1, 2), (2, 3), (3, 4))
    assert date_example(date(1999, 1, 5)).spans[0] == (9, 10)  # "5" from "05"


def test_every_target_fits_and_no_held_out_item_is_trained_on():
    for task in ("dates", "numbers"):
        train, held = split(task)
        assert not set(train) & set(held)
        assert 0.08 < len(held) / (len(train) + len(held)) < 0.12
        assert all(is_held_out(i) for i in held)
        generator = torch.Generator().manual_seed(0)
        for _ in range(5):
            source, target = sample_batch(task, 64, generator)
            assert target.shape[1] <= MAX_TARGET[task] + 2
            assert (target[:, 0] == 1).all()  # BOS first
    longest = max(len(number_example(n).target) for n in range(10_000))
    assert longest == MAX_TARGET["numbers"]


def test_typed_inputs_are_checked_with_a_reason():
    assert check_source("dates", "2026-11-29") == tuple("2026-11-29")
    with pytest.raises(ValueError, match="remove '/'"):
        check_source("dates", "2026/11/29")
    with pytest.raises(ValueError, match="at most 4 characters, got 5"):
        check_source("numbers", "12345")
    # Valid characters but no such date: translated, with no reference.
    assert example_of("dates", "2026-02-30") is None
    assert example_of("numbers", "007") is None
    assert example_of("numbers", "7").target == ("seven",)


def test_scheduled_sampling_feeds_own_predictions_in_proportion():
    target_in = torch.tensor([[1, 5, 6, 7, 8, 0]] * 400)
    predicted = torch.full_like(target_in, 9)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(mix_inputs(target_in, predicted, 1.0, g), target_in)
    everything = mix_inputs(target_in, predicted, 0.0, g)
    assert (everything[:, 0] == 1).all() and (everything[:, 5] == 0).all()  # BOS, padding
    assert (everything[:, 1:5] == 9).all()
    half = mix_inputs(target_in, predicted, 0.5, g)
    assert float((half[:, 1:5] == 9).float().mean()) == pytest.approx(0.5, abs=0.03)


def untrained(task="dates"):
    with seeded(0):
        return build_model(TrainConfig(task=task, layers=2))


def test_beam_of_one_is_greedy_and_stops_at_eos():
    net = untrained()
    source, _ = to_tensors("dates", list(held_out_examples("dates")[:6]))
    greedy = greedy_decode(net, source, 9).tolist()
    for row, ids in zip(source, greedy, strict=True):
        beam = beam_decode(net, row[None], 1, 9)
        assert beam == ids[:len(beam)]
        assert all(i == 0 for i in ids[len(beam):])  # padding after EOS


def test_translate_reads_one_cross_attention_row_per_output_token_and_eos():
    net = untrained("numbers")
    translation = translate(net, "numbers", tuple("4517"))
    maps = translation.cross_attention
    assert len(maps) == 2 and len(maps[0]) == 2  # [layers][heads]
    assert len(maps[0][0]) == len(translation.output) + 1
    assert all(len(row) == 4 and sum(row) == pytest.approx(1) for row in maps[1][1])


def test_alignment_mass_is_the_weight_inside_the_spans():
    spans = ((0, 1), (1, 3))
    inside = [[[[1, 0, 0], [0, 0.5, 0.5], [1, 0, 0]]]]  # the third row (EOS) is left out
    assert alignment_mass(inside, spans) == 1
    uniform = [[[[1 / 3] * 3] * 3] * 2]
    assert alignment_mass(uniform, spans) == pytest.approx((1 / 3 + 2 / 3) / 2)


def test_an_untrained_model_scores_near_zero():
    result = evaluate(untrained(), "dates", 0, held_out_examples("dates", 64))
    assert result.exact_match == 0 and result.bleu < 5
    assert result.teacher_forced_accuracy < 0.2
    assert TARGET_VOCAB["dates"].decode([4, 5, 2, 6]) == ["1", "2"]
