"""Viterbi decoding: LiveGrad's batched CRF against pytorch-crf (torchcrf).

B=64 sentences, T=40 steps, K=9 tags (the BIO tag set of the CRF lesson), random
lengths. pytorch-crf walks the backtrace in Python, one sentence at a time; ours
gathers over the backpointer tensor for the whole batch. Prints medians and the
ratio torchcrf / ours (goal: at least 3).
"""

from __future__ import annotations

import torch
from torchcrf import CRF as ReferenceCRF

from app.ml.crf import CRF
from bench._timing import median_seconds


def main() -> None:
    torch.set_num_threads(1)
    batch, length, tags = 64, 40, 9
    g = torch.Generator().manual_seed(0)
    emissions = torch.randn(batch, length, tags, generator=g)
    lengths = torch.randint(length // 2, length + 1, (batch,), generator=g)
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
    ours = CRF(tags)
    ref = ReferenceCRF(tags, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    with torch.no_grad():
        assert ours.decode(emissions, mask) == ref.decode(emissions, mask)
        ours_s = median_seconds(lambda: ours.decode(emissions, mask), repeats=30, warmup=True)
        ref_s = median_seconds(lambda: ref.decode(emissions, mask), repeats=30, warmup=True)
    print(f"CRF decode, B={batch} T={length} K={tags}, 1 thread (shared CPU: pessimistic)")
    print(f"{'ours ms':>8} {'torchcrf ms':>11} {'speed-up':>9}")
    print(f"{ours_s * 1e3:8.2f} {ref_s * 1e3:11.2f} {ref_s / ours_s:8.1f}x  (goal >= 3x)")


if __name__ == "__main__":
    main()
