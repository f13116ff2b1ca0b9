"""Training the encoder–decoder (app/ml/seq2seq.py) and decoding with it.

Training is classification at every target position: cross-entropy of y_t given the
source and the previous target tokens. With a teacher-forcing ratio of 1 the decoder is
always fed the true previous tokens; below 1, **scheduled sampling** replaces each fed
token, with probability 1 − ratio, by the model's own prediction. In a Transformer that
takes two passes (Mihaylova and Liu, 2019): a teacher-forced pass without gradients
predicts every position, then the mixed input is fed to the pass that learns.

Evaluation decodes the held-out sources (greedy, or beam search from
app/ml/beam_search.py) and scores the outputs by exact match and corpus BLEU
(app/ml/bleu.py), and measures exposure bias as the gap between teacher-forced and
free-running token accuracy. Every random draw comes from an explicit generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from app.ml.beam_search import beam_search
from app.ml.bleu import corpus_bleu
from app.ml.seq2seq import Seq2SeqTransformer
from app.ml.translation_data import (
    BOS,
    MAX_TARGET,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    Example,
    Task,
    held_out_examples,
    sample_batch,
    to_tensors,
)

Decoding = Literal["greedy", "beam"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training depends on; the same config gives the same model."""

    task: Task = "dates"
    layers: int = 1
    heads: int = 2
    d_model: int = 32
    lr: float = 0.003
    steps: int = 600
    batch: int = 64
    teacher_forcing: float = 1.0  # probability of feeding the true previous token
    seed: int = 0


def build_model(config: TrainConfig) -> Seq2SeqTransformer:
    """An untrained model for ``config`` (seed torch's generator before calling)."""
    return Seq2SeqTransformer(len(SOURCE_VOCAB[config.task]), len(TARGET_VOCAB[config.task]),
                              config.d_model, config.heads, config.layers)


# ---- training -----------------------------------------------------------------------------


def mix_inputs(target_in: torch.Tensor, predicted: torch.Tensor, ratio: float,
               generator: torch.Generator) -> torch.Tensor:
    """Scheduled sampling: position t > 0 of the decoder's input keeps the true token with
    probability ``ratio``, else takes the model's prediction for it (``predicted[:, t-1]``)."""
    own = torch.cat([target_in[:, :1], predicted[:, :-1]], dim=1)
    use_own = torch.rand(target_in.shape, generator=generator) >= ratio
    use_own[:, 0] = False  # BOS is always given
    use_own &= target_in != 0  # padding stays padding
    return torch.where(use_own, own, target_in)


def training_steps(model: Seq2SeqTransformer, config: TrainConfig,
                   stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, float]]:
    """Adam on per-token cross-entropy; yields ``(step, loss)`` after each update."""
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    for step in range(1, config.steps + 1):
        source, target = sample_batch(config.task, config.batch, generator)
        target_in, target_out = target[:, :-1], target[:, 1:]
        model.train()
        if config.teacher_forcing < 1:
            with torch.no_grad():
                predicted = model(source, target_in).argmax(-1)
            target_in = mix_inputs(target_in, predicted, config.teacher_forcing, generator)
        logits = model(source, target_in)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           target_out.reshape(-1), ignore_index=0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        yield step, float(loss.detach())
        if stop():
            return


# ---- decoding -----------------------------------------------------------------------------


@torch.no_grad()
def greedy_decode(model: Seq2SeqTransformer, source: torch.Tensor, max_length: int
                  ) -> torch.Tensor:
    """The likeliest token at every step, for a batch: ids ``[B, ≤ max_length + 1]``
    (EOS included; after it, padding). Each step runs the decoder on the prefix so far."""
    memory, pad = model.encode(source)
    bos, eos = 1, 2  # TARGET_VOCAB ids of BOS and EOS in every task
    prefix = torch.full((source.shape[0], 1), bos, dtype=torch.long)
    done = torch.zeros(source.shape[0], dtype=torch.bool)
    for _ in range(max_length + 1):
        nxt = model.decode(prefix, memory, pad).logits[:, -1].argmax(-1)
        nxt = torch.where(done, torch.zeros_like(nxt), nxt)
        prefix = torch.cat([prefix, nxt[:, None]], dim=1)
        done |= nxt == eos
        if done.all():
            break
    return prefix[:, 1:]


@torch.no_grad()
def beam_decode(model: Seq2SeqTransformer, source: torch.Tensor, width: int,
                max_length: int) -> list[int]:
    """Beam search (app/ml/beam_search.py) for one source ``[1, S]``: ids with EOS."""
    memory, pad = model.encode(source)

    def next_log_probs(prefixes: list[list[int]]) -> torch.Tensor:
        ids = torch.tensor(prefixes)
        n = len(prefixes)
        logits = model.decode(ids, memory.expand(n, -1, -1), pad.expand(n, -1)).logits
        return logits[:, -1].log_softmax(-1)

    return beam_search(next_log_probs, 1, 2, width, max_length + 1).best.tokens[1:]


def decode(model: Seq2SeqTransformer, task: Task, source: torch.Tensor,
           decoding: Decoding = "greedy", width: int = 3) -> list[list[str]]:
    """Output tokens (without EOS) for every source row ``[B, S]``."""
    vocab, longest = TARGET_VOCAB[task], MAX_TARGET[task] + 2
    if decoding == "greedy":
        ids = greedy_decode(model, source, longest).tolist()
    else:
        ids = [beam_decode(model, row[None], width, longest) for row in source]
    return [vocab.decode(row) for row in ids]


@dataclass
class Translation:
    """One source translated: output tokens and the cross-attention of producing them,
    ``[layers][heads][output tokens + EOS][source tokens]``."""

    source: list[str]
    output: list[str]
    cross_attention: list[list[list[list[float]]]]


@torch.no_grad()
def translate(model: Seq2SeqTransformer, task: Task, source: tuple[str, ...] | list[str],
              decoding: Decoding = "greedy", width: int = 3) -> Translation:
    """Decode ``source`` and read back the cross-attention rows of each output token.

    The maps come from one teacher-forced pass over BOS + the output: with the causal mask
    row t is exactly what the decoder computed when it chose token t.
    """
    ids = torch.tensor([SOURCE_VOCAB[task].encode(source)])
    output = decode(model, task, ids, decoding, width)[0]
    vocab = TARGET_VOCAB[task]
    target_in = torch.tensor([[vocab.index[BOS]] + vocab.encode(output)])
    memory, pad = model.encode(ids)
    maps = model.decode(target_in, memory, pad).cross_attention
    return Translation(list(source), output, [m[0].tolist() for m in maps])


def alignment_mass(cross_attention: list[list[list[list[float]]]],
                   spans: tuple[tuple[int, int], ...]) -> float:
    """Mean weight a row puts on its aligned source span, over output tokens (EOS left out),
    the heads of the last layer and those tokens: 1 = every row inside its span."""
    last = cross_attention[-1]
    rows = [sum(head[t][start:end]) for head in last for t, (start, end) in enumerate(spans)]
    return sum(rows) / len(rows)


# ---- evaluation ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Held-out scores after ``step`` updates; ``bleu`` is 0–100, the rest fractions 0–1."""

    step: int
    exact_match: float
    bleu: float
    teacher_forced_accuracy: float  # next-token accuracy fed the true prefix
    free_running_accuracy: float  # token accuracy of the model's own greedy output


@torch.no_grad()
def evaluate(model: Seq2SeqTransformer, task: Task, step: int,
             examples: tuple[Example, ...] | None = None, decoding: Decoding = "greedy",
             width: int = 3) -> Evaluation:
    """Score ``model`` on ``examples`` (default: the fixed held-out set)."""
    examples = examples or held_out_examples(task)
    source, target = to_tensors(task, list(examples))
    target_in, target_out = target[:, :-1], target[:, 1:]
    real = target_out != 0
    forced = model(source, target_in).argmax(-1)
    forced_accuracy = float((forced == target_out)[real].float().mean())
    greedy = greedy_decode(model, source, MAX_TARGET[task] + 2)
    free = torch.zeros_like(target_out)
    width_ = min(free.shape[1], greedy.shape[1])
    free[:, :width_] = greedy[:, :width_]
    free_accuracy = float((free == target_out)[real].float().mean())
    if decoding == "greedy":
        outputs = [TARGET_VOCAB[task].decode(row) for row in greedy.tolist()]
    else:
        outputs = decode(model, task, source, decoding, width)
    references = [list(e.target) for e in examples]
    exact = sum(o == r for o, r in zip(outputs, references, strict=True)) / len(examples)
    bleu = corpus_bleu(outputs, references).score
    return Evaluation(step, exact, bleu, forced_accuracy, free_accuracy)


# ---- a training kept for re-use -----------------------------------------------------------


@dataclass
class Trained:
    """A model with the record of its training (``losses``: (step, loss) pairs)."""

    config: TrainConfig
    model: Seq2SeqTransformer
    losses: list[tuple[int, float]] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    seconds: float = 0.0  # CPU seconds of this process spent training
    finished: bool = False

    def train(self, every: int, stop: Callable[[], bool] = lambda: False
              ) -> Iterator[tuple[int, float] | Evaluation]:
        """Train to the end (or ``stop()``), yielding each ``(step, loss)`` and an
        :class:`Evaluation` every ``every`` steps, at step 0 and at the last step."""
        started = time.process_time()
        self.evaluations.append(evaluate(self.model, self.config.task, 0))
        yield self.evaluations[-1]
        step = 0
        for step, loss in training_steps(self.model, self.config, stop):
            self.losses.append((step, loss))
            yield step, loss
            if step % every == 0 or step == self.config.steps:
                self.evaluations.append(evaluate(self.model, self.config.task, step))
                yield self.evaluations[-1]
        if self.evaluations[-1].step != step:  # stopped between evaluations
            self.evaluations.append(evaluate(self.model, self.config.task, step))
            yield self.evaluations[-1]
        self.finished = step == self.config.steps
        self.seconds = time.process_time() - started


