"""Preferences over the little language: a hidden rule, labelled pairs, a Bradley–Terry fit.

The reference policy ``pi_ref`` is the language of :mod:`app.ml.tiny_lm`: fifteen
sentences, each with its exact probability (the tiny transformer of the beam-search demo
learns these to within a few hundredths of a nat). Because the set is finite, a policy is
a table of fifteen probabilities, and everything the alignment lesson needs can be
computed exactly:

* a **rule** gives each sentence a reward ``r(y)`` (:data:`RULES`);
* an **annotator** sees two sentences drawn from ``pi_ref`` and prefers ``y1`` with the
  Bradley–Terry probability ``sigmoid(r(y1) - r(y2))``; with label noise ``eps`` the
  label is then flipped with probability ``eps`` (:func:`sample_pairs`);
* the **KL-regularised optimum** ``pi*(y) ∝ pi_ref(y) exp(r(y) / beta)``
  (:func:`optimal_policy`);
* a **reward model** fitted to the pairs by maximum likelihood under Bradley–Terry
  (:func:`fit_reward_model`).

Sentences are indexed 0..14 in the order of :func:`app.ml.tiny_lm.sentences`; tensors of
probabilities and rewards are ``[15]`` float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from app.ml.tiny_lm import sentences

LANGUAGE = sentences()
SENTENCES: list[tuple[str, ...]] = list(LANGUAGE)
TEXTS = [" ".join(words) for words in SENTENCES]  # "the cat sat ."


def reference_policy() -> Tensor:
    """``[15]`` pi_ref: the language's exact sentence probabilities (they sum to 1)."""
    return torch.tensor([LANGUAGE[s] for s in SENTENCES], dtype=torch.float64)


# ---- rules: the annotator's hidden taste ------------------------------------------------

STRENGTH = 2.0  # reward of following a yes/no rule: preferred 1 / (1 + e^-2) = 88 % of the time


def _words(sentence: tuple[str, ...]) -> list[str]:
    return [w for w in sentence if w != "."]


RULES: dict[str, Callable[[tuple[str, ...]], float]] = {
    "about cats": lambda s: STRENGTH * ("cat" in s),
    "about dogs": lambda s: STRENGTH * ("dog" in s),
    "without the": lambda s: STRENGTH * ("the" not in s),
    "shorter": lambda s: -float(len(_words(s))),  # one fewer word: +1
}
RULE_NAMES = list(RULES)


def rule_reward(rule: str) -> Tensor:
    """``[15]`` the rule's reward of each sentence. KeyError for an unknown rule."""
    return torch.tensor([RULES[rule](s) for s in SENTENCES], dtype=torch.float64)


# ---- the KL-regularised optimum ---------------------------------------------------------


def optimal_policy(pi_ref: Tensor, reward: Tensor, beta: float) -> Tensor:
    """``[n]`` the maximiser of E_pi[r] - beta * KL(pi || pi_ref): pi_ref * exp(r / beta) / Z.

    Computed in log space, so a small ``beta`` (a large ``r / beta``) does not overflow.
    Raises ValueError unless ``beta > 0``.
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    return torch.softmax(torch.log(pi_ref) + reward / beta, dim=-1)


def kl_divergence(p: Tensor, q: Tensor) -> float:
    """KL(p || q) = sum p log(p / q) in nats; terms with p = 0 count 0."""
    mask = p > 0
    return float((p[mask] * (p[mask].log() - q[mask].log())).sum())


def total_variation(p: Tensor, q: Tensor) -> float:
    """TV(p, q) = half the L1 distance: the largest difference in any event's probability."""
    return float((p - q).abs().sum() / 2)


# ---- preference pairs -------------------------------------------------------------------


@dataclass
class Pairs:
    """``n`` labelled comparisons: ``chosen[k]`` was preferred to ``rejected[k]``.

    Both are ``[n]`` long tensors of sentence indices; ``flipped[k]`` says the label noise
    turned this label around (kept for the lesson's tables, never used in training).
    """

    chosen: Tensor
    rejected: Tensor
    flipped: Tensor

    def __len__(self) -> int:
        return len(self.chosen)


def sample_pairs(pi_ref: Tensor, reward: Tensor, n: int, noise: float,
                 generator: torch.Generator) -> Pairs:
    """``n`` pairs of two sentences drawn independently from ``pi_ref``, labelled.

    The annotator prefers the first with probability ``sigmoid(r1 - r2)`` (Bradley–Terry,
    so equally rewarded sentences are a coin flip), then flips the label with
    probability ``noise`` (0 to 0.5). Raises ValueError for ``noise`` outside [0, 0.5].
    """
    if not 0 <= noise <= 0.5:
        raise ValueError(f"noise must be between 0 and 0.5, got {noise}")
    draws = torch.multinomial(pi_ref, 2 * n, replacement=True, generator=generator)
    first, second = draws[:n], draws[n:]
    prefers_first = torch.rand(n, generator=generator, dtype=torch.float64) < torch.sigmoid(
        reward[first] - reward[second])
    flipped = torch.rand(n, generator=generator, dtype=torch.float64) < noise
    prefers_first ^= flipped
    chosen = torch.where(prefers_first, first, second)
    rejected = torch.where(prefers_first, second, first)
    return Pairs(chosen, rejected, flipped)


def preference_accuracy(reward: Tensor, pairs: Pairs) -> float:
    """Fraction of ``pairs`` whose chosen sentence ``reward`` ranks higher; a tie counts half.

    A perfect reward cannot reach 1: Bradley–Terry labels (and noise) disagree with any
    ranking some of the time, and pairs of equally rewarded sentences are coin flips.
    """
    margin = reward[pairs.chosen] - reward[pairs.rejected]
    ties = margin.abs() < 1e-9
    return float(((margin > 0) & ~ties).double().mean() + ties.double().mean() / 2)


# ---- the reward model -------------------------------------------------------------------


def bradley_terry_loss(reward: Tensor, pairs: Pairs) -> Tensor:
    """Mean negative log-likelihood of the labels, -log sigmoid(r(chosen) - r(rejected))."""
    return -F.logsigmoid(reward[pairs.chosen] - reward[pairs.rejected]).mean()


@dataclass
class RewardFit:
    step: int
    loss: float
    reward: Tensor  # [15], centred: mean 0 under pi_ref


def fit_reward_model(pairs: Pairs, pi_ref: Tensor, steps: int = 300,
                     lr: float = 0.1) -> Iterator[RewardFit]:
    """A table of 15 rewards fitted to ``pairs`` by Adam on :func:`bradley_terry_loss`.

    Bradley–Terry sees only differences, so the reward is defined up to a constant: each
    yielded reward is shifted to mean 0 under ``pi_ref``. A sentence that never appears
    in a pair keeps reward 0 before that shift. Yields after every full-batch step.
    """
    reward = torch.zeros(len(pi_ref), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([reward], lr=lr)
    for step in range(1, steps + 1):
        loss = bradley_terry_loss(reward, pairs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield RewardFit(step, float(loss.detach()), centred(reward.detach(), pi_ref))


def centred(reward: Tensor, pi_ref: Tensor) -> Tensor:
    """``reward`` shifted to mean 0 under ``pi_ref`` (rewards compare up to a constant)."""
    return reward - (pi_ref * reward).sum()


def implicit_reward(log_pi: Tensor, pi_ref: Tensor, beta: float) -> Tensor:
    """DPO's implicit reward beta * log(pi / pi_ref), ``[15]``; defined up to a constant."""
    return beta * (log_pi - torch.log(pi_ref))


def minimum_kl_regularised_loss(pi_ref: Tensor, reward: Tensor, beta: float) -> float:
    """The lowest value of -(E_pi[r] - beta KL(pi || pi_ref)) over all pi: -beta log Z."""
    return -beta * float(torch.logsumexp(torch.log(pi_ref) + reward / beta, dim=-1))
