"""A batched linear-chain conditional random field (CRF), batch-first.

Shapes used throughout: B sentences, T time steps (the longest sentence), K tags.
``emissions`` is ``[B, T, K]`` (a score for every tag at every token, e.g. from a
BiLSTM), ``tags`` is ``[B, T]`` and ``mask`` is a boolean ``[B, T]`` that is True on
real tokens. Masks must be left-aligned: each row is ones then zeros, and the first
token is always real (an empty sentence has nothing to tag).

The score of a tag sequence y for a sentence x of length n is

    start[y_1] + sum_t emissions[t, y_t] + sum_{t>1} transitions[y_{t-1}, y_t] + end[y_n]

and the CRF's probability is exp(score) / Z(x), where the partition function Z sums
exp(score) over all K**n sequences. The forward algorithm computes log Z in O(n K^2).
Parameter names match pytorch-crf so weights can be copied between the two.
"""

from __future__ import annotations

import torch
from torch import nn


class CRF(nn.Module):
    """Linear-chain CRF over ``num_tags`` tags with learnable transition scores."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        # Small uniform init, as pytorch-crf does: no transition is preferred at first.
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        # transitions[i, j] is the score of moving from tag i to tag j.
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))

    # ---- scoring one given path ---------------------------------------------------------

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor,
                   mask: torch.Tensor) -> torch.Tensor:
        """The unnormalised score of ``tags`` for each sentence: ``[B]``."""
        mask_f = mask.to(emissions.dtype)
        batch = torch.arange(emissions.shape[0])
        # Emission score of the chosen tag at every step, zeroed on padding.
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [B, T]
        score = self.start_transitions[tags[:, 0]] + (emitted * mask_f).sum(1)
        # A transition y_{t-1} -> y_t counts only when step t is a real token.
        moved = self.transitions[tags[:, :-1], tags[:, 1:]]  # [B, T-1]
        score = score + (moved * mask_f[:, 1:]).sum(1)
        last = mask.long().sum(1) - 1
        return score + self.end_transitions[tags[batch, last]]

    # ---- the partition function: forward algorithm --------------------------------------

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z(x) for each sentence, by the forward algorithm in log space: ``[B]``.

        alpha[b, j] is the log of the summed exp-scores of every prefix ending in tag j.
        One step: alpha'[j] = logsumexp_i(alpha[i] + transitions[i, j]) + emissions[t, j].
        """
        alpha = self.start_transitions + emissions[:, 0]  # [B, K]
        for t in range(1, emissions.shape[1]):
            # [B, K, 1] + [K, K] -> [B, K(from), K(to)], reduce over "from".
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1)
            step = step + emissions[:, t]
            # Finished sentences keep their alpha unchanged through the padding.
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
        """log P(tags | x) for each sentence: ``[B]``. Training minimises its negative."""
        return self.path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    # ---- Viterbi decoding ---------------------------------------------------------------

    def viterbi(self, emissions: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Best paths, their scores, and the max-score lattice.

        Returns ``paths`` ``[B, T]`` (padding positions hold the last real tag),
        ``best`` ``[B]`` and ``lattice`` ``[B, T, K]``: lattice[b, t, j] is the best score of
        any prefix ending in tag j at step t (the forward pass with max for logsumexp).
        """
        batch_size, length, num_tags = emissions.shape
        # Time-major views make each step a cheap contiguous slice.
        steps = emissions.transpose(0, 1).unbind(0)  # T tensors of [B, K]
        real = mask.transpose(0, 1).unsqueeze(2).unbind(0)  # T tensors of [B, 1]
        identity = torch.arange(num_tags).expand(batch_size, num_tags)
        score = self.start_transitions + steps[0]  # [B, K]
        lattice = [score]
        backpointers = []
        for t in range(1, length):
            candidates = score.unsqueeze(2) + self.transitions  # [B, K(from), K(to)]
            best_prev, argbest = candidates.max(dim=1)
            score = torch.where(real[t], best_prev + steps[t], score)
            # On padding the pointer is the identity, so the walk back passes through it
            # unchanged until it reaches the sentence's real last token.
            backpointers.append(torch.where(real[t], argbest, identity))
            lattice.append(score)
        final = score + self.end_transitions
        best, last_tag = final.max(dim=1)  # [B]
        # Backtrace for the whole batch at once: stack the pointers into [B, T-1, K]
        # and walk t backwards, each step one gather for every sentence.
        pointers = torch.stack(backpointers, dim=1) if backpointers else None  # [B, T-1, K]
        tag = last_tag.unsqueeze(1)  # [B, 1]
        walked = [tag]
        for t in range(length - 2, -1, -1):
            tag = pointers[:, t].gather(1, tag)
            walked.append(tag)
        paths = torch.cat(walked[::-1], dim=1)  # [B, T]
        return paths, best, torch.stack(lattice, dim=1)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The most likely tag sequence of each sentence, trimmed to its length."""
        paths, _, _ = self.viterbi(emissions, mask)
        lengths = mask.long().sum(1).tolist()
        rows = paths.tolist()
        return [row[:n] for row, n in zip(rows, lengths, strict=True)]
