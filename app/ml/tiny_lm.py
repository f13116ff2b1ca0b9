"""A little language and a tiny decoder-only transformer that learns it.

The language is a probabilistic grammar small enough to list every sentence with its
exact probability, and built so that picking the likeliest word at each step (greedy
decoding) misses the likeliest sentence:

    the  (0.38)  then one of 4 nouns, then one of 3 verbs  → each sentence 0.38/12
    a    (0.34)  then small or big, then "cat slept"       → each sentence 0.17
    my   (0.28)  then "cat sat"                            → the sentence 0.28

Greedy starts with "the", the likeliest first word, and ends with a 1-in-32 sentence.
A beam of 2 keeps "a" too and finds 0.17; only a beam of 3 keeps "my".

The model is :class:`~app.ml.tiny_transformer.TinyTransformer` with causal attention:
position t sees tokens 0..t and predicts token t+1, so one forward pass trains on every
next-word prediction of a sentence at once. :func:`decode_every_width` then writes the
trained model's sentence with each beam width (:mod:`app.ml.beam_search`) and finds its
most probable sentence of all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from app.ml.beam_search import BeamResult, Hypothesis, beam_search, most_probable
from app.ml.tiny_transformer import TinyTransformer

START, END = "<s>", "."
NOUNS = ["cat", "dog", "bird", "fish"]
VERBS = ["sat", "ran", "slept"]
VOCAB = [START, END, "the", "a", "my", *NOUNS, "small", "big", *VERBS]
INDEX = {word: i for i, word in enumerate(VOCAB)}
MAX_LENGTH = 8  # tokens in a sentence, <s> and the final "." included, with room to spare


def sentences() -> dict[tuple[str, ...], float]:
    """Every sentence of the language (without <s>, with the final ".") and its probability."""
    language: dict[tuple[str, ...], float] = {}
    for noun in NOUNS:
        for verb in VERBS:
            language["the", noun, verb, END] = 0.38 / (len(NOUNS) * len(VERBS))
    for size in ("small", "big"):
        language["a", size, "cat", "slept", END] = 0.34 / 2
    language["my", "cat", "sat", END] = 0.28
    return language


def entropy_per_token() -> float:
    """The lowest average next-word loss any model can reach on this language, in nats."""
    language = sentences()
    total = -sum(p * math.log(p) for p in language.values())
    mean_length = sum(p * len(s) for s, p in language.items())
    return total / mean_length


def sample_batch(batch: int, generator: torch.Generator) -> torch.Tensor:
    """``[batch, MAX_LENGTH]`` token ids: <s>, a sampled sentence, then "." as padding."""
    language = sentences()
    options = list(language)
    picks = torch.multinomial(torch.tensor(list(language.values())), batch, replacement=True,
                              generator=generator)
    rows = []
    for i in picks.tolist():
        words = [START, *options[i]]
        rows.append([INDEX[w] for w in words] + [INDEX[END]] * (MAX_LENGTH - len(words)))
    return torch.tensor(rows)


def language_model(d_model: int = 32, heads: int = 2, layers: int = 2) -> TinyTransformer:
    """A decoder-only transformer over the language's words, learned positions."""
    return TinyTransformer(len(VOCAB), MAX_LENGTH, d_model, heads, layers, "learned",
                           causal=True)


def next_word_loss(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of predicting each token from those before it.

    Only up to each sentence's first "." counts: what comes after is padding.
    """
    logits = model(tokens[:, :-1])
    targets = tokens[:, 1:]
    is_end = (targets == INDEX[END]).long()
    counted = is_end.cumsum(1) - is_end == 0  # no "." before: up to and including the first
    losses = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return losses[counted].mean()


@dataclass
class LMStep:
    step: int
    loss: float


def train_language_model(model: nn.Module, steps: int, seed: int, batch: int = 256,
                         lr: float = 3e-3) -> Iterator[LMStep]:
    """Adam on the next-word loss of freshly sampled sentences; yields after each update.

    The learning rate decays linearly to zero: the model has to learn probabilities, not
    just the likeliest word, and a constant step keeps them jittering around the truth.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr * (1 - (step - 1) / steps)
        loss = next_word_loss(model, sample_batch(batch, generator))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield LMStep(step, float(loss.detach()))


def next_log_probs(model: nn.Module, prefixes: list[list[int]]) -> torch.Tensor:
    """``[n, vocab]`` log p(next word | prefix) for prefixes of equal length."""
    with torch.no_grad():
        logits = model(torch.tensor(prefixes))[:, -1]
    return torch.log_softmax(logits, dim=-1)


def sentence_text(hypothesis: Hypothesis) -> str:
    """A decoded sentence's words after ``<s>``, e.g. ``"my cat sat ."``."""
    return " ".join(VOCAB[t] for t in hypothesis.tokens[1:])


@dataclass
class Decodings:
    """One model's sentences: the best of a beam search at each width, and the exact most
    probable sentence (None if best-first search gave up; see :func:`most_probable`)."""

    by_width: dict[int, BeamResult]
    most_probable: Hypothesis | None


def decode_every_width(model: nn.Module, widths: Iterable[int],
                       length_penalty: float = 0.0) -> Decodings:
    """Decode ``model`` (put in eval mode) from ``<s>`` with a beam of each of ``widths``
    (1 is greedy), ranking by ``log p / length ** length_penalty``, and by exact best-first
    search; sentences have at most ``MAX_LENGTH - 1`` words, the final "." included."""
    model.eval()
    next_words = partial(next_log_probs, model)
    start, end, longest = INDEX[START], INDEX[END], MAX_LENGTH - 1
    by_width = {w: beam_search(next_words, start, end, w, longest, length_penalty)
                for w in widths}
    return Decodings(by_width, most_probable(next_words, start, end, longest))
