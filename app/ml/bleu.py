"""Corpus BLEU by hand (Papineni et al., 2002), on a 0–100 scale as sacrebleu reports it.

BLEU compares the n-grams (n = 1..4) of each output with those of its reference:

* **clipped precision** p_n: over the whole corpus, the n-grams of the outputs that also
  occur in their reference, each counted at most as often as the reference has it,
  divided by all n-grams of the outputs;
* **geometric mean** of p_1..p_4: exp(¼ Σ log p_n), so a single zero precision makes it 0;
* **brevity penalty** BP = 1 if the outputs are together at least as long as the
  references (c ≥ r tokens), else exp(1 − r / c): precision alone would reward saying
  little.

BLEU = 100 · BP · exp(¼ Σ log p_n). Tokens are given already split (one list per
sentence); one reference per output. ``smooth="exp"`` is sacrebleu's default smoothing:
an order with no match at all counts as 1 / (2^k · total) for the k-th such order,
instead of making the whole score 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MAX_ORDER = 4


@dataclass
class Bleu:
    """A corpus BLEU and its parts: ``score`` and ``precisions`` in percent (0–100)."""

    score: float
    precisions: list[float]  # p_1..p_4 in percent, after smoothing
    matches: list[int]  # clipped n-gram matches, per order
    totals: list[int]  # n-grams in the outputs, per order
    brevity_penalty: float
    output_length: int  # c: tokens in all outputs
    reference_length: int  # r: tokens in all references


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    """How many times each n-gram occurs in ``tokens``."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def brevity_penalty(output_length: int, reference_length: int) -> float:
    """1 when the outputs are not shorter than the references, else exp(1 − r / c)
    (0 for no output at all)."""
    if output_length >= reference_length:
        return 1.0
    return math.exp(1 - reference_length / output_length) if output_length else 0.0


def corpus_bleu(outputs: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
                smooth: Literal["exp", "none"] = "exp") -> Bleu:
    """BLEU of the ``outputs`` (token lists) against one reference each, 0–100.

    Raises ValueError if there are not as many references as outputs.
    """
    if len(outputs) != len(references):
        raise ValueError(f"{len(outputs)} outputs but {len(references)} references")
    matches, totals = [0] * MAX_ORDER, [0] * MAX_ORDER
    for output, reference in zip(outputs, references, strict=True):
        for n in range(1, MAX_ORDER + 1):
            produced, wanted = ngrams(output, n), ngrams(reference, n)
            # Clipping: "the the the" against "the cat" matches "the" once, not three times.
            matches[n - 1] += sum(min(count, wanted[gram]) for gram, count in produced.items())
            totals[n - 1] += sum(produced.values())
    c = sum(len(o) for o in outputs)
    r = sum(len(ref) for ref in references)
    penalty = brevity_penalty(c, r)
    precisions = [0.0] * MAX_ORDER
    halvings = 1.0
    for n in range(MAX_ORDER):
        if totals[n] == 0:  # every output shorter than n tokens: no n-gram to score
            break
        if matches[n]:
            precisions[n] = 100 * matches[n] / totals[n]
        elif smooth == "exp":
            halvings *= 2
            precisions[n] = 100 / (halvings * totals[n])
    if not any(matches) or min(precisions) == 0:
        return Bleu(0.0, precisions, matches, totals, penalty, c, r)
    # The geometric mean of fractions, then percent: 100 exactly when every p_n is 100 %.
    mean_log = sum(math.log(p / 100) for p in precisions) / MAX_ORDER
    return Bleu(100 * penalty * math.exp(mean_log), precisions, matches, totals, penalty, c, r)
