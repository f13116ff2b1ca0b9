"""Decoding against brute force, and the tiny language model against its own language.

The reference for every search is exhaustive enumeration of all sentences up to the
length limit; the reference for the language model is the grammar's exact probabilities.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
import torch

from app.demos.base import seeded
from app.ml.beam_search import beam_search, greedy, most_probable, search_tree
from app.ml.tiny_lm import (
    END,
    INDEX,
    START,
    VOCAB,
    decode_every_width,
    language_model,
    next_log_probs,
    next_word_loss,
    sample_batch,
    sentence_text,
    sentences,
    train_language_model,
)

S, E = 0, 1  # start and end tokens of the table models


def table_model(table: dict[tuple[int, ...], list[float]], vocab: int):
    """next_log_probs from a table: prefix (after the start token) -> next-token probs."""
    def next_log_probs(prefixes: list[list[int]]) -> torch.Tensor:
        rows = [table.get(tuple(p[1:]), [1.0 / vocab] * vocab) for p in prefixes]
        return torch.tensor(rows, dtype=torch.float64).log()
    return next_log_probs


def random_table(vocab: int, max_length: int, seed: int) -> dict[tuple[int, ...], list[float]]:
    generator = torch.Generator().manual_seed(seed)
    table = {}
    for n in range(max_length):
        for prefix in itertools.product(range(1, vocab), repeat=n):
            if E in prefix:
                continue
            logits = torch.randn(vocab, generator=generator, dtype=torch.float64) * 2
            logits[S] = -math.inf  # the start token never comes again
            table[prefix] = torch.softmax(logits, 0).tolist()
    return table


def brute_force(table, vocab: int, max_length: int, length_penalty: float = 0.0):
    """Every sentence ending in E within max_length tokens, with its score; the best."""
    best = None
    for n in range(1, max_length + 1):
        for body in itertools.product(range(2, vocab), repeat=n - 1):
            tokens = (*body, E)
            log_p = sum(math.log(table[tokens[:i]][t]) for i, t in enumerate(tokens))
            score = log_p / n ** length_penalty
            if best is None or score > best[0]:
                best = (score, [S, *tokens], log_p)
    return best


def test_the_lessons_exercise_greedy_loses_to_a_beam_of_two():
    # p(A) = 0.6, p(B) = 0.4; then (0.4, 0.3, 0.3) after A and (0.9, 0.05, 0.05) after B.
    A, B, X, Y, Z = 2, 3, 4, 5, 6
    table = {(): [0, 0, 0.6, 0.4, 0, 0, 0],
             (A,): [0, 0, 0, 0, 0.4, 0.3, 0.3], (B,): [0, 0, 0, 0, 0.9, 0.05, 0.05]}
    for word in (X, Y, Z):  # then the sentence ends
        table[A, word] = table[B, word] = [0, 1, 0, 0, 0, 0, 0]
    model = table_model(table, 7)
    assert greedy(model, S, E, 3).tokens == [S, A, X, E]
    assert math.exp(greedy(model, S, E, 3).log_prob) == pytest.approx(0.24)
    two = beam_search(model, S, E, 2, 3).best
    assert two.tokens == [S, B, X, E] and math.exp(two.log_prob) == pytest.approx(0.36)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_enough_beam_is_exhaustive(seed, length_penalty):
    vocab, max_length = 5, 4
    table = random_table(vocab, max_length, seed)
    model = table_model(table, vocab)
    score, tokens, log_p = brute_force(table, vocab, max_length, length_penalty)
    found = beam_search(model, S, E, vocab ** max_length, max_length, length_penalty).best
    assert found.tokens == tokens
    assert found.log_prob == pytest.approx(log_p)
    if length_penalty == 0:
        exact = most_probable(model, S, E, max_length)
        assert exact.tokens == tokens and exact.log_prob == pytest.approx(log_p)
        # No beam can beat the best sentence, and a width of 1 is plain greedy decoding.
        for width in (1, 2, 3):
            assert beam_search(model, S, E, width, max_length).best.log_prob <= log_p + 1e-12


@pytest.mark.parametrize("seed", range(8))
def test_a_beam_of_one_takes_the_likeliest_token_every_step(seed):
    vocab, max_length = 5, 4
    model = table_model(random_table(vocab, max_length, seed), vocab)
    tokens = [S]
    while tokens[-1] != E and len(tokens) <= max_length:
        tokens.append(int(model([tokens])[0].argmax()))
    assert greedy(model, S, E, max_length).tokens == tokens


def test_the_language_and_its_samples():
    language = sentences()
    assert sum(language.values()) == pytest.approx(1.0)
    assert max(language, key=language.get) == ("my", "cat", "sat", ".")
    batch = sample_batch(20_000, torch.Generator().manual_seed(0))
    firsts = Counter(VOCAB[t] for t in batch[:, 1].tolist())
    assert firsts["the"] / 20_000 == pytest.approx(0.38, abs=0.015)
    assert firsts["my"] / 20_000 == pytest.approx(0.28, abs=0.015)
    assert (batch[:, 0] == INDEX[START]).all() and (batch[:, -1] == INDEX[END]).all()


def test_causal_model_never_looks_ahead():
    with seeded(0):
        model = language_model().eval()
    a = torch.tensor([[0, 2, 5, 11, 1, 1, 1]])
    b = torch.tensor([[0, 2, 5, 13, 4, 9, 3]])  # same first three tokens
    with torch.no_grad():
        assert torch.equal(model(a)[:, :3], model(b)[:, :3])
        assert not torch.allclose(model(a)[:, 3], model(b)[:, 3])


def test_loss_ignores_the_padding_after_the_sentence():
    with seeded(0):
        model = language_model()
    tokens = sample_batch(4, torch.Generator().manual_seed(1))
    padded_differently = tokens.clone()
    padded_differently[tokens == INDEX[END]] = INDEX["dog"]
    for row, original in zip(padded_differently, tokens, strict=True):
        first_end = (original == INDEX[END]).nonzero()[0, 0]
        row[first_end] = INDEX[END]  # keep each sentence's own "."
    assert torch.equal(next_word_loss(model, tokens), next_word_loss(model, padded_differently))


def test_trained_model_learns_the_probabilities_and_beams_find_them():
    with seeded(0):
        model = language_model()
    for _ in train_language_model(model, 150, seed=0):
        pass
    model.eval()

    def p(sentence: str) -> float:
        tokens = [INDEX[START]] + [INDEX[w] for w in sentence.split()]
        return math.exp(sum(float(next_log_probs(model, [tokens[:i]])[0, t])
                            for i, t in enumerate(tokens[1:], start=1)))

    assert p("my cat sat .") == pytest.approx(0.28, abs=0.03)
    assert p("a big cat slept .") == pytest.approx(0.17, abs=0.03)
    assert p("the dog ran .") == pytest.approx(0.38 / 12, abs=0.01)

    def decode(width: int) -> str:
        best = beam_search(lambda q: next_log_probs(model, q), INDEX[START], INDEX[END],
                           width, 7).best
        return " ".join(VOCAB[t] for t in best.tokens[1:])

    assert decode(1).startswith("the ")
    assert decode(2) in ("a big cat slept .", "a small cat slept .")
    assert decode(3) == decode(8) == "my cat sat ."

    # What the beam-search demo shows: every width's search as above, and the exact best.
    decoded = decode_every_width(model, range(1, 9))
    assert sorted(decoded.by_width) == list(range(1, 9))
    for width, result in decoded.by_width.items():
        assert sentence_text(result.best) == decode(width), width
        assert result.best.log_prob == pytest.approx(math.log(p(decode(width))), abs=1e-5)
    assert decoded.most_probable is not None
    assert sentence_text(decoded.most_probable) == "my cat sat ."
    # Brute force over the grammar's sentences: none is more probable under the model.
    assert max(p(" ".join(s)) for s in sentences()) == pytest.approx(
        math.exp(decoded.most_probable.log_prob), abs=1e-6)


def test_the_search_tree_ranks_kept_prefixes_first_then_the_best_dropped():
    # Tokens A = 2 (0.6) or B = 3 (0.4), then the end: a beam of 1 keeps A and drops B.
    table = {(): [0.0, 0.0, 0.6, 0.4], (2,): [0.0, 1.0, 0.0, 0.0], (3,): [0.0, 1.0, 0.0, 0.0]}
    result = beam_search(table_model(table, 4), S, E, 1, 3)
    nodes = search_tree(result, 1)
    first = [(n.rank, n.hypothesis.tokens, n.kept) for n in nodes if n.step == 1]
    assert first == [(0, [S, 2], True), (1, [S, 3], False)]
    assert all(n.step >= 1 and (n.kept or n.rank >= 1) for n in nodes)
    assert [n.rank for n in nodes if n.step == 1] == [0, 1]
    assert len(search_tree(result, 0)) == len(result.steps)  # one kept prefix per step
