"""Decoding an autoregressive model: greedy, beam search, and the exact best sentence.

All three only need ``next_log_probs(prefixes) -> [n, vocab]``: log p(next token | prefix)
for ``n`` prefixes of equal length. A sentence's score is the sum of its tokens' log
probabilities, optionally divided by ``length ** length_penalty`` so that longer
sentences, which add more negative terms, are not punished just for being long.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

NextLogProbs = Callable[[list[list[int]]], Tensor]


@dataclass
class Hypothesis:
    tokens: list[int]  # the start token first
    log_prob: float
    parent: int | None = None  # index into the previous step's kept list (for drawing)

    @property
    def length(self) -> int:
        return len(self.tokens) - 1  # generated tokens; the start token is given

    def score(self, length_penalty: float) -> float:
        return self.log_prob / max(self.length, 1) ** length_penalty


@dataclass
class BeamStep:
    """One step of the search: what was kept and the best of what was dropped."""

    kept: list[Hypothesis]
    dropped: list[Hypothesis]


@dataclass
class BeamResult:
    best: Hypothesis
    finished: list[Hypothesis]
    steps: list[BeamStep] = field(default_factory=list)


def beam_search(next_log_probs: NextLogProbs, start: int, end: int, width: int,
                max_length: int, length_penalty: float = 0.0) -> BeamResult:
    """Keep the ``width`` best partial sentences at every step.

    Each step extends every kept prefix by every token and keeps the ``width`` best of
    those candidates by total log probability. A kept candidate ending in ``end`` is
    finished and leaves the beam. The search stops when the beam is empty, after
    ``max_length`` tokens, or — without a length penalty, where scores only fall — as
    soon as no prefix can still beat the best finished sentence.
    """
    beam = [Hypothesis([start], 0.0)]
    finished: list[Hypothesis] = []
    steps: list[BeamStep] = []
    for _ in range(max_length):
        log_probs = next_log_probs([h.tokens for h in beam])  # [len(beam), vocab]
        so_far = torch.tensor([h.log_prob for h in beam], dtype=log_probs.dtype)
        totals = (log_probs + so_far[:, None]).flatten()
        vocab = log_probs.shape[1]
        order = totals.argsort(descending=True).tolist()
        candidates = [Hypothesis(beam[i // vocab].tokens + [i % vocab], float(totals[i]),
                                 i // vocab) for i in order]
        kept, dropped = candidates[:width], candidates[width:width * 3]
        steps.append(BeamStep(kept, dropped))
        finished += [h for h in kept if h.tokens[-1] == end]
        beam = [h for h in kept if h.tokens[-1] != end]
        if not beam:
            break
        if finished and length_penalty == 0 and beam[0].log_prob < max(
                h.log_prob for h in finished):
            break  # adding a token only lowers a score: nothing left can win
    pool = finished or beam
    best = max(pool, key=lambda h: h.score(length_penalty))
    return BeamResult(best, finished, steps)


def greedy(next_log_probs: NextLogProbs, start: int, end: int, max_length: int) -> Hypothesis:
    """The likeliest token at every step: beam search with a beam of one."""
    return beam_search(next_log_probs, start, end, 1, max_length).best


def most_probable(next_log_probs: NextLogProbs, start: int, end: int, max_length: int,
                  max_expansions: int = 10_000) -> Hypothesis | None:
    """The exact most probable sentence, by best-first (uniform-cost) search.

    Prefixes come off a heap in order of probability. Extending a prefix never makes it
    more probable, so the first finished sentence to come off is the most probable of
    all. ``None`` if it takes more than ``max_expansions`` model calls.
    """
    heap: list[tuple[float, list[int]]] = [(0.0, [start])]
    for _ in range(max_expansions):
        if not heap:
            return None
        cost, tokens = heapq.heappop(heap)
        if tokens[-1] == end:
            return Hypothesis(tokens, -cost)
        if len(tokens) > max_length:
            continue
        for token, log_prob in enumerate(next_log_probs([tokens])[0].tolist()):
            heapq.heappush(heap, (cost - log_prob, tokens + [token]))
    return None


@dataclass
class TreeNode:
    """One prefix of a beam search, placed for drawing: ``rank`` 0 is the best at its step."""

    step: int  # tokens generated so far
    rank: int  # kept prefixes first (best first), then the dropped ones
    hypothesis: Hypothesis  # its ``parent`` is the rank it grew from at ``step - 1``
    kept: bool


def search_tree(result: BeamResult, dropped: int) -> list[TreeNode]:
    """Every prefix the search kept and the best ``dropped`` it let go, step by step."""
    nodes = []
    for step, beam_step in enumerate(result.steps, start=1):
        ranked = [(h, True) for h in beam_step.kept] + [(h, False)
                                                       for h in beam_step.dropped[:dropped]]
        nodes += [TreeNode(step, rank, h, kept) for rank, (h, kept) in enumerate(ranked)]
    return nodes
