"""The CRF against pytorch-crf (torchcrf) and against brute-force enumeration."""

from __future__ import annotations

import itertools

import pytest
import torch
from torchcrf import CRF as ReferenceCRF

from app.ml.crf import CRF


def random_batch(seed: int, batch: int, length: int, tags: int):
    g = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, length, tags, generator=g, dtype=torch.float64) * 2
    labels = torch.randint(tags, (batch, length), generator=g)
    lengths = torch.randint(1, length + 1, (batch,), generator=g)
    lengths[0] = length  # at least one full row, so T is really used
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
    return emissions, labels, mask


def twin_crfs(seed: int, tags: int) -> tuple[CRF, ReferenceCRF]:
    g = torch.Generator().manual_seed(seed)
    ours = CRF(tags).double()
    ref = ReferenceCRF(tags, batch_first=True).double()
    with torch.no_grad():
        # Larger than the init so transitions really matter to the answers.
        for name in ("start_transitions", "end_transitions", "transitions"):
            value = torch.randn(getattr(ours, name).shape, generator=g, dtype=torch.float64)
            getattr(ours, name).copy_(value)
            getattr(ref, name).copy_(value)
    return ours, ref


@pytest.mark.parametrize("seed", range(6))
def test_log_likelihood_matches_pytorch_crf(seed: int) -> None:
    tags = [2, 5, 9, 3, 9, 7][seed]
    ours, ref = twin_crfs(seed, tags)
    emissions, labels, mask = random_batch(seed, batch=8, length=3 + 4 * seed, tags=tags)
    expected = ref(emissions, labels, mask, reduction="none")
    got = ours.log_likelihood(emissions, labels, mask)
    assert got.shape == (8,)
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)
    # Gradients agree too: training with either is the same training.
    got.sum().backward()
    expected.sum().backward()
    assert torch.allclose(ours.transitions.grad, ref.transitions.grad, atol=1e-5)
    assert torch.allclose(ours.start_transitions.grad, ref.start_transitions.grad, atol=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_decode_matches_pytorch_crf(seed: int) -> None:
    tags = [2, 5, 9, 3, 9, 7][seed]
    ours, ref = twin_crfs(100 + seed, tags)
    emissions, _, mask = random_batch(100 + seed, batch=16, length=2 + 5 * seed, tags=tags)
    assert ours.decode(emissions, mask) == ref.decode(emissions, mask)


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[float, list[int]]:
    """log Z and the best path of one sentence by listing all K**length paths."""
    k = crf.num_tags
    scores, paths = [], []
    for path in itertools.product(range(k), repeat=length):
        tags = torch.tensor([list(path)])
        mask = torch.ones(1, length, dtype=torch.bool)
        scores.append(crf.path_score(emissions[:, :length], tags, mask)[0])
        paths.append(list(path))
    scores_t = torch.stack(scores)
    return float(torch.logsumexp(scores_t, 0)), paths[int(scores_t.argmax())]


@pytest.mark.parametrize("k, length", [(2, 1), (2, 4), (3, 3), (4, 4), (3, 5)])
@torch.no_grad()
def test_forward_algorithm_equals_enumeration(k: int, length: int) -> None:
    crf, _ = twin_crfs(k * 10 + length, k)
    g = torch.Generator().manual_seed(length)
    emissions = torch.randn(1, length + 2, k, generator=g, dtype=torch.float64)
    # Padding after `length` real tokens must not change anything.
    mask = torch.arange(length + 2).unsqueeze(0) < length
    log_z, best_path = brute_force(crf, emissions, length)
    assert float(crf.log_partition(emissions, mask)[0]) == pytest.approx(log_z, abs=1e-9)
    assert crf.decode(emissions, mask) == [best_path]


@torch.no_grad()
def test_probabilities_of_all_paths_sum_to_one() -> None:
    crf, _ = twin_crfs(7, 3)
    emissions = torch.randn(1, 4, 3, generator=torch.Generator().manual_seed(7),
                            dtype=torch.float64)
    mask = torch.ones(1, 4, dtype=torch.bool)
    total = sum(
        float(crf.log_likelihood(emissions, torch.tensor([list(p)]), mask).exp())
        for p in itertools.product(range(3), repeat=4)
    )
    assert total == pytest.approx(1.0, abs=1e-9)


@torch.no_grad()
def test_lattice_holds_the_best_prefix_scores() -> None:
    crf, _ = twin_crfs(3, 4)
    emissions, _, mask = random_batch(3, batch=5, length=6, tags=4)
    paths, best, lattice = crf.viterbi(emissions, mask)
    lengths = mask.sum(1)
    for b in range(5):
        n = int(lengths[b])
        last = lattice[b, n - 1] + crf.end_transitions
        assert float(last.max()) == pytest.approx(float(best[b]))
        # The best path's score, recomputed from scratch, is the Viterbi score.
        again = crf.path_score(emissions[b:b + 1], paths[b:b + 1], mask[b:b + 1])
        assert float(again[0]) == pytest.approx(float(best[b]))
