"""An n-gram language model with add-k smoothing, and its perplexity.

The padding convention, used for counting, for probabilities and for perplexity alike:
a sentence w_1..w_T is read as

    <s> … <s>  w_1 … w_T  </s>        (n - 1 start symbols, one end symbol)

and the model predicts every w_t and the final </s> from the n - 1 symbols before it,
so a sentence contributes T + 1 predictions. <s> is only ever context, never predicted.
The vocabulary V the model predicts over is every word seen in training, plus </s> and
<unk> (any word not seen in training is read as <unk>), and

    P(w | context) = (count(context, w) + k) / (count(context) + k |V|).

k = 0 is maximum likelihood: an n-gram never seen in training gets probability 0 (and a
context never seen, 0 for every word), so one such n-gram in the held-out text makes
its perplexity infinite. Perplexity is exp of the mean negative log-probability per
prediction: the number of equally likely words the model is, on average, choosing from.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
Context = tuple[str, ...]


def padded(sentence: list[str], n: int) -> list[str]:
    """``sentence`` with n - 1 start symbols before it and one end symbol after it."""
    return [BOS] * (n - 1) + list(sentence) + [EOS]


def ngrams(sentence: list[str], n: int) -> list[tuple[Context, str]]:
    """Every (context of n - 1 symbols, word predicted) of the padded ``sentence``."""
    words = padded(sentence, n)
    return [(tuple(words[i - n + 1:i]), words[i]) for i in range(n - 1, len(words))]


def add_k(count: int, context_count: int, k: float, vocabulary_size: int) -> float:
    """P(w | h) = (count(h, w) + k) / (count(h) + k |V|): ``count`` of the n-gram,
    ``context_count`` of its context followed by anything. k = 0 is maximum likelihood,
    and then a context never seen (0 / 0) gives 0."""
    denominator = context_count + k * vocabulary_size
    return (count + k) / denominator if denominator > 0 else 0.0


def perplexity(probabilities: list[float]) -> float:
    """exp(-(1/N) Σ log p) over the N ``probabilities`` a model gave the words it had to
    predict: inf if one of them is 0, nan for no predictions."""
    if not probabilities:
        return math.nan
    if min(probabilities) <= 0:
        return math.inf
    return math.exp(-sum(math.log(p) for p in probabilities) / len(probabilities))


class NgramModel:
    """Counts of an order-``n`` model (n = 1: unigrams, 2: bigrams, …), smoothed with
    ``k`` when asked for a probability (the counts do not depend on k)."""

    def __init__(self, n: int, sentences: Iterable[list[str]]) -> None:
        if n < 1:
            raise ValueError(f"n: the order of an n-gram model is at least 1, got {n}")
        self.n = n
        self.counts: dict[Context, Counter[str]] = defaultdict(Counter)
        seen: set[str] = set()
        for sentence in sentences:
            seen.update(sentence)
            for context, word in ngrams(sentence, n):
                self.counts[context][word] += 1
        self.vocabulary = sorted(seen) + [EOS, UNK]  # what the model predicts
        self.known = seen
        self.totals = {context: sum(c.values()) for context, c in self.counts.items()}

    def read(self, words: Iterable[str]) -> list[str]:
        """``words`` with every word not seen in training replaced by <unk>."""
        return [w if w in self.known or w in (BOS, EOS) else UNK for w in words]

    def context_of(self, words: list[str]) -> Context:
        """The last n - 1 symbols before a next word, after ``words``: start symbols
        fill in for words before the sentence began."""
        history = [BOS] * (self.n - 1) + self.read(words)
        return tuple(history[len(history) - self.n + 1:]) if self.n > 1 else ()

    def probability(self, word: str, context: Context, k: float) -> float:
        """P(word | context) with add-k smoothing; 0 for an unseen context when k = 0."""
        return add_k(self.counts.get(context, {}).get(word, 0), self.totals.get(context, 0),
                     k, len(self.vocabulary))

    def distribution(self, context: Context, k: float) -> list[tuple[str, float]]:
        """Every word of the vocabulary with its probability after ``context``, likeliest
        first (ties alphabetical)."""
        probs = [(w, self.probability(w, context, k)) for w in self.vocabulary]
        return sorted(probs, key=lambda wp: (-wp[1], wp[0]))

    def perplexity(self, sentences: Iterable[list[str]], k: float) -> float:
        """:func:`perplexity` of the model's predictions of ``sentences``: every word and
        each final </s>, from its n - 1 padded symbols before (unknown words as <unk>)."""
        return perplexity([self.probability(word, context, k)
                           for sentence in sentences
                           for context, word in ngrams(self.read(sentence), self.n)])

    def generate(self, k: float, rng: random.Random, max_words: int = 20) -> list[str]:
        """A sentence sampled word by word from the smoothed model, until </s> or
        ``max_words`` words. With k > 0 any word may follow anything, however unlikely."""
        words: list[str] = []
        while len(words) < max_words:
            context = self.context_of(words)
            options = self.distribution(context, k)
            weights = [p for _, p in options]
            if sum(weights) <= 0:  # k = 0 and an unseen context: nothing to say
                break
            word = rng.choices([w for w, _ in options], weights)[0]
            if word == EOS:
                break
            words.append(word)
        return words
