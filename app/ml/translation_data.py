"""Toy translation tasks generated here, offline: dates and numbers written out in words.

* ``dates``: ``2026-11-29`` → ``29 November 2026``. The source is read character by
  character; the target is the day's digits (no leading zero), the month's name as one
  token, and the year's digits. The three parts come out in the opposite order from the
  way they go in, so the alignment between the two sides is easy to see and crosses.
* ``numbers``: ``4517`` → ``four thousand five hundred seventeen`` (0 to 9999, one digit
  per source token, one English word per target token).

Every example also knows its **alignment**: for each target token, the span of source
positions it was written from (``29`` ← characters 8–9). The demo measures how much of
each cross-attention row falls on that span.

The held-out split is fixed by a hash of each item's number, so a held-out input is never
sampled for training, whatever the seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import torch

Task = Literal["dates", "numbers"]
TASKS: tuple[Task, ...] = ("dates", "numbers")
PAD, BOS, EOS = "<pad>", "<s>", "</s>"  # padding, begin and end of a target sequence

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)
PROBES: dict[Task, str] = {"dates": "2026-11-29", "numbers": "4517"}
HELD_OUT_SHARE = 10  # one source in ten is held out
MAX_SOURCE: dict[Task, int] = {"dates": 10, "numbers": 4}


@dataclass(frozen=True)
class Example:
    """One pair: ``source`` and ``target`` tokens, and for every target token the source
    span ``(start, end)`` (end exclusive) it was written from."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]


# ---- the two tasks ------------------------------------------------------------------------


def date_example(day: date) -> Example:
    """``2026-11-29`` → ``2 9 November 2 0 2 6``: each digit aligned to the character it
    copies (the day's to 8–9, the year's to 0–3), the month's name to both month digits."""
    source = tuple(day.isoformat())
    day_digits = tuple(str(day.day))
    target = day_digits + (MONTHS[day.month - 1],) + tuple(str(day.year))
    days = ((8, 9), (9, 10))[-len(day_digits):]
    spans = days + ((5, 7),) + tuple((i, i + 1) for i in range(4))
    return Example(source, target, spans)


def number_words(digits: str, offset: int = 0) -> list[tuple[str, tuple[int, int]]]:
    """English words for the digit string ``digits`` (a number 0–9999) with the source span
    of each word; ``offset`` is the position of ``digits[0]`` in the whole source."""
    while len(digits) > 1 and digits[0] == "0":  # 4017: the zero hundreds are silent
        digits, offset = digits[1:], offset + 1
    n, first = int(digits), (offset, offset + 1)
    if len(digits) in (3, 4):
        unit = "thousand" if len(digits) == 4 else "hundred"
        rest = digits[1:]
        return [(ONES[int(digits[0])], first), (unit, first)] + (
            number_words(rest, offset + 1) if int(rest) else [])
    if n < 10:
        return [(ONES[n], first)]
    if n < 20:
        return [(TEENS[n - 10], (offset, offset + 2))]
    tens = [(TENS[n // 10], first)]
    return tens + ([(ONES[n % 10], (offset + 1, offset + 2))] if n % 10 else [])


def number_example(n: int) -> Example:
    """``4517`` → ``four thousand five hundred seventeen``, each word aligned to its digits."""
    words = number_words(str(n))
    return Example(tuple(str(n)), tuple(w for w, _ in words), tuple(s for _, s in words))


def example_of(task: Task, text: str) -> Example | None:
    """The pair whose source is ``text``, or None if ``text`` is no valid input of ``task``
    (``2026-02-30``, ``007``): the model still translates it, with no reference to compare."""
    if task == "dates":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        ok = len(text) == 10 and FIRST_DAY <= day <= LAST_DAY
        return date_example(day) if ok else None
    if not text.isdigit() or len(text) > 4 or (len(text) > 1 and text[0] == "0"):
        return None
    return number_example(int(text))


def check_source(task: Task, text: str) -> tuple[str, ...]:
    """The source tokens of a typed input (its characters).

    Raises ValueError naming what is wrong: a character the task never reads, or too long.
    """
    allowed = "0123456789-" if task == "dates" else "0123456789"
    if not text:
        raise ValueError("is empty")
    wrong = sorted({c for c in text if c not in allowed})
    if wrong:
        raise ValueError(f"{task} reads only the characters {allowed!r}; "
                         f"remove {''.join(wrong)!r}")
    if len(text) > MAX_SOURCE[task]:
        raise ValueError(f"{task} inputs have at most {MAX_SOURCE[task]} characters, "
                         f"got {len(text)}")
    return tuple(text)


# ---- vocabularies -------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Tokens by id; PAD is always 0, then BOS and EOS (unused on the source side)."""

    tokens: tuple[str, ...]

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: tuple[str, ...] | list[str]) -> list[int]:
        return [self.index[t] for t in tokens]

    def decode(self, ids: list[int]) -> list[str]:
        """Tokens up to (not including) the first EOS or PAD."""
        out = []
        for i in ids:
            if i in (self.index[EOS], self.index[PAD]):
                break
            out.append(self.tokens[i])
        return out


SPECIAL = (PAD, BOS, EOS)
DIGITS = tuple("0123456789")
SOURCE_VOCAB: dict[Task, Vocabulary] = {"dates": Vocabulary(SPECIAL + DIGITS + ("-",)),
                                        "numbers": Vocabulary(SPECIAL + DIGITS)}
TARGET_VOCAB: dict[Task, Vocabulary] = {
    "dates": Vocabulary(SPECIAL + DIGITS + tuple(MONTHS)),
    "numbers": Vocabulary(SPECIAL + tuple(ONES[1:]) + tuple(TEENS) + tuple(TENS[2:])
                          + ("zero", "hundred", "thousand")),
}
MAX_TARGET: dict[Task, int] = {"dates": 7, "numbers": 6}  # tokens, before EOS


# ---- the split and batches ----------------------------------------------------------------


def is_held_out(item: int) -> bool:
    """One item in :data:`HELD_OUT_SHARE`, chosen by a multiplicative (Knuth) hash of its
    number: spread over the whole range, the same on every machine."""
    return (item * 2_654_435_761) % 2**32 * HELD_OUT_SHARE >> 32 == 0


@functools.cache
def split(task: Task) -> tuple[list[int], list[int]]:
    """Training and held-out items: day offsets from 1900-01-01, or the numbers 0–9999."""
    count = (LAST_DAY - FIRST_DAY).days + 1 if task == "dates" else 10_000
    train = [i for i in range(count) if not is_held_out(i)]
    held = [i for i in range(count) if is_held_out(i)]
    return train, held


def make_example(task: Task, item: int) -> Example:
    if task == "dates":
        return date_example(FIRST_DAY + timedelta(days=item))
    return number_example(item)


def to_tensors(task: Task, examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    """``src`` ``[B, Ls]`` and ``tgt`` ``[B, Lt + 2]`` (BOS, tokens, EOS) ids, PAD-filled."""
    src_vocab, tgt_vocab = SOURCE_VOCAB[task], TARGET_VOCAB[task]
    src_len = max(len(e.source) for e in examples)
    tgt_len = max(len(e.target) for e in examples) + 2
    src = torch.zeros(len(examples), src_len, dtype=torch.long)
    tgt = torch.zeros(len(examples), tgt_len, dtype=torch.long)
    for row, e in enumerate(examples):
        src[row, :len(e.source)] = torch.tensor(src_vocab.encode(e.source))
        ids = [tgt_vocab.index[BOS]] + tgt_vocab.encode(e.target) + [tgt_vocab.index[EOS]]
        tgt[row, :len(ids)] = torch.tensor(ids)
    return src, tgt


def sample_batch(task: Task, batch: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random training pairs as :func:`to_tensors` (never a held-out source)."""
    train, _ = split(task)
    picks = torch.randint(0, len(train), (batch,), generator=generator).tolist()
    return to_tensors(task, [make_example(task, train[i]) for i in picks])


@functools.cache
def held_out_examples(task: Task, size: int = 256) -> tuple[Example, ...]:
    """A fixed evaluation set of ``size`` held-out pairs (the same for every run)."""
    _, held = split(task)
    generator = torch.Generator().manual_seed(20_261_129)
    picks = torch.randperm(len(held), generator=generator)[:size].tolist()
    return tuple(make_example(task, held[i]) for i in picks)
