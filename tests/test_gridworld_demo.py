"""The GridWorld demo reports the same numbers in every frame, the last one, and its result."""

from __future__ import annotations

import pytest

from app.demos import registry
from tests.helpers import run_to_done

GRIDWORLD = registry()["gridworld"]


def solver_frames(body: dict) -> tuple[list[dict], dict]:
    """The frames that report a solver step (all but the first, empty one) and the result."""
    frames, result = run_to_done(GRIDWORLD, body)
    return [f for f in frames if "max_change" in f["metrics"]], result


@pytest.mark.parametrize("body", [
    {"algorithm": "monte carlo", "episodes": 100},
    {"grid": "S#G", "algorithm": "monte carlo", "episodes": 5000},
])
def test_monte_carlo_ends_with_the_change_its_frames_showed(client, body):
    # The tester's examples: frames showed max_change 0.0148, then the last frame and the
    # result 2316.0 (1000000.0 for S#G): the visit count, not a change of V.
    frames, result = solver_frames(body)
    *steps, last = frames
    assert last["metrics"]["max_change"] == steps[-1]["metrics"]["max_change"]
    assert all(f["metrics"]["max_change"] < 1.0 for f in frames)
    assert result["max_change"] == pytest.approx(last["metrics"]["max_change"], abs=1e-6)
    assert client.post("/api/demos/gridworld/run", json=body).json()["result"] == result


@pytest.mark.parametrize("algorithm", ["value iteration", "policy iteration", "monte carlo"])
def test_the_last_frame_keeps_the_start_value(algorithm):
    frames, result = solver_frames({"algorithm": algorithm, "episodes": 100})
    *steps, last = frames
    assert last["metrics"]["start_value"] == steps[-1]["metrics"]["start_value"]
    assert result["start_value"] == pytest.approx(last["metrics"]["start_value"], abs=1e-4)
    assert result["values"][0] == pytest.approx(result["start_value"], abs=1e-6)  # S is cell 0


def test_without_a_start_no_frame_or_result_makes_one_up():
    frames, result = solver_frames({"grid": "..G"})
    assert all("start_value" not in f["metrics"] for f in frames)
    assert result["start_value"] is None


def test_monte_carlo_counts_episodes_where_the_planners_count_sweeps():
    frames, _ = run_to_done(GRIDWORLD, {"algorithm": "monte carlo", "episodes": 100})
    assert frames[0]["charts"]["delta"]["layout"]["xaxis"]["title"]["text"] == "episodes played"
    assert [f["metrics"]["episodes"] for f in frames[1:4]] == [2, 4, 6]  # 100 // 40 a batch
    planner, _ = run_to_done(GRIDWORLD, {"algorithm": "value iteration"})
    # The planners extend the chart's declared line, under its own "sweep" axis.
    assert GRIDWORLD.charts[1].layout["xaxis"]["title"]["text"] == "sweep"
    assert planner[0]["charts"]["delta"]["op"] == "extend"
    assert [f["metrics"]["iteration"] for f in planner[:3]] == [1, 2, 3]


def test_every_cell_but_a_wall_is_labelled_in_place():
    frames, result = run_to_done(GRIDWORLD, {"grid": "S#G/..."})
    values = frames[-1]["charts"]["values"]
    labels = {(a["y"], a["x"]): a["text"] for a in values["layout"]["annotations"]}
    assert set(labels) == {(0, 0), (0, 2), (1, 0), (1, 1), (1, 2)}  # (0, 1) is the wall
    assert "★" in labels[0, 2] and "goal" in labels[0, 2] and labels[1, 2] == "↑"
    assert labels[0, 0] == "↓<br>start" and result["policy"][0] == 2  # down, round the wall
    assert values["data"][0]["z"][0][1] is None  # the wall: no value, a blank cell
