"""Skip-gram with negative sampling (word2vec), in plain torch, with its gradient by hand.

Every word ``w`` has two vectors: ``v_w`` (row of ``W_in``) when it is the centre word
and ``u_w`` (row of ``W_out``) when it is a context word. For a centre ``c``, a context
word ``o`` seen within the window, and ``K`` noise words ``n_1..n_K`` drawn from the
unigram distribution raised to 3/4, the loss of the pair is

    L = -log σ(u_o·v_c) - Σ_k log σ(-u_{n_k}·v_c)

and its gradients (:func:`negative_sampling_gradients`, checked against autograd in
tests/ml/test_word2vec.py) are

    ∂L/∂v_c = (σ(u_o·v_c) - 1) u_o + Σ_k σ(u_{n_k}·v_c) u_{n_k}
    ∂L/∂u_o = (σ(u_o·v_c) - 1) v_c          ∂L/∂u_{n_k} = σ(u_{n_k}·v_c) v_c

:func:`train` applies them with plain SGD, a batch of pairs at a time, the learning rate
falling linearly to almost zero as in the original word2vec (which takes one pair at a
time: see :func:`apply_updates` for the one difference a batch makes). Frequent words are
subsampled (:func:`keep_probabilities`) and the window shrinks at random for each centre
word, so near neighbours count more. The trained ``W_in`` rows are the word vectors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Vocabulary:
    """Words by frequency (most frequent first), their ids and their counts."""

    words: list[str]
    index: dict[str, int]
    counts: torch.Tensor  # [V] float64: occurrences in the corpus

    @classmethod
    def of(cls, sentences: list[list[str]]) -> Vocabulary:
        counts = Counter(word for sentence in sentences for word in sentence)
        words = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(words, {w: i for i, w in enumerate(words)},
                   torch.tensor([counts[w] for w in words], dtype=torch.float64))


# ---- the objective and its gradient -----------------------------------------------------


def negative_sampling_loss(v: torch.Tensor, u_pos: torch.Tensor,
                           u_neg: torch.Tensor) -> torch.Tensor:
    """Loss of each (centre, context) pair, shape ``[B]``.

    ``v`` ``[B, d]`` centre vectors, ``u_pos`` ``[B, d]`` their context words' output
    vectors, ``u_neg`` ``[B, K, d]`` the output vectors of K noise words per pair.
    """
    positive = torch.nn.functional.logsigmoid((v * u_pos).sum(-1))
    negative = torch.nn.functional.logsigmoid(-torch.einsum("bkd,bd->bk", u_neg, v)).sum(-1)
    return -(positive + negative)


def negative_sampling_gradients(v: torch.Tensor, u_pos: torch.Tensor, u_neg: torch.Tensor
                                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """∂L/∂v ``[B, d]``, ∂L/∂u_pos ``[B, d]``, ∂L/∂u_neg ``[B, K, d]`` of each pair's
    :func:`negative_sampling_loss`, written out by hand (shapes as there)."""
    g_pos = torch.sigmoid((v * u_pos).sum(-1)) - 1  # [B]: σ(u_o·v) - 1, in (-1, 0)
    g_neg = torch.sigmoid(torch.einsum("bkd,bd->bk", u_neg, v))  # [B, K]: σ(u_n·v)
    grad_v = g_pos[:, None] * u_pos + torch.einsum("bk,bkd->bd", g_neg, u_neg)
    return grad_v, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]


# ---- the data: subsampling, noise, pairs ------------------------------------------------


def keep_probabilities(counts: torch.Tensor, threshold: float) -> torch.Tensor:
    """Probability ``[V]`` of keeping each occurrence of a word of frequency f (its share
    of all tokens): (√(f/t) + 1)·t/f as in word2vec's code, capped at 1; t = 0 keeps all."""
    if threshold <= 0:
        return torch.ones_like(counts)
    f = counts / counts.sum()
    return ((f / threshold).sqrt() + 1).mul(threshold / f).clamp(max=1.0)


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """The distribution ``[V]`` negatives are drawn from: counts^power, normalised.
    The 3/4 power gives rare words more chances than their frequency would."""
    weights = counts ** power
    return weights / weights.sum()


def skipgram_pairs(ids: torch.Tensor, sentence_of: torch.Tensor, window: int,
                   keep: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """All (centre, context) word-id pairs of one pass, shape ``[P, 2]``.

    ``ids`` ``[N]`` are the corpus's tokens end to end and ``sentence_of`` ``[N]`` the
    sentence each belongs to. Each token is kept with probability ``keep[id]``; each
    kept centre draws its window b uniformly from 1..``window`` and pairs with the kept
    tokens at most b positions away in its own sentence.
    """
    kept = torch.rand(len(ids), generator=generator, dtype=torch.float64) < keep[ids]
    ids, sentence_of = ids[kept], sentence_of[kept]
    reach = torch.randint(1, window + 1, (len(ids),), generator=generator)
    pairs = []
    for offset in range(1, window + 1):
        same = sentence_of[:-offset] == sentence_of[offset:]
        right = same & (reach[:-offset] >= offset)  # centre i, context i + offset
        left = same & (reach[offset:] >= offset)  # centre i + offset, context i
        pairs.append(torch.stack([ids[:-offset][right], ids[offset:][right]], 1))
        pairs.append(torch.stack([ids[offset:][left], ids[:-offset][left]], 1))
    return torch.cat(pairs)


# ---- the model and its training ---------------------------------------------------------


@dataclass
class SkipGram:
    """The two embedding tables: ``W_in`` ``[V, d]`` (the word vectors) and ``W_out``."""

    W_in: torch.Tensor
    W_out: torch.Tensor

    @classmethod
    def initial(cls, vocab_size: int, dim: int, generator: torch.Generator) -> SkipGram:
        """word2vec's start: W_in uniform in ±0.5/d, W_out zeros."""
        w_in = (torch.rand(vocab_size, dim, generator=generator) - 0.5) / dim
        return cls(w_in, torch.zeros(vocab_size, dim))


@dataclass
class BatchDone:
    """One SGD step: epoch (from 0), fraction of the training done, mean loss per pair."""

    epoch: int
    progress: float
    loss: float


@dataclass
class EpochDone:
    """One pass over the corpus, and its mean loss per pair."""

    epoch: int
    loss: float


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train`, with word2vec's usual values."""

    dim: int = 50  # d: size of each word vector
    window: int = 5  # largest distance between centre and context word
    negatives: int = 5  # K: noise words per pair
    subsample: float = 1e-3  # t: subsampling threshold (0 keeps every word)
    lr: float = 0.05  # SGD step at the start (word2vec: 0.025); falls linearly to lr/10^4
    epochs: int = 10
    batch: int = 1024  # pairs per SGD step
    seed: int = 0


def train(model: SkipGram, vocab: Vocabulary, sentences: list[list[str]],
          config: TrainConfig) -> Iterator[BatchDone | EpochDone]:
    """Train ``model`` in place with SGD on the hand-written gradients, yielding as it
    learns. One ``torch.Generator`` draws subsampling, windows, order and negatives."""
    generator = torch.Generator().manual_seed(config.seed)
    ids = torch.tensor([vocab.index[w] for s in sentences for w in s])
    sentence_of = torch.tensor([i for i, s in enumerate(sentences) for _ in s])
    keep = keep_probabilities(vocab.counts, config.subsample)
    noise = noise_distribution(vocab.counts).float()
    for epoch in range(config.epochs):
        pairs = skipgram_pairs(ids, sentence_of, config.window, keep, generator)
        pairs = pairs[torch.randperm(len(pairs), generator=generator)]
        losses = []
        for start in range(0, len(pairs), config.batch):
            centre, context = pairs[start:start + config.batch].T
            negative = torch.multinomial(noise, len(centre) * config.negatives, True,
                                         generator=generator).view(-1, config.negatives)
            done = (epoch + start / len(pairs)) / config.epochs  # share of training so far
            loss = sgd_step(model, centre, context, negative, config.lr * max(1e-4, 1 - done))
            losses.append(loss)
            yield BatchDone(epoch, (epoch + (start + len(centre)) / len(pairs)) / config.epochs,
                            loss)
        yield EpochDone(epoch, sum(losses) / max(1, len(losses)))


MOST_SUMMED = 10  # a row's updates in one batch add up to at most this many pairs' worth


def apply_updates(table: torch.Tensor, rows: torch.Tensor, grads: torch.Tensor,
                  lr: float) -> None:
    """``table[rows[i]] -= lr * grads[i]`` for every i, summed per row (``rows`` ``[m]``,
    ``grads`` ``[m, d]``); a row met more than :data:`MOST_SUMMED` times has its sum
    scaled down to that many updates' worth.

    word2vec updates one pair at a time, so each update sees the last one's result. A
    batch computes every gradient from the same old vectors: without subsampling "the"
    sits in about a hundred pairs of a batch of 1024, and a hundred summed steps overshoot
    (the loss becomes NaN). Rarer words, the ones whose vectors matter, are not scaled.
    """
    counts = torch.bincount(rows, minlength=len(table)).to(table.dtype)
    step = torch.zeros_like(table).index_add_(0, rows, grads)
    table.sub_(step * (lr / (counts / MOST_SUMMED).clamp(min=1.0))[:, None])


def sgd_step(model: SkipGram, centre: torch.Tensor, context: torch.Tensor,
             negative: torch.Tensor, lr: float) -> float:
    """One step on a batch of pairs (word ids ``[B]``, ``[B]``, ``[B, K]``): every pair
    moves its own rows by ``-lr`` times its gradient (:func:`apply_updates`). Returns
    the mean loss before the step."""
    v, u_pos, u_neg = model.W_in[centre], model.W_out[context], model.W_out[negative]
    loss = negative_sampling_loss(v, u_pos, u_neg).mean().item()
    grad_v, grad_pos, grad_neg = negative_sampling_gradients(v, u_pos, u_neg)
    apply_updates(model.W_in, centre, grad_v, lr)
    apply_updates(model.W_out, torch.cat([context, negative.reshape(-1)]),
                  torch.cat([grad_pos, grad_neg.reshape(-1, v.shape[1])]), lr)
    return loss


# ---- using the vectors: similarity, neighbours, analogies, a 2-D view ---------------------


def unit_rows(vectors: torch.Tensor) -> torch.Tensor:
    """Each row scaled to length 1, so dot products are cosine similarities."""
    return vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)


def nearest(vectors: torch.Tensor, query: torch.Tensor, k: int,
            exclude: list[int] = ()) -> list[tuple[int, float]]:
    """The ``k`` rows of ``vectors`` ``[V, d]`` most cosine-similar to ``query`` ``[d]``,
    as (row, cosine) pairs best first, leaving out the rows ``exclude``."""
    similarity = unit_rows(vectors) @ (query / query.norm().clamp(min=1e-12))
    similarity[list(exclude)] = -float("inf")
    top = similarity.topk(min(k, len(similarity) - len(exclude)))
    return list(zip(top.indices.tolist(), top.values.tolist(), strict=True))


def analogy(vectors: torch.Tensor, a: int, b: int, c: int, k: int = 1) -> list[tuple[int, float]]:
    """a is to b as c is to ?: the ``k`` words nearest to b - a + c on unit vectors
    (3CosAdd), a, b and c left out, as (row, cosine) pairs."""
    unit = unit_rows(vectors)
    return nearest(vectors, unit[b] - unit[a] + unit[c], k, exclude=[a, b, c])


def analogy_accuracy(vectors: torch.Tensor, index: dict[str, int],
                     questions: list[tuple[str, str, str, str]]) -> float:
    """Share of ``questions`` (a, b, c, d) whose :func:`analogy` answer is d."""
    unit = unit_rows(vectors)
    a, b, c, d = (torch.tensor([index[q[i]] for q in questions]) for i in range(4))
    scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # [Q, V]; same order as analogy()
    rows = torch.arange(len(questions))
    for excluded in (a, b, c):
        scores[rows, excluded] = -float("inf")
    return float((scores.argmax(1) == d).double().mean())


def pca_2d(vectors: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
    """The rows of ``vectors`` ``[n, d]`` projected on their two principal axes, ``[n, 2]``.
    An axis's sign is arbitrary: given the ``previous`` projection, each axis is flipped
    to agree with it, so a picture redrawn during training does not jump in a mirror."""
    centred = vectors.double() - vectors.double().mean(0)
    _, _, vt = torch.linalg.svd(centred, full_matrices=False)
    projected = centred @ vt[:2].T
    if previous is not None:
        signs = torch.sign((projected * previous).sum(0))
        projected = projected * torch.where(signs == 0, 1.0, signs)
    return projected
