"""Toy 2-D datasets for the clustering demos.

Every dataset is built with pure torch from an explicit ``torch.Generator``, so the
same seed always gives the same points, even when several demos run in threads at
once. Points are scaled to lie roughly within [-3, 3] and clipped to [-3.4, 3.4],
so a chart with a fixed axis range of [-3.5, 3.5] always shows all of them.
"""

import math

import torch

from app.ml.kmeans_init import count_distinct_points

DATASETS = ("blobs", "moons", "circles", "anisotropic", "uniform")

# Everything is clipped to this box so a fixed [-3.5, 3.5] chart never loses a point.
BOUND = 3.4


def _randn(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 2, generator=generator, dtype=torch.float64)


def _split(n_points: int, n_groups: int) -> list[int]:
    """Sizes of ``n_groups`` groups that add up to ``n_points`` (as even as possible)."""
    base, extra = divmod(n_points, n_groups)
    return [base + (1 if i < extra else 0) for i in range(n_groups)]


def _blobs(n_points: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Isotropic Gaussian blobs around fixed, well separated centres."""
    centres = torch.tensor([[-1.8, 1.5], [1.8, 1.6], [0.0, -1.7], [2.0, -1.4]], dtype=torch.float64)
    sizes = _split(n_points, len(centres))
    blobs = [c + 0.45 * _randn(m, generator) for c, m in zip(centres, sizes, strict=True)]
    points = torch.cat(blobs)
    labels = torch.cat([torch.full((m,), i) for i, m in enumerate(sizes)])
    return points, labels


def _moons(n_points: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles, as in scikit-learn's ``make_moons``."""
    n_top, n_bottom = _split(n_points, 2)
    t_top = torch.rand(n_top, generator=generator, dtype=torch.float64) * math.pi
    t_bottom = torch.rand(n_bottom, generator=generator, dtype=torch.float64) * math.pi
    top = torch.stack([torch.cos(t_top), torch.sin(t_top)], dim=1)
    bottom = torch.stack([1 - torch.cos(t_bottom), 0.5 - torch.sin(t_bottom)], dim=1)
    points = torch.cat([top, bottom]) + 0.08 * _randn(n_points, generator)
    # The moons span x in [-1, 2] and y in [-0.5, 1]; centre them and stretch to the box.
    points = (points - torch.tensor([0.5, 0.25], dtype=torch.float64)) * 1.9
    labels = torch.cat([torch.zeros(n_top), torch.ones(n_bottom)]).long()
    return points, labels


def _circles(n_points: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric noisy rings: an outer one of radius 2.6 and an inner one of 1.1."""
    n_outer, n_inner = _split(n_points, 2)
    rings = []
    for m, radius in ((n_outer, 2.6), (n_inner, 1.1)):
        angle = torch.rand(m, generator=generator, dtype=torch.float64) * 2 * math.pi
        ring = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        rings.append(ring + 0.12 * _randn(m, generator))
    labels = torch.cat([torch.zeros(n_outer), torch.ones(n_inner)]).long()
    return torch.cat(rings), labels


# The linear map that stretches the anisotropic blobs: row vectors times this matrix
# have std ~0.95 along (0.78, -0.62) and ~0.13 across it. Multiplying the points by its
# inverse (undoing the known stretch) makes the blobs round again.
ANISOTROPIC_SHEAR = torch.tensor([[0.74, -0.59], [0.08, 0.10]], dtype=torch.float64)


def _anisotropic(n_points: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Three blobs stretched by one shared linear map into long parallel ellipses.

    k-means assumes round clusters of similar size, so it cuts these diagonally.
    """
    # The centres lie on a line, 1.0 apart; each blob is stretched across that line
    # into a long thin ellipse, so the three lie side by side like parallel cigars.
    centres = torch.tensor([[-0.62, -0.78], [0.0, 0.0], [0.62, 0.78]], dtype=torch.float64)
    sizes = _split(n_points, len(centres))
    blobs = [c + _randn(m, generator) @ ANISOTROPIC_SHEAR
             for c, m in zip(centres, sizes, strict=True)]
    labels = torch.cat([torch.full((m,), i) for i, m in enumerate(sizes)])
    return torch.cat(blobs), labels


def _uniform(n_points: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points spread uniformly over a square: there are no clusters at all."""
    points = (torch.rand(n_points, 2, generator=generator, dtype=torch.float64) * 2 - 1) * 2.8
    return points, torch.zeros(n_points, dtype=torch.long)


_MAKERS = {
    "blobs": _blobs,
    "moons": _moons,
    "circles": _circles,
    "anisotropic": _anisotropic,
    "uniform": _uniform,
}


def make_labelled_dataset(
    name: str, n_points: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``[n_points, 2]`` (float32) and the true group of each point (long).

    The true groups let a test or a demo show how far k-means is from the
    "real" structure (for example on moons, where k-means must fail).
    """
    if name not in _MAKERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    if n_points < 1:
        raise ValueError("n_points must be at least 1")
    points, labels = _MAKERS[name](n_points, generator)
    return points.clamp(-BOUND, BOUND).float(), labels.long()


def make_dataset(name: str, n_points: int, generator: torch.Generator) -> torch.Tensor:
    """A float32 tensor ``[n_points, 2]`` of the named toy dataset (one of ``DATASETS``).

    Deterministic for a given generator state; all points lie within [-3.4, 3.4].
    """
    return make_labelled_dataset(name, n_points, generator)[0]


# ---------------------------------------------------------------- the clustering demos' data


def clustering_data(dataset: str, n_points: int, clicked: list[tuple[float, float]],
                    seed: int) -> torch.Tensor:
    """The float64 points ``[n, 2]`` a clustering demo works on: the ``clicked`` points for
    ``"custom"``, else ``n_points`` of the named dataset drawn from ``seed``."""
    if dataset == "custom":
        return torch.tensor(clicked, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    return make_dataset(dataset, n_points, generator).to(torch.float64)


def too_few_points(field: str, k: int, dataset: str, n_points: int,
                   clicked: list[tuple[float, float]], least: int = 1) -> str | None:
    """Why ``k`` clusters (the parameter ``field``) cannot be asked of this data, or None.

    Fewer distinct points than clusters would leave some empty, and Lloyd's algorithm
    would return repeated centroids without a word. ``least`` is the smallest sensible
    ``field`` (no "choose" advice below it). Drawn datasets have distinct points
    (continuous noise); clicked points are distinct as the algorithm sees them: points
    whose squared distance underflows to 0 (1e-200 apart) are one point to it, exactly
    like a repeated click (see :func:`app.ml.kmeans_init.count_distinct_points`).
    """
    if dataset == "custom" and not clicked:
        return "points: the custom dataset has no points yet; click the chart"
    if dataset != "custom":
        if k <= n_points:
            return None
        return (f"{field}: {k} clusters need at least {k} points; n_points is {n_points}; "
                f"choose {field} ≤ {n_points} or n_points ≥ {k}")
    distinct = count_distinct_points(torch.tensor(clicked, dtype=torch.float64))
    if k <= distinct:
        return None
    repeats = len(clicked) - distinct
    exact = len(clicked) - len(set(clicked))
    why = "repeats" if exact == repeats else (
        "repeats or so close to another point that their squared distance rounds to 0")
    told = f" ({len(clicked)} clicked, {repeats} of them {why})" if repeats else ""
    advice = f"choose {field} ≤ {distinct} or " if distinct >= least else ""
    return (f"{field}: {k} clusters need at least {k} distinct points; points holds "
            f"{distinct}{told}; {advice}click more points")
