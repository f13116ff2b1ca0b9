"""A BiLSTM tagger with two heads: a CRF (scores whole tag sequences) or a per-token softmax.

Both read the same features: the lowercased word (unknown words share one UNK id)
and the word's *shape* (Capitalised, ALLCAPS, digits, punctuation...), so a name the
model never saw in training still looks like a name. A bidirectional LSTM turns the
features into one score per tag per token, the emissions. The softmax head picks the
best tag of each token on its own; the CRF head adds transition scores and decodes
the best sequence with Viterbi.

Dropout is written out with an explicit ``torch.Generator`` so training is
reproducible even when other threads use torch's global random generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from app.ml.crf import CRF
from app.ml.ner_data import TAGS, entity_f1, invalid_transitions

PAD, UNK = 0, 1
SHAPES = ["pad", "Xx", "X", "XX", "x", "d", "p", "other"]


def word_shape(word: str) -> int:
    """A coarse shape class of a word: what is left of a name once we forget its letters."""
    if word.isdigit():
        return SHAPES.index("d")
    if not any(c.isalnum() for c in word):
        return SHAPES.index("p")
    if word.isupper():
        return SHAPES.index("X" if len(word) == 1 else "XX")
    if word[0].isupper():
        return SHAPES.index("Xx")
    if word.islower():
        return SHAPES.index("x")
    return SHAPES.index("other")


class Vocabulary:
    """Lowercased training words to ids; 0 is padding, 1 is every unknown word."""

    def __init__(self, sentences: list[list[str]]) -> None:
        words = sorted({w.lower() for s in sentences for w in s})
        self.ids = {w: i + 2 for i, w in enumerate(words)}

    def __len__(self) -> int:
        return len(self.ids) + 2

    def encode(self, tokens: list[str]) -> tuple[list[int], list[int]]:
        """(word ids, shape ids) of one sentence."""
        return [self.ids.get(w.lower(), UNK) for w in tokens], [word_shape(w) for w in tokens]


@dataclass
class Batch:
    """Padded tensors for B sentences of at most T tokens."""

    words: torch.Tensor  # [B, T] word ids
    shapes: torch.Tensor  # [B, T] shape ids
    tags: torch.Tensor  # [B, T] tag ids (0 on padding)
    mask: torch.Tensor  # [B, T] True on real tokens


def make_batch(vocab: Vocabulary, sentences: list[tuple[list[str], list[str]]]) -> Batch:
    """Encode and pad (tokens, tags) pairs; tags may be empty lists when unknown."""
    length = max(len(tokens) for tokens, _ in sentences)
    words = torch.zeros(len(sentences), length, dtype=torch.long)
    shapes = torch.zeros_like(words)
    tags = torch.zeros_like(words)
    for row, (tokens, labels) in enumerate(sentences):
        ids, shape_ids = vocab.encode(tokens)
        words[row, :len(ids)] = torch.tensor(ids)
        shapes[row, :len(ids)] = torch.tensor(shape_ids)
        if labels:
            tags[row, :len(labels)] = torch.tensor([TAGS.index(t) for t in labels])
    return Batch(words, shapes, tags, words != PAD)


def dropout(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout drawn from ``generator``; the identity when not training."""
    if generator is None or p == 0:
        return x
    keep = torch.rand(x.shape, generator=generator) > p
    return x * keep / (1 - p)


class BiLSTMTagger(nn.Module):
    """Embeddings -> BiLSTM -> linear emissions, with a CRF head or a softmax head."""

    def __init__(self, vocab_size: int, embedding: int, hidden: int, use_crf: bool,
                 num_tags: int = len(TAGS), shape_size: int = 8) -> None:
        super().__init__()
        self.words = nn.Embedding(vocab_size, embedding, padding_idx=PAD)
        self.shapes = nn.Embedding(len(SHAPES), shape_size, padding_idx=0)
        self.lstm = nn.LSTM(embedding + shape_size, hidden, batch_first=True,
                            bidirectional=True)
        self.emit = nn.Linear(2 * hidden, num_tags)
        self.crf = CRF(num_tags) if use_crf else None

    def emissions(self, batch: Batch, p: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-token tag scores ``[B, T, K]``; dropout only when a generator is given."""
        words = batch.words
        if generator is not None and p > 0:
            # Word dropout: hide some known words behind UNK so the model learns what
            # to do with unknown ones (the names it will meet in dev) from context and shape.
            hide = (torch.rand(words.shape, generator=generator) < p / 2) & batch.mask
            words = words.masked_fill(hide, UNK)
        x = torch.cat([self.words(words), self.shapes(batch.shapes)], dim=2)
        x = dropout(x, p, generator)
        # Packing lets the backward direction start at each sentence's real last word.
        lengths = batch.mask.sum(1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        return self.emit(dropout(out, p, generator))

    def loss(self, batch: Batch, p: float, generator: torch.Generator) -> torch.Tensor:
        """Mean negative log-likelihood per token (CRF: of whole sequences, shared out)."""
        scores = self.emissions(batch, p, generator)
        tokens = batch.mask.sum()
        if self.crf is not None:
            return -self.crf.log_likelihood(scores, batch.tags, batch.mask).sum() / tokens
        picked = torch.log_softmax(scores, dim=2).gather(2, batch.tags.unsqueeze(2)).squeeze(2)
        return -(picked * batch.mask).sum() / tokens

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[list[int]]:
        """Tag ids of each sentence: Viterbi for the CRF, per-token argmax for softmax."""
        scores = self.emissions(batch)
        if self.crf is not None:
            return self.crf.decode(scores, batch.mask)
        lengths = batch.mask.sum(1).tolist()
        return [row[:n] for row, n in zip(scores.argmax(2).tolist(), lengths, strict=True)]


def shuffled_batches(n: int, size: int, generator: torch.Generator) -> list[list[int]]:
    """Indices 0..n-1 in a random order, cut into batches."""
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i:i + size] for i in range(0, n, size)]


def evaluate(model: BiLSTMTagger, batches: list[Batch],
             gold: list[list[str]]) -> tuple[float, int, list[list[str]]]:
    """(entity F1, invalid BIO transitions decoded, predicted tags) over pre-built batches."""
    model.eval()
    predicted = [[TAGS[i] for i in row] for batch in batches for row in model.predict(batch)]
    model.train()
    bad = sum(invalid_transitions(tags) for tags in predicted)
    return entity_f1(gold, predicted), bad, predicted


@torch.no_grad()
def viterbi_lattice(model: BiLSTMTagger, vocab: Vocabulary,
                    tokens: list[str]) -> tuple[torch.Tensor, list[int]]:
    """One sentence's Viterbi lattice and best path, from a CRF tagger.

    Returns ``scores`` ``[T, K]``: the best score of any prefix ending in tag k at token t,
    minus the best at that token (so 0 is the leader, negatives how far behind), and the
    best path's tag ids (length T).
    """
    assert model.crf is not None, "a lattice needs the CRF head"
    batch = make_batch(vocab, [(tokens, [])])
    paths, _, lattice = model.crf.viterbi(model.emissions(batch), batch.mask)
    scores = lattice[0] - lattice[0].max(dim=1, keepdim=True).values  # [T, K]
    return scores, paths[0].tolist()
