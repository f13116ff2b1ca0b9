"""Where k-means starts: squared distances, how many points it can tell apart, seeding.

Lloyd's algorithm (:mod:`app.ml.kmeans`) only improves the centroids it starts from;
this module chooses them: ``k`` distinct random points (:func:`random_init`) or
k-means++'s D² sampling (:func:`kmeans_plus_plus_init`; Arthur & Vassilvitskii 2007,
in scikit-learn's greedy form by default). Shapes: ``points`` is ``[n, d]``,
``centroids`` is ``[k, d]``. Every random choice takes an explicit ``torch.Generator``.
Errors: ``ValueError`` when ``k`` is not between 1 and the number of points, or the
seeding's name is unknown.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# ---------------------------------------------------------------- distances


def squared_distances(points: Tensor, centroids: Tensor) -> Tensor:
    """``[n, k]`` matrix of squared Euclidean distances from every point to every centroid."""
    # Broadcasting [n, 1, d] - [1, k, d] is exact (no cancellation as in |x|^2 - 2x.c + |c|^2)
    # and cheap at demo sizes: n * k * d numbers.
    return ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(dim=-1)


# Below this size two different float64 coordinates can lie closer than 1.5e-162, whose
# square underflows to 0. Above it, two different coordinates are at least one spacing of
# float64 apart there (about 1e-156), and their squared difference is never 0.
TINY = 1e-140


def count_distinct_points(points: Tensor) -> int:
    """How many float64 points Lloyd's algorithm can tell apart: ``k`` may not exceed this.

    Two points are one when their squared distance, computed as the algorithm computes
    it, is 0: ``[0, 0]`` and ``[0, 1e-200]`` differ, but ``(1e-200)²`` underflows to 0,
    so every centroid is exactly as far from one as from the other and no assignment
    can ever split them. A point counts when no earlier point is 0 away from it.
    """
    # Only points equal in every coordinate that is not tiny can be 0 apart: group them
    # by that, and compare distances only inside a group (almost always a single point).
    groups: dict[tuple[float, ...], list[tuple[float, ...]]] = {}
    for row in dict.fromkeys(map(tuple, points.tolist())):  # exact repeats count once
        key = tuple(v if abs(v) >= TINY else 0.0 for v in row)
        groups.setdefault(key, []).append(row)
    count = 0
    for members in groups.values():
        if len(members) == 1:
            count += 1
            continue
        group = torch.tensor(members, dtype=torch.float64)
        zero = squared_distances(group, group) == 0
        earlier = torch.ones_like(zero).tril(diagonal=-1)  # only j < i counts
        count += int((~(zero & earlier).any(dim=1)).sum())
    return count


def check_k(points: Tensor, k: int) -> None:
    """Raise ``ValueError`` unless ``1 <= k <= n``, the number of points."""
    if not 1 <= k <= points.shape[0]:
        n = points.shape[0]
        raise ValueError(f"k must be between 1 and the number of points ({n}), got {k}")


# ---------------------------------------------------------------- seeding


def random_init(points: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """``k`` distinct points (distinct rows of ``points``) chosen uniformly at random."""
    check_k(points, k)
    chosen = torch.randperm(points.shape[0], generator=generator)[:k]
    return points[chosen].clone()


def kmeans_plus_plus_init(
    points: Tensor, k: int, generator: torch.Generator, n_local_trials: int | None = None
) -> Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii, 2007) by D² sampling.

    The first centre is a uniformly random point. Each next centre is a point drawn
    with probability proportional to D(x)², its squared distance to the nearest centre
    chosen so far. The expected inertia of this seeding alone is at most
    8 (ln k + 2) times the optimum.

    ``n_local_trials=None`` is the textbook algorithm (one draw per centre). With an
    integer, the *greedy* variant used by scikit-learn draws that many candidates and
    keeps the one that lowers the total D² the most.
    """
    check_k(points, k)
    n_trials = 1 if n_local_trials is None else max(1, n_local_trials)
    n = points.shape[0]
    centroids = torch.empty(k, points.shape[1], dtype=points.dtype)
    first = torch.randint(n, (1,), generator=generator)
    centroids[0] = points[first[0]]
    # closest[i] = D(x_i)^2, squared distance of point i to its nearest centre so far.
    closest = squared_distances(points, centroids[:1]).squeeze(1)
    for c in range(1, k):
        if closest.sum() > 0:
            candidates = torch.multinomial(closest, n_trials, replacement=True, generator=generator)
        else:
            # Every point sits on a centre already (duplicates): D² gives no preference.
            candidates = torch.randint(n, (n_trials,), generator=generator)
        # What D² would become with each candidate added; keep the candidate that
        # shrinks its total the most (with a single candidate this picks it).
        to_candidates = squared_distances(points, points[candidates])
        with_candidate = torch.minimum(closest[:, None], to_candidates)
        best = int(with_candidate.sum(dim=0).argmin())
        centroids[c] = points[candidates[best]]
        closest = with_candidate[:, best]
    return centroids


def init_centroids(points: Tensor, k: int, init: str, generator: torch.Generator) -> Tensor:
    """Initial centroids by name: ``"random"`` or ``"k-means++"`` (greedy, as scikit-learn)."""
    if init == "random":
        return random_init(points, k, generator)
    if init == "k-means++":
        # scikit-learn's default number of local trials: 2 + floor(ln k).
        return kmeans_plus_plus_init(points, k, generator, n_local_trials=2 + int(math.log(k)))
    raise ValueError(f"unknown init {init!r}; choose 'random' or 'k-means++'")
