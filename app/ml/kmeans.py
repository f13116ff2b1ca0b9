"""k-means clustering in plain torch: Lloyd's algorithm with random or k-means++ seeding.

Read it top to bottom beside ``lessons/kmeans.md``; the seedings and the distance they
use are in :mod:`app.ml.kmeans_init`. Shapes: ``points`` is ``[n, d]``,
``centroids`` is ``[k, d]``, ``labels`` is ``[n]`` (the index of each point's centroid).

Every random choice takes an explicit ``torch.Generator``: demos run in several
threads at once, and a global ``torch.manual_seed`` would let them disturb each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

from app.ml.kmeans_init import check_k, init_centroids, squared_distances

# Distances and seedings are app/ml/kmeans_init.py's; the seedings import from here too.
from app.ml.kmeans_init import kmeans_plus_plus_init as kmeans_plus_plus_init
from app.ml.kmeans_init import random_init as random_init

# ---------------------------------------------------------------- Lloyd's two steps


def assign_to_nearest(points: Tensor, centroids: Tensor) -> tuple[Tensor, Tensor]:
    """Assignment step: each point's nearest centroid and its squared distance.

    Returns ``labels`` (``[n]``, long) and ``distances`` (``[n]``). Ties go to the
    centroid with the lowest index.
    """
    distances, labels = squared_distances(points, centroids).min(dim=1)
    return labels, distances


def update_centroids(points: Tensor, labels: Tensor, centroids: Tensor) -> Tensor:
    """Update step: move every centroid to the mean of the points assigned to it.

    A centroid with no points has no mean. As in scikit-learn, it is re-seeded at the
    point farthest from its own centroid (measured before the update), and that point
    leaves its old cluster before the means are taken. That is the same as handing the
    point to the empty cluster and then updating: the point's cost drops to 0 and the
    means can only lower the rest, so the next assignment's inertia is at most the
    current one minus that point's current cost, the largest single cost there is.
    """
    k = centroids.shape[0]
    sums = torch.zeros_like(centroids).index_add_(0, labels, points)
    counts = torch.bincount(labels, minlength=k)
    empty = torch.nonzero(counts == 0).flatten()
    if len(empty) > 0:
        # The farthest points, one per empty cluster, taken from the current assignment.
        distances = ((points - centroids[labels]) ** 2).sum(dim=1)
        farthest = distances.argsort(descending=True)[: len(empty)]
        donors = labels[farthest]
        sums.index_add_(0, donors, -points[farthest])
        counts = counts.index_add(0, donors, -torch.ones_like(donors))
        sums[empty] = points[farthest]
        counts[empty] = 1
    new_centroids = centroids.clone()
    # A cluster whose only point was handed over keeps its centre (it owns no point).
    filled = counts > 0
    new_centroids[filled] = sums[filled] / counts[filled, None].to(points.dtype)
    return new_centroids


def inertia(points: Tensor, centroids: Tensor, labels: Tensor) -> float:
    """Sum of squared distances from each point to the centroid its label names."""
    return float(((points - centroids[labels]) ** 2).sum())


# ---------------------------------------------------------------- Lloyd's algorithm


@dataclass
class LloydStep:
    """The state after one Lloyd iteration (assign, then update).

    ``labels`` and ``inertia`` belong to the assignment made in this iteration, that is
    to the centroids *before* the update; ``centroids`` are the updated ones. So the
    inertia of step t is the cost the update of step t started from, and it never
    increases from one step to the next. ``shift`` is the total squared movement of
    the centroids in the update.
    """

    iteration: int
    centroids: Tensor
    labels: Tensor
    inertia: float
    shift: float


def lloyd_steps(
    points: Tensor, centroids: Tensor, max_iter: int, tol: float = 1e-4
) -> Iterator[LloydStep]:
    """Run Lloyd's algorithm from ``centroids``, yielding a ``LloydStep`` per iteration.

    Iterations are numbered from 1. It stops after ``max_iter`` iterations, or when an
    assignment repeats the previous one (a fixed point: nothing can change any more),
    or when the centroids' total squared shift falls to ``tol`` times the mean variance
    of the data's features (scikit-learn's rule, which makes ``tol`` scale-free).
    """
    threshold = tol * float(points.var(dim=0, unbiased=False).mean()) if len(points) > 1 else 0.0
    previous_labels = None
    for iteration in range(1, max_iter + 1):
        labels, distances = assign_to_nearest(points, centroids)
        new_centroids = update_centroids(points, labels, centroids)
        shift = float(((new_centroids - centroids) ** 2).sum())
        yield LloydStep(iteration, new_centroids, labels, float(distances.sum()), shift)
        converged = previous_labels is not None and torch.equal(labels, previous_labels)
        if converged or shift <= threshold:
            return
        centroids, previous_labels = new_centroids, labels


# ---------------------------------------------------------------- the whole algorithm


@dataclass
class KMeansResult:
    """Outcome of :func:`kmeans`.

    ``labels`` is the nearest-centroid assignment of the final ``centroids`` and
    ``inertia`` the sum of squared distances it implies (recomputed after the last
    update, so it can be a little below ``history[-1]``). ``history`` lists the
    inertia of every Lloyd step of the best run.
    """

    centroids: Tensor
    labels: Tensor
    inertia: float
    iterations: int
    history: list[float] = field(default_factory=list)


def final_result(points: Tensor, centroids: Tensor, history: list[float]) -> KMeansResult:
    """Where a run of Lloyd steps ended: ``centroids`` after its last update, and the
    inertia of every step in ``history``.

    The last update moved the centroids after their assignment: assign once more so that
    labels, centroids and inertia describe the same clustering.
    """
    labels, distances = assign_to_nearest(points, centroids)
    return KMeansResult(centroids, labels, float(distances.sum()), len(history), history)


@dataclass
class Restarts:
    """The restarts of :func:`kmeans`, run one Lloyd step at a time so they can be watched.

    Restart ``r`` (numbered from 0) seeds its centroids with the ``r``-th draw of one
    ``torch.Generator`` seeded with ``seed``, then runs Lloyd's algorithm to its end.
    :meth:`steps` yields every step of every restart in order; meanwhile ``starts`` (each
    restart's seeded centroids, ``[k, d]``), ``ends`` (its latest centroids) and
    ``histories`` (its inertias so far) grow, so a caller that stops early still has
    every restart started so far.
    """

    points: Tensor
    k: int
    init: str = "k-means++"
    n_init: int = 10
    max_iter: int = 300
    tol: float = 1e-4
    seed: int = 0
    starts: list[Tensor] = field(default_factory=list)
    ends: list[Tensor] = field(default_factory=list)
    histories: list[list[float]] = field(default_factory=list)

    def steps(self) -> Iterator[tuple[int, LloydStep]]:
        """``(restart, step)`` for every Lloyd step of every restart, in order."""
        generator = torch.Generator().manual_seed(self.seed)
        for restart in range(self.n_init):
            self.starts.append(init_centroids(self.points, self.k, self.init, generator))
            self.ends.append(self.starts[restart])
            self.histories.append([])
            for step in lloyd_steps(self.points, self.ends[restart], self.max_iter, self.tol):
                self.ends[restart] = step.centroids
                self.histories[restart].append(step.inertia)
                yield restart, step

    def run_all(self) -> Restarts:
        """Run every restart to its end (without watching); returns ``self``."""
        for _ in self.steps():
            pass
        return self

    def results(self) -> list[KMeansResult]:
        """Each restart started so far, where it ended (or stands, if stopped early)."""
        return [final_result(self.points, centroids, history)
                for centroids, history in zip(self.ends, self.histories, strict=True)]

    def best_index(self) -> int:
        """Which restart has the lowest final inertia (the first of equals)."""
        inertias = [result.inertia for result in self.results()]
        return inertias.index(min(inertias))


def kmeans(
    points: Tensor,
    k: int,
    init: str = "k-means++",
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    seed: int = 0,
) -> KMeansResult:
    """Cluster ``points`` into ``k`` groups: the best of ``n_init`` Lloyd runs by inertia.

    Lloyd's algorithm only finds a local optimum that depends on its start, so it is
    restarted ``n_init`` times from different seedings (:class:`Restarts`) and the lowest
    inertia wins. The work runs in float64 (sums of many squares lose digits in float32);
    the centroids come back in the dtype of ``points``. Same arguments, same result.
    """
    check_k(points, k)
    if n_init < 1 or max_iter < 1:
        raise ValueError("n_init and max_iter must be at least 1")
    data = points.to(torch.float64)
    restarts = Restarts(data, k, init, n_init, max_iter, tol, seed).run_all()
    results = restarts.results()
    best = results[restarts.best_index()]
    best.centroids = best.centroids.to(points.dtype)
    return best
