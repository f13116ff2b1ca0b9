"""Charts a student can read (issue 16): scales that fit what they show, axes that match
across a demo's charts, and right/wrong told by more than colour."""

from __future__ import annotations

from app.demos import registry
from tests.lesson_claims.claims import run_demo


def test_ppo_losses_and_entropy_each_get_their_own_scale():
    charts = {c.id: c for c in registry()["ppo-cartpole"].charts}
    losses = charts["losses"]
    assert [t["name"] for t in losses.traces] == ["policy loss", "value loss", "entropy"]
    assert [t["yaxis"] for t in losses.traces] == ["y", "y2", "y3"]
    assert [losses.layout[a]["title"]["text"] for a in ("yaxis", "yaxis2", "yaxis3")] == [
        "policy loss", "value loss", "entropy"]


def accuracy_x_end(frames: list[dict]) -> dict[int, float]:
    """The last x each trace of the accuracy chart reaches."""
    end: dict[int, float] = {}
    for frame in frames:
        op = frame["charts"].get("accuracy")
        if op:
            for trace, xs in zip(op["traces"], op["x"], strict=True):
                end[trace] = max([end.get(trace, 0), *xs])
    return end


def test_transformer_train_accuracy_lines_end_where_training_ended():
    # Early stopping ends the run long before its step budget; the goal and chance lines
    # used to span the whole budget, leaving the accuracy chart three-quarters empty.
    run = run_demo("transformer-train", {"steps": 1000, "early_stop": True})
    assert run.result["ended_at_goal"] and run.result["steps_run"] < 1000
    ends = accuracy_x_end(run.frames)
    assert set(ends.values()) == {run.result["steps_run"]}  # all four, the loss's last step
    loss_end = max(x for f in run.frames if "loss" in f["charts"]
                   for x in f["charts"]["loss"]["x"][0])
    assert loss_end == run.result["steps_run"]


def test_transformer_train_marks_right_and_wrong_predictions_with_more_than_colour():
    run = run_demo("transformer-train", {"steps": 16})  # barely trained: some wrong
    probe = [f["charts"]["probe"] for f in run.frames if "probe" in f["charts"]][-1]
    prediction_row = probe["data"][0]["text"][0]  # drawn top row first: prediction
    right = [p == t for p, t in zip(run.result["probe_prediction"],
                                    run.result["probe_target"], strict=True)]
    assert prediction_row == [f"{p} {'✓' if r else '✗'}" for p, r in
                              zip(run.result["probe_prediction"], right, strict=True)]
    assert not all(right)  # barely trained: the row shows crosses, not only ticks
