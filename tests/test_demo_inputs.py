"""Inputs the schema admits but that mean nothing, or break the arithmetic: each is
refused with a 422 that names every field involved and a value that works, or runs
and says what is odd about it, in the result and in the chart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.demos import registry
from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    extend,
    figure,
    make_frame,
    on_the_wire,
)
from app.params import parse_params
from tests.helpers import read_stream, refused, result_of


def frames_of(slug: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    demo = registry()[slug]
    return list(demo.run(parse_params(demo, body), RunContext()))


# ---- numbers on the wire: one policy, in the contract ------------------------------------


def test_inf_and_nan_travel_as_strings_at_any_depth():
    assert on_the_wire({"a": [1.0, math.nan, None], "b": (2, math.inf), "c": [[-math.inf]]},
                       4) == {"a": [1.0, "nan", None], "b": [2, "inf"], "c": [["-inf"]]}


def test_floats_keep_significant_digits_whatever_their_size():
    assert on_the_wire([1234.5678, 0.000123456789, 3.14159e-9, -2.5e12], 4) == [
        1235.0, 0.0001235, 3.142e-09, -2.5e12]
    # ints, booleans, strings and None are not numbers to round
    assert on_the_wire({"n": 123456789, "ok": True, "s": "0.123456", "x": None}, 4) == {
        "n": 123456789, "ok": True, "s": "0.123456", "x": None}


def test_frames_keep_six_significant_digits_and_results_every_digit():
    def run(params: DemoParams, ctx: RunContext) -> RunGenerator:
        yield make_frame(1, 1.0, {"loss": extend([0], [[1]], [[0.123456789]])},
                         {"loss": 0.123456789})
        return {"loss": 0.123456789}

    demo = Demo(slug="t", title="t", description="t", Params=DemoParams, charts=[], run=run)
    frames = demo.run(DemoParams(), RunContext())
    frame = next(frames)
    assert frame["metrics"]["loss"] == 0.123457 and frame["charts"]["loss"]["y"] == [[0.123457]]
    with pytest.raises(StopIteration) as done:
        next(frames)
    assert done.value.value == {"loss": 0.123456789}


def _diverging_run(params: DemoParams, ctx: RunContext) -> RunGenerator:
    yield make_frame(1, 0.5, {"loss": figure([{"x": [1, 2], "y": [0.5, math.inf]}])},
                     {"loss": math.nan})
    return {"loss": math.nan, "grad_norms": [1.0, math.inf, -math.inf]}


@pytest.fixture
def diverging_demo() -> Iterator[Demo]:
    demo = Demo("test-diverging", "Diverging", "Test demo", DemoParams,
                [Chart("loss", "Loss")], _diverging_run)
    registry()[demo.slug] = demo
    yield demo
    registry().pop(demo.slug)


def test_a_run_that_produces_inf_and_nan_ends_with_done_not_error(client, diverging_demo):
    # Before, the runner refused to encode the frame and the run ended in a 500.
    assert result_of(client, "test-diverging", {}) == {
        "loss": "nan", "grad_norms": [1.0, "inf", "-inf"]}
    events = read_stream(client, "/api/demos/test-diverging/stream")
    assert [event for event, _ in events] == ["frame", "done"]
    frame = events[0][1]
    assert frame["charts"]["loss"]["data"][0]["y"] == [0.5, "inf"]
    assert frame["metrics"] == {"loss": "nan"}


# ---- k-means: clusters need distinct points ---------------------------------------------


def test_kmeans_refuses_more_clusters_than_distinct_points(client):
    # The example: before, three identical centroids and two empty clusters.
    body = {"dataset": "custom", "points": [[1, 1]] * 5, "k": 3, "n_init": 1}
    error = refused(client, "kmeans", body)
    assert error["field"] == "k"
    assert error["message"].startswith("k: 3 clusters need at least 3 distinct points; "
                                       "points holds 1 (5 clicked, 4 of them repeats)")
    assert "choose k ≤ 1" in error["message"]
    assert result_of(client, "kmeans", body | {"k": 1})["centroids"] == [[1.0, 1.0]]


def test_kmeans_counts_distinct_points_not_clicks(client):
    points = [[0, 0], [0, 0], [2, 2], [2, 2]]
    error = refused(client, "kmeans", {"dataset": "custom", "points": points, "k": 3})
    assert "points holds 2 " in error["message"] and "choose k ≤ 2" in error["message"]
    result = result_of(client, "kmeans", {"dataset": "custom", "points": points, "k": 2})
    assert sorted(result["centroids"]) == [[0.0, 0.0], [2.0, 2.0]]
    error = refused(client, "kmeans", {"k": 12, "n_points": 10})
    assert error["message"] == ("k: 12 clusters need at least 12 points; n_points is 10; "
                                "choose k ≤ 10 or n_points ≥ 12")


def test_elbow_refuses_k_max_beyond_the_distinct_points(client):
    points = [[1, 1]] * 6 + [[3, 3]] * 6 + [[5, 1]]
    error = refused(client, "kmeans-elbow", {"dataset": "custom", "points": points})
    assert error["field"] == "k_max"
    assert "10 clusters need at least 10 distinct points; points holds 3" in error["message"]
    assert "choose k_max ≤ 3" in error["message"]
    result = result_of(client, "kmeans-elbow", {"dataset": "custom", "points": points,
                                                "k_max": 3})
    assert result["k"] == [1, 2, 3] and result["inertia"][-1] == 0.0
    error = refused(client, "kmeans-elbow", {"dataset": "custom", "points": [[1, 1]] * 4})
    assert error["message"].endswith("points holds 1 (4 clicked, 3 of them repeats); "
                                     "click more points")  # k_max ≤ 1 is no elbow


# ---- sizes that must divide each other: the message's suggestion works -------------------


@pytest.mark.parametrize(("slug", "body"), [
    ("attention", {"d_model": 24, "heads": 5}),
    ("attention", {"d_model": 9, "heads": 8}),
    ("transformer-train", {"d_model": 32, "heads": 3, "steps": 10}),
    ("seq2seq", {"d_model": 32, "heads": 3, "steps": 10}),
])
def test_d_model_not_divisible_by_heads_names_both_and_a_width_that_works(client, slug, body):
    error = refused(client, slug, body)
    assert error["field"] == "d_model" and "heads" in error["message"]
    width = int(re.search(r"e\.g\. (\d+)$", error["message"]).group(1))
    assert width % body["heads"] == 0
    result_of(client, slug, body | {"d_model": width})


# ---- runs that work but would mean nothing without a word --------------------------------


def test_batchnorm_over_a_single_token_says_every_output_is_zero(client):
    body = {"batch": 1, "sequence": 1}
    result = result_of(client, "norms", body)
    assert result["batch_output"] == [[[0.0] * 6]]
    assert result["note"].startswith("BatchNorm needs at least 2 tokens per feature")
    (frame,) = frames_of("norms", body)
    assert "one token" in frame["charts"]["batchnorm"]["layout"]["title"]["text"]
    assert frame["metrics"]["note"] == result["note"]
    assert result_of(client, "norms", {"batch": 2, "sequence": 1})["note"] is None


def test_a_constant_expression_says_there_is_nothing_to_differentiate(client):
    result = result_of(client, "autograd-graph", {"expression": "2*3 + sin(1)"})
    assert result["gradients"] == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert "uses none of x, y, z" in result["note"]
    last = frames_of("autograd-graph", {"expression": "2*3 + sin(1)"})[-1]
    (annotation,) = last["charts"]["graph"]["layout"]["annotations"]
    assert "constant" in annotation["text"] and "note" in last["metrics"]
    assert result_of(client, "autograd-graph", {"expression": "0*x"})["note"] is None


def test_gae_with_gamma_zero_says_lambda_changes_nothing(client):
    body = {"rewards": "1, 0, 2", "values": "0.5, 1, 1", "gamma": 0.0, "lam": 0.5}
    result = result_of(client, "gae", body)
    assert result["advantages"] == result["td_errors"] == result["monte_carlo"] == [
        0.5, -1.0, 1.0]
    assert "whatever λ" in result["note"]
    (frame,) = frames_of("gae", body)
    assert "λ changes nothing" in frame["charts"]["advantages"]["layout"]["title"]["text"]
    assert result_of(client, "gae", body | {"gamma": 0.5})["note"] is None


def test_gae_values_of_the_wrong_length_names_rewards_too(client):
    error = refused(client, "gae", {"rewards": "1, 2, 3", "values": "1"})
    assert error["field"] == "values"
    assert "rewards has 3 numbers, so values needs 3 or 4" in error["message"]
