"""Toy datasets in app/ml/datasets.py: shape, bounds, determinism, and their shapes' point."""

import pytest
import torch

from app.ml.datasets import (
    ANISOTROPIC_SHEAR,
    DATASETS,
    clustering_data,
    make_dataset,
    make_labelled_dataset,
    too_few_points,
)
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


def test_kmeans_recovers_blobs():
    points, truth = make_labelled_dataset("blobs", 1000, generator(0))
    labels = kmeans(points, 4, seed=0).labels
    # Each found cluster should be (almost) one true blob.
    purity = sum(torch.bincount(truth[labels == c]).max().item() for c in range(4)) / 1000
    assert purity > 0.97


def test_undoing_the_shear_makes_the_anisotropic_blobs_round():
    """The lesson's claims about this dataset run the demo (tests/lesson_claims/); here,
    only that ANISOTROPIC_SHEAR is the stretch the points were drawn with."""
    points, truth = make_labelled_dataset("anisotropic", 3000, generator(0))
    round_points = points.double() @ torch.linalg.inv(ANISOTROPIC_SHEAR)
    for group in range(3):
        covariance = torch.cov(round_points[truth == group].T)
        assert torch.allclose(covariance, torch.eye(2, dtype=torch.float64), atol=0.1)


def test_clustering_data_is_the_clicks_or_the_seeded_dataset():
    clicked = [(0.0, 1.0), (2.0, -3.0)]
    assert clustering_data("custom", 300, clicked, seed=5).tolist() == [[0.0, 1.0], [2.0, -3.0]]
    drawn = clustering_data("moons", 40, [], seed=5)
    assert drawn.dtype == torch.float64
    assert torch.equal(drawn, make_dataset("moons", 40, torch.Generator().manual_seed(5)).double())


def test_too_few_points_names_the_field_and_a_value_that_works():
    assert too_few_points("k", 3, "blobs", 10, []) is None
    assert too_few_points("k", 12, "blobs", 10, []) == (
        "k: 12 clusters need at least 12 points; n_points is 10; choose k ≤ 10 or "
        "n_points ≥ 12")
    assert too_few_points("k", 1, "custom", 10, []).startswith("points: the custom dataset")
    clicked = [(0.0, 0.0), (0.0, 0.0), (1.0, 1.0)]
    assert too_few_points("k_max", 2, "custom", 10, clicked, least=2) is None
    assert too_few_points("k_max", 3, "custom", 10, clicked, least=2) == (
        "k_max: 3 clusters need at least 3 distinct points; points holds 2 (3 clicked, "
        "1 of them repeats); choose k_max ≤ 2 or click more points")
    # One distinct point: no k_max ≥ 2 works, so the only advice is to click more.
    assert too_few_points("k_max", 2, "custom", 10, clicked[:2], least=2).endswith(
        "points holds 1 (2 clicked, 1 of them repeats); click more points")
