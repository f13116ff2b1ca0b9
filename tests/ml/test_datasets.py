"""Toy datasets in app/ml/datasets.py: shape, bounds, determinism, and their shapes' point."""

import pytest
import torch

from app.ml.datasets import DATASETS, make_dataset, make_labelled_dataset
from app.ml.kmeans import kmeans


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("n_points", [1, 10, 2000])
def test_shape_dtype_and_bounds(name, n_points):
    points = make_dataset(name, n_points, generator(0))
    assert points.shape == (n_points, 2) and points.dtype == torch.float32
    assert points.abs().max() <= 3.4


@pytest.mark.parametrize("name", DATASETS)
def test_points_fill_the_chart_without_piling_on_the_border(name):
    points = make_dataset(name, 2000, generator(1))
    assert (points.abs() >= 3.4).float().mean() < 0.01  # clipping is rare
    assert points.abs().max() > 1.5  # and the data is not a speck in the middle


@pytest.mark.parametrize("name", DATASETS)
def test_deterministic_for_a_seed(name):
    assert torch.equal(make_dataset(name, 300, generator(3)), make_dataset(name, 300, generator(3)))
    other = make_dataset(name, 300, generator(4))
    assert not torch.equal(make_dataset(name, 300, generator(3)), other)


def test_unknown_name_is_rejected():
    with pytest.raises(ValueError, match="unknown dataset"):
        make_dataset("spirals", 10, generator(0))


def agreement(labels: torch.Tensor, truth: torch.Tensor) -> float:
    """Fraction of points on which two 2-way labellings agree, best over the label swap."""
    same = (labels == truth).float().mean().item()
    return max(same, 1 - same)


@pytest.mark.parametrize("name", ["moons", "circles"])
def test_kmeans_cannot_separate_moons_or_circles(name):
    points, truth = make_labelled_dataset(name, 1000, generator(0))
    labels = kmeans(points, 2, seed=0).labels
    # Chance is 0.5; the straight cut k-means makes gets at best about 3 points in 4.
    assert agreement(labels, truth) < 0.9


def test_kmeans_recovers_blobs():
    points, truth = make_labelled_dataset("blobs", 1000, generator(0))
    labels = kmeans(points, 4, seed=0).labels
    # Each found cluster should be (almost) one true blob.
    purity = sum(torch.bincount(truth[labels == c]).max().item() for c in range(4)) / 1000
    assert purity > 0.97


def test_kmeans_cuts_anisotropic_blobs_wrongly():
    points, truth = make_labelled_dataset("anisotropic", 1000, generator(0))
    labels = kmeans(points, 3, seed=0).labels
    purity = sum(torch.bincount(truth[labels == c]).max().item() for c in range(3)) / 1000
    assert purity < 0.85
