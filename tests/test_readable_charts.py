"""Charts a student can read (issue 16): scales that fit what they show, axes that match
across a demo's charts, and right/wrong told by more than colour."""

from __future__ import annotations

import math
import re

from app.demos import registry
from app.demos.charts import line_chart
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


# ---- full-width charts: the beam-search tree and the Viterbi lattice ----------------------


def test_the_tree_and_the_lattice_span_the_demo_and_the_others_do_not():
    wide = {(slug, c.id) for slug, demo in registry().items() for c in demo.charts if c.wide}
    assert wide == {("beam-search", "tree"), ("crf-tagger", "lattice")}
    for slug, chart_id in wide:
        chart = next(c for c in registry()[slug].charts if c.id == chart_id)
        assert chart.layout["height"] > 340  # taller than a chart in a column


def test_a_full_width_chart_is_a_figure_across_both_columns(client):
    html = client.get("/lessons/crf").text
    figures = re.findall(r'<figure class="([^"]*)"[^>]*>\s*<figcaption[^>]*>([^<]*)<', html)
    wide = {caption for classes, caption in figures if "chart-wide" in classes.split()}
    assert wide == {"Viterbi lattice of your sentence"}
    assert len(figures) > len(wide)  # the training curves stay in their columns


def tree_of(run) -> dict:
    return next(f["charts"]["tree"] for f in reversed(run.frames) if "tree" in f["charts"])


def test_the_beam_tree_grows_taller_with_its_rows_so_words_stay_apart():
    narrow = tree_of(run_demo("beam-search", {"beam_width": 1, "train_steps": 20}))
    wide = tree_of(run_demo("beam-search", {"beam_width": 8, "train_steps": 20}))
    def rows_and_pixels_per_row(tree: dict) -> tuple[int, float]:
        rows = len(tree["layout"]["yaxis"]["tickvals"])
        return rows, tree["layout"]["height"] / rows

    (few, _), (many, room) = rows_and_pixels_per_row(narrow), rows_and_pixels_per_row(wide)
    assert many > few
    assert wide["layout"]["height"] > narrow["layout"]["height"]
    assert room >= 30  # a word (12 px) above its point (11 px) in every row, at width 8


def test_a_forty_word_sentence_gets_steeper_smaller_word_ticks():
    from app.demos.crf_tagger import word_ticks
    assert word_ticks(12) == {"tickangle": -45}
    forty = word_ticks(40)
    assert forty["tickangle"] <= -60 and forty["tickfont"]["size"] <= 10
    # 40 columns across ~1100 px leave ~27 px: rotated labels of 10 px stay apart
    assert 1100 / 40 * abs(math.sin(math.radians(forty["tickangle"]))) > forty["tickfont"]["size"]


# ---- GridWorld: goal and trap differ in more than colour ------------------------------------


def test_gridworld_goal_and_trap_differ_in_symbol_word_and_colour():
    run = run_demo("gridworld", {"grid": "S.G/.T."})
    values = [f["charts"]["values"] for f in run.frames if "values" in f["charts"]][-1]
    cells = {(a["y"], a["x"]): a for a in values["layout"]["annotations"]}
    goal, trap = cells[0, 2], cells[1, 1]
    assert "★" in goal["text"] and "goal" in goal["text"]
    assert "✖" in trap["text"] and "trap" in trap["text"]
    assert goal["font"]["color"] != trap["font"]["color"]
    assert goal["bgcolor"] != trap["bgcolor"] != cells[0, 0]["bgcolor"]  # and floor cells


# ---- iteration axes count in whole numbers; titles make room for tick labels -------------

COUNTING = re.compile(r"\b(iteration|step|steps|epoch|update|episode|episodes|layer|sweep|k)\b")


def x_axes(chart) -> list[dict]:
    return [v for key, v in chart.layout.items() if key.startswith("xaxis")]


def test_every_axis_that_counts_has_whole_number_ticks():
    counting = []
    for slug, demo in registry().items():
        for chart in demo.charts:
            for axis in x_axes(chart):
                title = axis.get("title", {}).get("text", "")
                if COUNTING.search(title):
                    counting.append((slug, chart.id))
                    whole = axis.get("tickformat") == "d" or axis.get("dtick") == 1
                    assert whole, (slug, chart.id, title)
    assert len(counting) >= 12  # kmeans, gridworld, gradient-flow, crf, ppo, beam-search...


def test_integer_x_reaches_five_so_plotly_never_ticks_at_halves():
    chart = line_chart("c", "C", x_title="iteration", integer_x=True)
    assert chart.layout["xaxis"]["tickformat"] == "d"
    assert chart.layout["xaxis"]["autorangeoptions"] == {"include": [5]}
    assert "tickformat" not in line_chart("c", "C", x_title="x").layout["xaxis"]


def test_every_titled_axis_makes_room_for_its_tick_labels():
    for slug, demo in registry().items():
        for chart in demo.charts:
            for key, axis in chart.layout.items():
                if key.startswith(("xaxis", "yaxis")) and "title" in axis:
                    assert axis.get("automargin") is True, (slug, chart.id, key)


# ---- gradient-flow: one log range across the runs the lesson compares --------------------


def grad_ranges(run) -> set[tuple[float, float]]:
    return {tuple(op["layout"]["yaxis"]["range"]) for op in run.ops("grad_norms")}


def test_gradient_flow_draws_the_runs_the_lesson_compares_on_one_log_range():
    sigmoid = run_demo("gradient-flow", {"depth": 20, "activation": "sigmoid", "init": "xavier",
                                         "steps": 5})
    relu = run_demo("gradient-flow", {"depth": 20, "activation": "relu", "init": "kaiming",
                                      "steps": 5})
    assert grad_ranges(sigmoid) == grad_ranges(relu) == {(-14.2, 3.2)}


def test_gradient_flow_widens_its_range_only_for_norms_outside_it():
    from app.demos.gradient_flow import DECADES, log_range
    assert log_range([1e-3, 1.0, 0.0, math.inf]) == DECADES  # zero and inf are not drawn
    assert log_range([1e-20, 1e5]) == (-20, 5)
    assert log_range([1.0], (-20, 5)) == (-20, 5)  # a run never narrows back
