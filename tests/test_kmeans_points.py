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


# ---- your own data: a CSV of points (points_csv) ------------------------------------------

FOUR = [[0.0, 0.0], [0.5, 0.25], [4.0, 4.0], [4.5, 3.75]]
FOUR_CSV = "x,y\r\n0,0\r\n0.5,0.25\r\n4,4\r\n4.5,3.75\r\n"


MALFORMED = [
    ("x,y\n1,2\n3,4\n5,6\n7,8\n9,10\nabc,1\n", "points_csv: row 7: 'abc' is not a number"),
    ("1,2,3\n4,5,6\n", "points_csv: row 1: 3 columns; expected 2 (x, y)"),
    ("1,2\n3,4\n5,NaN\n", "points_csv: row 3: NaN is not allowed (y must be a number)"),
    ("1,1\n" * 2412, "points_csv: 2\u00a0412 rows; at most 2\u00a0000"),
    ("1,1\n2,250\n", "points_csv: row 2: y = 250 is outside -100 to 100"),
]


def test_a_malformed_csv_is_refused_naming_the_field_row_and_reason(client):
    # One client for every case: each refusal comes before any worker is asked.
    for slug in ("kmeans", "kmeans-elbow"):
        for csv_text, message in MALFORMED:
            response = client.post(f"/api/demos/{slug}/run",
                                   json={"dataset": "custom", "points_csv": csv_text})
            assert response.status_code == 422, response.text
            (error,) = response.json()["detail"]
            assert (error["field"], error["message"]) == ("points_csv", message), slug


def test_a_csv_longer_than_its_bound_is_refused_before_it_is_read(client):
    response = client.post("/api/demos/kmeans/run",
                           json={"dataset": "custom", "points_csv": "1," * 60_000})
    (error,) = response.json()["detail"]
    assert response.status_code == 422 and error["field"] == "points_csv"
    assert "at most 100000 characters" in error["message"]


def test_loaded_and_clicked_points_together_are_at_most_2000(client):
    response = client.post("/api/demos/kmeans/run", json={
        "dataset": "custom", "points_csv": "1,1\n" * 1990, "points": [[2, 2]] * 20})
    (error,) = response.json()["detail"]
    assert error["message"] == ("points_csv: 1\u00a0990 rows and 20 clicked points make "
                                "2\u00a0010; at most 2\u00a0000")


@pytest.mark.parametrize(("slug", "extra"), [("kmeans", {"k": 2}), ("kmeans-elbow", {"k_max": 3})])
def test_a_csv_gives_the_run_the_same_points_as_points_give(client, slug, extra):
    by_csv = client.post(f"/api/demos/{slug}/run",
                         json={"dataset": "custom", "points_csv": FOUR_CSV, **extra})
    by_points = client.post(f"/api/demos/{slug}/run",
                            json={"dataset": "custom", "points": FOUR, **extra})
    assert by_csv.status_code == by_points.status_code == 200, by_csv.text
    assert by_csv.json()["result"] == by_points.json()["result"]
    if slug == "kmeans":
        assert sorted(by_csv.json()["result"]["centroids"]) == [[0.25, 0.125], [4.25, 3.875]]


def test_loaded_rows_come_first_then_clicked_points(client):
    both = client.post("/api/demos/kmeans/run", json={
        "dataset": "custom", "points_csv": "0,0\n0.5,0.25\n", "points": FOUR[2:], "k": 2})
    alone = client.post("/api/demos/kmeans/run",
                        json={"dataset": "custom", "points": FOUR, "k": 2})
    assert both.json()["result"] == alone.json()["result"]


def test_too_few_loaded_points_says_rows_can_be_added(client):
    error = client.post("/api/demos/kmeans/run", json={
        "dataset": "custom", "points_csv": "x,y\n1,1\n", "k": 3}).json()["detail"][0]
    assert error["message"] == ("k: 3 clusters need at least 3 distinct points; points holds "
                                "1; choose k ≤ 1 or add rows or click more points")
