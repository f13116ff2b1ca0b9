"""Contract tests: lessons and demos keep the promises of DESIGN.md."""

from __future__ import annotations

import copy
import json
import math
import re
import time
from typing import Any

import pytest

from app.demos import registry
from app.demos.base import DemoParams
from app.demos.frame_ops import FRAME_OPS, animation, extend, figure, op_problems
from app.executors.job import encode_frame
from app.lessons import LessonLibrary, parse_lesson
from app.params import ParamsError
from tests.helpers import LESSONS, extreme_params, run_to_done
from tests.runtime_source import js_table_names

DEMOS = sorted(registry().values(), key=lambda d: d.slug)


def _walk_numbers(schema: dict[str, Any], defs: dict[str, Any], path: str):
    """Every numeric leaf of a JSON Schema, with its path."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        yield path, schema
    for option in schema.get("anyOf", []):
        yield from _walk_numbers(option, defs, path)
    for i, item in enumerate(schema.get("prefixItems", [])):
        yield from _walk_numbers(item, defs, f"{path}[{i}]")
    if isinstance(schema.get("items"), dict):
        yield from _walk_numbers(schema["items"], defs, f"{path}[]")


LESSON_FILES = sorted(LESSONS.glob("*.md"))


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_lesson_renders_and_every_demo_fence_is_valid(path):
    # Rendering raises LessonError for an unknown demo, unknown preset key or bad value.
    lesson = parse_lesson(path)
    assert lesson.title and lesson.summary and lesson.toc
    assert lesson.exercises >= 3, "every lesson has at least three exercises"
    assert lesson.demos, "every lesson has a live demo"


def test_every_demo_appears_in_some_lesson():
    used = {slug for lesson in LessonLibrary(LESSONS).all() for slug in lesson.demos}
    assert set(registry()) <= used, f"demos in no lesson: {set(registry()) - used}"


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.slug)
def test_params_are_bounded_described_and_closed(demo):
    assert issubclass(demo.Params, DemoParams)
    assert demo.Params.model_config.get("extra") == "forbid"
    schema = demo.schema()
    properties = schema["properties"]
    assert "seed" in properties
    for name, prop in properties.items():
        assert prop.get("description"), f"{demo.slug}.{name} has no description"
        if prop.get("type") == "array":
            assert "maxItems" in prop, f"{demo.slug}.{name}: unbounded list"
        if prop.get("type") == "string" and "enum" not in prop:
            assert "maxLength" in prop, f"{demo.slug}.{name}: unbounded text"
    for path, leaf in _walk_numbers(schema, schema.get("$defs", {}), demo.slug):
        low = leaf.get("minimum", leaf.get("exclusiveMinimum"))
        high = leaf.get("maximum", leaf.get("exclusiveMaximum"))
        assert low is not None and high is not None, f"{path} lacks a bound"


IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")  # snake_case


MAX_SECONDS = 8.0  # of a run at the maximum settings (the server's budget is longer)


@pytest.mark.parametrize("which", ["defaults", "min", "max"])
@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.slug)
def test_defaults_and_extremes_run_to_done_with_finite_json_frames(demo, which):
    # Whether the worst cases also fit the default job budget is a question of speed:
    # bench/worst_case_runs.py answers it. Here the largest settings run under a budget,
    # as the server runs them, so a stopped run's frames and result are checked too
    # (and three demos' full maximum, a minute each, is left to the bench).
    values = demo.defaults() if which == "defaults" else extreme_params(demo, which)
    started = time.monotonic()
    frames, result = run_to_done(demo, values, MAX_SECONDS if which == "max" else None)
    stopped = which == "max" and time.monotonic() - started >= MAX_SECONDS
    assert frames, "a run must draw something"
    for frame in frames:
        encode_frame(frame)  # raises on NaN/inf or anything not JSON
        assert 0.0 <= frame["progress"] <= 1.0
        assert set(frame["charts"]) <= {c.id for c in demo.charts}
        assert [problem for op in frame["charts"].values() for problem in op_problems(op)] == []
    assert frames[-1]["progress"] == 1.0 or stopped  # a stopped run says how far it got
    json.dumps(result, allow_nan=False)
    assert result
    # Keys are identifiers (a client reads them); the page's words go in metric_labels.
    metric_keys = {key for frame in frames for key in frame["metrics"]}
    assert all(IDENTIFIER.match(key) for key in metric_keys | set(result)), (
        sorted(k for k in metric_keys | set(result) if not IDENTIFIER.match(k)))
    assert all(IDENTIFIER.match(key) for key in demo.metric_labels), demo.metric_labels
    assert not label_axes_left_to_guess(demo, frames)


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.slug)
def test_every_choice_either_runs_or_is_refused_clearly(demo):
    for name, prop in demo.schema()["properties"].items():
        for choice in prop.get("enum", []):
            values = {**demo.defaults(), name: choice}
            try:
                frames, result = run_to_done(demo, values)
            except ParamsError as exc:  # e.g. "custom" data with no points yet
                assert exc.errors and all(e["message"] for e in exc.errors)
                continue
            assert frames and all(
                math.isfinite(v) for v in result.values() if isinstance(v, float)
            )


# ---- frame ops: one table in Python, one in the page ------------------------------------


def test_the_page_draws_every_frame_op_and_no_other():
    assert js_table_names("ops.js", "FRAME_OPS") == list(FRAME_OPS) == [
        "react", "extend", "animate"]


def test_each_op_builder_makes_an_op_of_the_table_with_its_keys():
    built = [figure([]), extend([0], [[1.0]], [[2.0]]), animation([], [[]])]
    assert {op["op"]: tuple(key for key in op if key != "op") for op in built} == FRAME_OPS
    assert [op_problems(op) for op in built] == [[], [], []]


def test_an_unknown_op_or_a_missing_key_is_found():
    assert op_problems({"op": "scatter", "data": []}) == ["unknown op 'scatter'"]
    assert op_problems({"op": "extend", "traces": [0], "x": [[1]]}) == [
        "extend op lacks y, max_points"]


# ---- axes of labels are categories -------------------------------------------------------

NOT_LABELS = {"inf", "-inf", "nan"}  # the contract's non-finite numbers travel as strings


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The layout the page draws: the chart's declared layout, deep-merged with the op's."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def label_axes_left_to_guess(demo, frames: list[dict]) -> list[str]:
    """Axes whose traces hold labels (strings) but whose layout does not say "category".

    Plotly then guesses the type from the labels: tokens "3", "+", "1", "10" make a
    linear axis and "2024-01-01" a date axis, and a 4×4 map is drawn as two bands.
    """
    declared = {chart.id: chart.layout for chart in demo.charts}
    problems = []
    for frame in frames:
        for chart_id, op in frame["charts"].items():
            if "data" not in FRAME_OPS[op["op"]]:
                continue  # extend ops append numbers to traces a react op drew
            layout = _merged(declared[chart_id], op["layout"])
            for trace in op["data"]:
                for letter in "xy":
                    labels = [v for v in trace.get(letter) or []
                              if isinstance(v, str) and v not in NOT_LABELS]
                    axis = trace.get(f"{letter}axis", letter).replace(letter, f"{letter}axis")
                    kind = layout.get(axis, {}).get("type")
                    if labels and kind != "category":
                        problems.append(f"{chart_id}.{axis} holds {labels[:3]} but its type "
                                        f"is {kind!r}")
    return sorted(set(problems))


NUMBER_LIKE_TEXTS = ["3 + 1 + 2 10", "1 + 2 = 3", "2024-01-01 2024-02-01 hello"]


@pytest.mark.parametrize("text", NUMBER_LIKE_TEXTS)
def test_attention_axes_of_number_like_tokens_are_categories(text):
    # The tester's examples: "+" and "=" rows vanished, a 4×4 map was drawn as 2 bands.
    demo = registry()["attention"]
    for heads in (1, 2, 8):  # 1 and 2 heads: the small multiples show their ticks
        frames, result = run_to_done(demo, {"text": text, "heads": heads, "d_model": 32})
        assert label_axes_left_to_guess(demo, frames) == []
        layout = frames[-1]["charts"]["head"]["layout"]
        assert layout["xaxis"]["type"] == layout["yaxis"]["type"] == "category"
        small = frames[-1]["charts"]["maps"]["layout"]
        assert {small[f"{a}axis{s}"]["type"] for a in "xy" for s in ["", *range(2, heads + 1)]
                } == {"category"}
        assert len(result["weights"][0]) == len(result["tokens"])


def test_crf_tagger_axes_are_categories_for_a_sentence_of_dates():
    demo = registry()["crf-tagger"]
    frames, result = run_to_done(demo, {"embedding": 8, "hidden": 8, "epochs": 1, "seed": 11,
                                        "sentence": "2024-01-01 2024-02-01 hello 3 + 1"})
    assert label_axes_left_to_guess(demo, frames) == []
    lattice = frames[-1]["charts"]["lattice"]
    assert lattice["data"][0]["x"] == list(range(len(result["tokens"])))  # positions
    assert lattice["layout"]["xaxis"]["ticktext"] == result["tokens"]


def test_a_string_axis_without_a_type_is_found():
    # The check itself: a heatmap of tokens without "category" is reported, per axis.
    demo = registry()["attention"]
    frame = {"charts": {"head": {"op": "react", "data": [
        {"type": "heatmap", "x": ["3", "+", "1"], "y": ["3", "+", "1"], "z": [[0]]},
        {"type": "heatmap", "x": [0, 1], "y": [1.0, "nan"], "xaxis": "x2", "yaxis": "y2"}],
        "layout": {"yaxis": {"type": "category"}}}}}
    assert label_axes_left_to_guess(demo, [frame]) == [
        "head.xaxis holds ['3', '+', '1'] but its type is None"]
