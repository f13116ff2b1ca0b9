"""A demo's controls (app/controls.py): one per Params field, its kind read from the JSON
Schema, never written by hand; and the demo block a lesson's fence renders."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Annotated, Literal

import pytest
from pydantic import Field

from app.controls import (
    CONTROL_KINDS,
    DEPENDS_ON,
    control_for,
    controls_for,
    render_demo_block,
)
from app.demos import registry
from app.demos.base import Chart, Demo, DemoParams, RunContext, RunGenerator
from app.demos.base import control as control_hints
from app.markdown import LessonError
from app.templating import templates
from tests.runtime_source import js_table_names


class EveryKind(DemoParams):
    layers: int = Field(3, ge=1, le=8, description="How many layers")
    rate: float = Field(0.5, ge=0.0, le=1.0, description="A fraction")
    spread: float = Field(2.0, ge=0.0, le=5.0, description="A spread")
    width: int = Field(8, ge=4, le=64, description="Width",
                       json_schema_extra={"x-step": 4})
    lr: float = Field(0.01, ge=1e-4, le=1.0, description="Step size",
                      json_schema_extra={"x-scale": "log", "x-label": "learning rate"})
    mode: Literal["fast", "exact"] = Field("fast", description="Which way")
    causal: bool = Field(False, description="Look back only")
    text: str = Field("the cat", max_length=40, description="A sentence")
    paragraph: str = Field("A first sentence. A second one.", max_length=600,
                           description="A paragraph")
    table: str = Field("", max_length=5000, description="x, y per row",
                       json_schema_extra={"x-widget": "csv", "x-label": "points from CSV",
                                          "x-activates": {"mode": "exact"}})
    limit: int | None = Field(None, ge=1, le=10, description="Optional cap")
    clip: float = Field(1.0, ge=0.0, description="No upper bound")
    points: list[tuple[Annotated[float, Field(ge=-5, le=5)], float]] = Field(
        [], max_length=50, description="Click to add points",
        json_schema_extra={"x-widget": "click-points", "x-chart": "plane",
                           "x-activates": {"mode": "exact"}})
    shown: int = Field(2, ge=0, le=4, description="Only for exact",
                       json_schema_extra={"x-show-if": {"mode": "exact"}})
    parts: int = Field(2, ge=1, le=8, description="Divides the width",
                       json_schema_extra=control_hints(divides="width"))
    weights: str = Field("1, 2", description="One per word, and one more",
                         json_schema_extra=control_hints(length_of="text", length_extra=1))


def _no_run(params: DemoParams, ctx: RunContext) -> RunGenerator:
    return {}
    yield


KINDS = Demo("test-controls", "Every kind", "Test demo", EveryKind, [Chart("plane", "Plane")],
             _no_run)


@pytest.fixture
def registered() -> Iterator[Demo]:
    registry()[KINDS.slug] = KINDS
    yield KINDS
    registry().pop(KINDS.slug)


def controls() -> dict[str, dict]:
    return {c["name"]: c for c in controls_for(KINDS, KINDS.defaults())}


# ---- one control per field, its kind from the schema -----------------------------------


def test_bounded_numbers_are_sliders_with_a_round_step():
    c = controls()
    assert {k: c["layers"][k] for k in ("kind", "min", "max", "step", "value")} == {
        "kind": "range", "min": 1, "max": 8, "step": 1, "value": 3}
    assert (c["rate"]["step"], c["spread"]["step"]) == (0.01, 0.05)  # a hundredth, rounded
    assert c["width"]["step"] == 4  # x-step wins
    assert c["layers"]["label"] == "layers" and c["layers"]["help"] == "How many layers"


def test_a_log_slider_moves_over_decades():
    lr = controls()["lr"]
    assert lr["kind"] == "range" and lr["scale"] == "log"
    assert (lr["min"], lr["max"], lr["step"], lr["position"]) == (-4.0, 0.0, 0.01, -2.0)
    assert lr["label"] == "learning rate" and lr["value"] == 0.01
    schema = KINDS.schema()["properties"]["lr"]
    assert control_for("lr", schema, 0)["position"] == 0  # no log10(0) for an unset value


def test_choices_booleans_text_and_unbounded_numbers():
    c = controls()
    assert (c["mode"]["kind"], c["mode"]["options"]) == ("select", ["fast", "exact"])
    assert c["causal"]["kind"] == "checkbox" and c["causal"]["value"] is False
    assert (c["text"]["kind"], c["text"]["max_length"]) == ("text", 40)
    assert c["clip"]["kind"] == "number" and "max" not in c["clip"]
    assert (c["seed"]["kind"], c["seed"]["min"], c["seed"]["max"]) == ("number", 0, 2**31 - 1)


def test_an_optional_field_gets_the_control_of_its_type():
    limit = controls()["limit"]
    assert (limit["kind"], limit["min"], limit["max"], limit["step"]) == ("range", 1, 10, 1)
    assert limit["value"] is None and limit["default"] is None


def test_clicked_points_name_their_chart_and_the_choice_they_switch_on():
    points = controls()["points"]
    assert points["kind"] == "points" and points["chart"] == "plane"
    assert points["activates"] == {"mode": "exact"} and points["max_items"] == 50
    assert points["json_value"] == "[]"
    # The boxes to type a point in (the keyboard's way) have each coordinate's bounds.
    assert points["axes"] == [{"name": "x", "min": -5, "max": 5}, {"name": "y"}]


def test_a_text_that_may_hold_a_paragraph_is_a_text_area_showing_its_bound(registered):
    c = controls()
    assert (c["paragraph"]["kind"], c["paragraph"]["multiline"]) == ("text", True)
    assert c["text"]["multiline"] is False
    page = render_demo_block("test-controls", {}, "p")
    area = re.search(r'<textarea id="p-paragraph"[^>]*>', page).group(0)
    # No maxlength: a pasted paragraph past the bound is not cut without a word; the
    # count beside the label shows the bound and the server names it.
    assert 'data-max-length="600"' in area and "maxlength" not in area
    assert 'aria-describedby="p-paragraph-help p-paragraph-count"' in area
    assert re.search(r'<input type="text" id="p-text"[^>]*maxlength="40"', page)


def test_csv_points_are_a_text_area_and_a_file_picker_switching_their_choice(registered):
    c = controls()["table"]
    assert (c["kind"], c["max_length"], c["activates"]) == ("csv", 5000, {"mode": "exact"})
    page = render_demo_block("test-controls", {}, "c")
    assert re.search(r'<textarea id="c-table" name="table"[^>]*data-activates="\{&#34;mode&#34;: '
                     r'&#34;exact&#34;\}"', page)
    assert re.search(r'<label for="c-table-file">Load a CSV file</label>\s*<input type="file" '
                     r'id="c-table-file" accept=".csv,text/csv"', page)
    # Only the textarea is a parameter: the file picker has no name, nor have the x/y boxes.
    assert page.count('name="table"') == 1
    assert re.search(r'<input type="number" class="points-coordinate" id="c-points-x" '
                     r'data-axis="x" step="any" min="-5" max="5">', page)
    assert re.search(r'<label class="points-axis" for="c-points-y">y<span class="visually-'
                     r'hidden"> of the point to add</span></label>', page)
    assert "data-add-point>Add point</button>" in page


def test_fields_appear_in_declaration_order_with_the_seed_last():
    names = [c["name"] for c in controls_for(KINDS, KINDS.defaults())]
    assert list(EveryKind.model_fields)[0] == "seed"  # the base class's field comes first
    assert names == [*list(EveryKind.model_fields)[1:], "seed"]
    assert controls()["shown"]["show_if"] == {"mode": "exact"}
    assert controls()["layers"]["show_if"] is None


def test_a_control_another_limits_names_it():
    c = controls()
    assert c["parts"]["depends"] == {"divides": "width"} and c["parts"]["kind"] == "range"
    assert c["weights"]["depends"] == {"length-of": {"field": "text", "extra": 1}}
    assert c["layers"]["depends"] == {}
    schema = KINDS.schema()["properties"]
    assert schema["parts"]["x-divides"] == "width"
    assert schema["weights"]["x-length-of"] == {"field": "text", "extra": 1}


# ---- one place per kind: a table entry, a template macro, a page entry -------------------


def test_every_kind_has_its_macro_and_its_entry_in_the_page_runtime():
    kinds = [kind.name for kind in CONTROL_KINDS]
    assert sorted(kinds) == sorted(set(kinds)) == sorted(
        ["range", "select", "checkbox", "number", "text", "points", "csv"])
    macros = templates.env.get_template("_controls.html").module
    assert sorted(name for name in dir(macros) if not name.startswith("_")) == sorted(kinds)
    assert sorted(js_table_names("controls.js", "CONTROL_KINDS")) == sorted(kinds)
    assert {c["kind"] for c in controls_for(KINDS, KINDS.defaults())} == set(kinds)


def test_every_dependency_hint_has_its_entry_in_the_page_runtime():
    assert sorted(js_table_names("controls.js", "DEPENDS_ON")) == sorted(DEPENDS_ON)


# ---- every real demo's controls hang together ---------------------------------------------


@pytest.mark.parametrize("demo", list(registry().values()), ids=lambda d: d.slug)
def test_every_control_refers_only_to_charts_and_choices_its_demo_has(demo):
    properties = demo.schema()["properties"]
    charts = {chart.id for chart in demo.charts}
    for control in controls_for(demo, demo.defaults()):
        if control["kind"] == "points":
            assert control["chart"] in charts, control["name"]
        for field, value in {**(control["show_if"] or {}),
                             **control.get("activates", {})}.items():
            assert field in properties, (control["name"], field)
            choices = properties[field].get("enum")
            values = value if isinstance(value, list) else [value]  # show_if: one of a list
            assert choices is None or set(values) <= set(choices), (control["name"], field, value)
        # A divisor follows a whole number; a count of numbers follows another text box.
        depends = control["depends"]
        if "divides" in depends:
            assert control["kind"] == "range"
            assert properties[depends["divides"]]["type"] == "integer", control["name"]
        if "length-of" in depends:
            assert control["kind"] == "text"
            assert properties[depends["length-of"]["field"]]["type"] == "string"


@pytest.mark.parametrize(("slug", "field", "depends"), [
    ("attention", "heads", {"divides": "d_model"}),
    ("transformer-train", "heads", {"divides": "d_model"}),
    ("gae", "values", {"length-of": {"field": "rewards", "extra": 1}}),
])
def test_dependent_controls_of_the_demos_that_have_them(slug, field, depends):
    demo = registry()[slug]
    (control,) = [c for c in controls_for(demo, demo.defaults()) if c["name"] == field]
    assert control["depends"] == depends


# ---- the block a demo fence renders ----------------------------------------------------------


def test_a_demo_block_has_every_control_and_the_presets_over_the_defaults(registered):
    page = render_demo_block("test-controls", {"layers": 5, "mode": "exact"}, "first")
    for name in EveryKind.model_fields:
        assert page.count(f'name="{name}"') == 1, name
    presets = json.loads(html.unescape(re.search(r'data-presets="([^"]*)"', page).group(1)))
    assert presets == {**KINDS.defaults(), "layers": 5, "mode": "exact"}
    assert re.search(r'id="first-layers" name="layers" min="1" max="8" step="1" value="5"',
                     page)
    assert 'data-scale="log"' in page and 'value="-2.0"' in page  # the slider's position
    assert '<option value="exact" selected>' in page
    assert 'data-chart="plane"' in page
    assert re.search(r'name="parts" [^>]*data-divides="width"', page)
    length_of = re.search(r'name="weights" [^>]*data-length-of="([^"]*)"', page).group(1)
    assert json.loads(html.unescape(length_of)) == {"field": "text", "extra": 1}


@pytest.mark.parametrize(("slug", "presets", "words"), [
    ("nope", {}, "unknown demo 'nope'"),
    ("test-controls", {"layers": 99}, "demo test-controls: bad preset: layers"),
    ("test-controls", {"colour": "red"}, "colour"),
])
def test_a_bad_fence_is_the_authors_error_naming_what_is_wrong(registered, slug, presets,
                                                               words):
    with pytest.raises(LessonError, match=re.escape(words)):
        render_demo_block(slug, presets, "x")


def test_a_control_is_labelled_in_words_and_keeps_its_name_beside_a_renamed_label():
    plain = control_for("learning_rate", {"type": "number", "minimum": 0.001,
                                          "maximum": 1.0}, 0.1)
    assert (plain["label"], plain["key"]) == ("learning rate", None)
    renamed = control_for("n_init", {"type": "integer", "minimum": 1, "maximum": 20,
                                     "x-label": "restarts"}, 3)
    assert (renamed["label"], renamed["key"]) == ("restarts", "n_init")


@pytest.mark.parametrize("slug", sorted(registry()))
def test_every_control_a_student_reads_is_in_words(slug):
    demo = registry()[slug]
    for control in controls_for(demo, demo.defaults()):
        assert "_" not in control["label"], (slug, control["name"], control["label"])
