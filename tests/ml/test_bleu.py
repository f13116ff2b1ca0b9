"""Our corpus BLEU (app/ml/bleu.py) against sacrebleu's corpus_bleu, to the last digits."""

from __future__ import annotations

import math
import random

import pytest
import sacrebleu

from app.ml.bleu import brevity_penalty, corpus_bleu, ngrams


def reference_bleu(outputs: list[list[str]], references: list[list[str]], smooth: str):
    """sacrebleu on the same tokens: joined by spaces, split back on spaces (no tokeniser)."""
    return sacrebleu.corpus_bleu([" ".join(o) for o in outputs],
                                 [[" ".join(r) for r in references]],
                                 tokenize="none", smooth_method=smooth)


def random_corpus(rng: random.Random, size: int, vocabulary: int
                  ) -> tuple[list[list[str]], list[list[str]]]:
    """Outputs that are noisy copies of their references (dropped, swapped, invented words),
    so every n-gram order has some matches and some misses."""
    words = [f"w{i}" for i in range(vocabulary)]
    outputs, references = [], []
    for _ in range(size):
        reference = [rng.choice(words) for _ in range(rng.randint(1, 14))]
        output = [w for w in reference if rng.random() > 0.2]
        output = [rng.choice(words) if rng.random() < 0.2 else w for w in output]
        if rng.random() < 0.3:
            output += [rng.choice(words) for _ in range(rng.randint(1, 4))]
        outputs.append(output)
        references.append(reference)
    return outputs, references


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("smooth", ["exp", "none"])
def test_equals_sacrebleu_on_random_corpora(seed, smooth):
    rng = random.Random(seed)
    outputs, references = random_corpus(rng, size=rng.randint(1, 40),
                                        vocabulary=rng.choice([3, 8, 30]))
    ours = corpus_bleu(outputs, references, smooth=smooth)
    theirs = reference_bleu(outputs, references, smooth)
    assert ours.score == pytest.approx(theirs.score, abs=1e-9)
    assert ours.precisions == pytest.approx(theirs.precisions, abs=1e-9)
    assert ours.brevity_penalty == pytest.approx(theirs.bp, abs=1e-12)
    assert (ours.output_length, ours.reference_length) == (theirs.sys_len, theirs.ref_len)
    assert ours.matches == theirs.counts and ours.totals == theirs.totals


@pytest.mark.parametrize("smooth", ["exp", "none"])
def test_equals_sacrebleu_where_an_order_has_no_match_or_no_ngram(smooth):
    # No 4-gram matches (exp smoothing halves), then outputs too short for any 3-gram.
    cases = [
        ([["a", "b", "c", "x", "b", "c", "d"]], [["a", "b", "c", "d", "e"]]),
        ([["a", "b"], ["c"]], [["a", "b", "c"], ["c", "d"]]),
        ([["x", "y"]], [["a", "b"]]),  # nothing matches at all
        ([[]], [["a"]]),  # an empty output
    ]
    for outputs, references in cases:
        ours = corpus_bleu(outputs, references, smooth=smooth)
        theirs = reference_bleu(outputs, references, smooth)
        assert ours.score == pytest.approx(theirs.score, abs=1e-9), (outputs, references)


def test_the_lessons_worked_example():
    """lessons/seq2seq.md computes these by hand (tests/lesson_claims/test_seq2seq.py holds
    its sentences); here they meet sacrebleu."""
    reference = "four thousand five hundred seventeen".split()
    wrong_word = "four thousand five hundred seventy".split()
    short = "four thousand five hundred".split()
    one = corpus_bleu([wrong_word], [reference])
    assert one.precisions == pytest.approx([80, 75, 200 / 3, 50])
    assert one.score == pytest.approx(100 * 0.2 ** 0.25) == pytest.approx(66.87, abs=0.005)
    two = corpus_bleu([short], [reference])
    assert two.precisions == [100, 100, 100, 100]
    assert two.brevity_penalty == pytest.approx(math.exp(-0.25))
    assert two.score == pytest.approx(77.88, abs=0.005)
    for output, ours in ((wrong_word, one), (short, two)):
        assert ours.score == pytest.approx(reference_bleu([output], [reference], "exp").score,
                                           abs=1e-9)
    both = corpus_bleu([wrong_word, short], [reference, reference])
    assert both.score == pytest.approx(reference_bleu([wrong_word, short],
                                                      [reference, reference], "exp").score)


def test_clipping_counts_a_repeated_word_once_per_reference_occurrence():
    assert ngrams(["the", "the", "the"], 1)[("the",)] == 3
    result = corpus_bleu([["the", "the", "the"]], [["the", "cat"]])
    assert result.matches[0] == 1 and result.totals[0] == 3


def test_brevity_penalty():
    assert brevity_penalty(5, 5) == 1 and brevity_penalty(7, 5) == 1
    assert brevity_penalty(4, 5) == pytest.approx(math.exp(1 - 5 / 4))
    assert brevity_penalty(0, 5) == 0


def test_outputs_and_references_must_pair_up():
    with pytest.raises(ValueError, match="2 outputs but 1 references"):
        corpus_bleu([["a"], ["b"]], [["a"]])
