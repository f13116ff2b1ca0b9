"""Clicked points that differ on paper but not to Lloyd's algorithm count as one."""

from __future__ import annotations

import pytest

UNDERFLOW = [[[0, 0], [0, 5e-324]], [[0, 0], [0, 1e-200]], [[0, 0], [1e-170, -1e-170]]]


@pytest.mark.parametrize("points", UNDERFLOW)
@pytest.mark.parametrize(("slug", "field"), [("kmeans", "k"), ("kmeans-elbow", "k_max")])
def test_points_whose_squared_distance_is_zero_are_one_point(client, slug, field, points):
    # The tester's example: k = 2 on these gave 200, centroids [[0, 0], [0, 0]], inertia 0.
    body = {"dataset": "custom", "points": points, field: 2}
    response = client.post(f"/api/demos/{slug}/run", json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["field"] == field
    assert error["message"].startswith(
        f"{field}: 2 clusters need at least 2 distinct points; points holds 1 (2 clicked, "
        "1 of them repeats or so close to another point that their squared distance "
        "rounds to 0)")


def test_k_within_the_points_the_algorithm_tells_apart_runs(client):
    points = UNDERFLOW[1] + [[1, 1], [1, 1]]  # 4 clicks, 2 points to the algorithm
    error = client.post("/api/demos/kmeans/run",
                        json={"dataset": "custom", "points": points, "k": 3}).json()["detail"][0]
    assert "points holds 2 (4 clicked, 2 of them repeats or so close" in error["message"]
    assert "choose k ≤ 2" in error["message"]
    result = client.post("/api/demos/kmeans/run",
                         json={"dataset": "custom", "points": points, "k": 2}).json()["result"]
    assert sorted(result["centroids"])[1] == [1.0, 1.0]


def test_points_far_enough_apart_to_square_above_zero_are_separated(client):
    # 1e-160 apart: the squared distance is 1e-320, tiny but not 0, and Lloyd splits them.
    points = [[0, 0], [0, 1e-160]]
    response = client.post("/api/demos/kmeans/run",
                           json={"dataset": "custom", "points": points, "k": 2})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert sorted(result["centroids"]) == [[0.0, 0.0], [0.0, 1e-160]]
    assert result["inertia"] == 0.0
