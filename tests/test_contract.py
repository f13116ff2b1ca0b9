"""Contract tests: lessons and demos keep the promises of DESIGN.md."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from app.demos import registry
from app.demos.base import DemoParams
from app.jobs import encode_frame
from app.lessons import LessonLibrary, parse_lesson
from app.params import ParamsError
from tests.helpers import LESSONS, extreme_params, run_to_done

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


@pytest.mark.parametrize("which", ["defaults", "min", "max"])
@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.slug)
def test_defaults_and_extremes_run_to_done_with_finite_json_frames(demo, which):
    # Whether the worst cases also fit the default job budget is a question of speed:
    # bench/worst_case_runs.py answers it.
    values = demo.defaults() if which == "defaults" else extreme_params(demo, which)
    frames, result = run_to_done(demo, values)
    assert frames, "a run must draw something"
    for frame in frames:
        encode_frame(frame)  # raises on NaN/inf or anything not JSON
        assert 0.0 <= frame["progress"] <= 1.0
        assert set(frame["charts"]) <= {c.id for c in demo.charts}
    assert frames[-1]["progress"] == 1.0
    json.dumps(result, allow_nan=False)
    assert result


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
