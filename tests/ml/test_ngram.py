"""app/ml/ngram.py against nltk.lm and against counting by hand.

nltk.lm is given our padding (n - 1 <s>, one </s>, see app/ml/ngram.py) as ready-made
n-grams, and a vocabulary of the training words plus </s>: with its own <UNK> that is
our |V|. (nltk reads <s> as <UNK> in contexts, in counting and scoring alike, which
changes no count: no training word is unknown.) About 3 s of CPU in all.
"""

from __future__ import annotations

import math
import random

import pytest
from nltk.lm import MLE, Lidstone, Vocabulary
from nltk.util import everygrams

from app.ml.embedding_corpus import corpus, split
from app.ml.ngram import BOS, EOS, UNK, NgramModel, ngrams, padded

TRAIN, HELD_OUT = split(corpus()[:600])


def reference(n: int, k: float) -> Lidstone | MLE:
    vocab = Vocabulary([w for s in TRAIN for w in s] + [EOS], unk_cutoff=1)
    model = MLE(n, vocabulary=vocab) if k == 0 else Lidstone(k, n, vocabulary=vocab)
    model.fit([list(everygrams(padded(s, n), min_len=n, max_len=n)) for s in TRAIN])
    return model


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("k", [0.0, 0.01, 1.0])
def test_probabilities_and_perplexity_equal_nltk(n, k):
    ours, theirs = NgramModel(n, TRAIN), reference(n, k)
    assert len(ours.vocabulary) == len(theirs.vocab)
    checked = 0
    for sentence in HELD_OUT[:20]:
        for context, word in ngrams(ours.read(sentence), n):
            assert ours.probability(word, context, k) == pytest.approx(
                theirs.score(word, context), rel=1e-12, abs=1e-15)
            checked += 1
    assert checked > 150
    held_out = [g for s in HELD_OUT for g in everygrams(ours.read(padded(s, n)),
                                                        min_len=n, max_len=n)]
    expected = theirs.perplexity(held_out)  # 2 ** (mean -log2 p): the same number
    if math.isinf(expected):
        assert k == 0 and n >= 2 and math.isinf(ours.perplexity(HELD_OUT, k))
    else:
        assert ours.perplexity(HELD_OUT, k) == pytest.approx(expected, rel=1e-10)


def test_a_tiny_corpus_counted_by_hand():
    # Bigrams of "the cat sat", "the dog sat", "the cat ran" padded as <s> … </s>:
    # count(the) = 3, count(the cat) = 2, |V| = {cat, dog, ran, sat, the, </s>, <unk>} = 7.
    model = NgramModel(2, [s.split() for s in ["the cat sat", "the dog sat", "the cat ran"]])
    assert len(model.vocabulary) == 7
    assert model.probability("cat", ("the",), 0) == 2 / 3
    assert model.probability("cat", ("the",), 1) == (2 + 1) / (3 + 7)
    assert model.probability("ran", ("dog",), 0) == 0
    assert model.probability("the", (BOS,), 0) == 1
    assert model.probability(EOS, ("sat",), 0) == 1
    # "ran" was followed once (by </s>): add-1 gives cat (0 + 1) / (1 + 7).
    assert model.probability("cat", ("ran",), 1) == 1 / 8
    # A context never seen: 0 without smoothing, uniform over |V| with it.
    assert model.probability("cat", ("zebra",), 0) == 0
    assert model.probability("cat", ("zebra",), 1) == pytest.approx(1 / 7)
    # "the dog ran": 1 * 1/3 * 0 * ... -> infinite perplexity unsmoothed.
    assert math.isinf(model.perplexity([["the", "dog", "ran"]], 0))
    # "the cat sat": P = 1 * 2/3 * 1/2 * 1 over 4 predictions.
    assert model.perplexity([["the", "cat", "sat"]], 0) == pytest.approx((1 / 3) ** -0.25)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_smoothed_distribution_sums_to_one(n):
    model = NgramModel(n, TRAIN)
    for context in [model.context_of([]), model.context_of(["the", "capital", "of"]),
                    model.context_of(["zebra", "zebra", "zebra"])]:
        assert sum(p for _, p in model.distribution(context, 0.1)) == pytest.approx(1)


def test_unknown_words_are_read_as_unk_and_get_only_the_smoothing():
    model = NgramModel(2, TRAIN)
    assert model.read(["the", "zebra"]) == ["the", UNK]
    assert model.probability(UNK, ("the",), 0) == 0
    assert model.probability(UNK, ("the",), 1) == 1 / (model.totals[("the",)] +
                                                       len(model.vocabulary))


def test_generated_sentences_follow_the_counts_without_smoothing():
    # k = 0: every bigram of a generated sentence was seen in training.
    model = NgramModel(2, TRAIN)
    rng = random.Random(0)
    for _ in range(20):
        words = model.generate(0, rng)
        for context, word in ngrams(words, 2)[:-1]:  # the last may be cut at 20 words
            assert model.counts[context][word] > 0
