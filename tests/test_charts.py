"""The chart vocabulary (app/demos/charts.py) and the rules it lets the contract keep.

Demos say what they show (axis titles, traces) and the vocabulary spells the Plotly;
the source checks below keep it that way as demos are added.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from app.config import ROOT
from app.demos import registry
from app.demos.charts import (
    LEGEND_BELOW,
    bar_chart,
    bars,
    heatmap,
    layout,
    line,
    line_chart,
    markers,
)

DEMO_FILES = sorted(p for p in (ROOT / "app" / "demos").glob("*.py")
                    if p.name not in ("__init__.py", "base.py", "charts.py"))


def test_a_line_chart_declares_its_traces_and_titles_its_axes():
    chart = line_chart("loss", "Training loss", x_title="step", y_title="loss", log_y=True,
                       lines=[line("train"), markers("held-out", marker={"size": 4})])
    # Every axis makes room for its tick labels: its title never sits on them.
    assert chart.layout["xaxis"] == {"title": {"text": "step"}, "automargin": True}
    assert chart.layout["yaxis"] == {"title": {"text": "loss"}, "automargin": True, "type": "log"}
    assert chart.layout["legend"] == LEGEND_BELOW  # two traces: a legend
    assert [(t["name"], t["mode"], t["x"], t["y"]) for t in chart.traces] == [
        ("train", "lines", [], []), ("held-out", "markers", [], [])]
    assert chart.traces[1]["marker"] == {"size": 4}


def test_one_trace_needs_no_legend_and_bars_group():
    chart = bar_chart("counts", "Counts", x_title="epoch", series=[bars("softmax")])
    assert "legend" not in chart.layout and chart.layout["barmode"] == "group"


def test_a_note_above_the_plot_gets_room():
    assert layout(title="⚠ note") == {"title": {"text": "⚠ note", "font": {"size": 13}},
                                      "margin": {"t": 48}}
    assert layout() == {}


def test_heatmap_keeps_only_what_is_given():
    trace = heatmap([[1, 2]], x=["a", "b"], zmin=0, zmax=1, colorbar_title="p", reverse=True)
    assert trace == {"type": "heatmap", "z": [[1, 2]], "x": ["a", "b"], "colorscale": "Blues",
                     "zmin": 0, "zmax": 1, "colorbar": {"title": {"text": "p"}},
                     "reversescale": True}


def test_declared_traces_are_served_with_each_chart():
    charts = {c["id"]: c for c in registry()["gae"].describe()["charts"]}
    assert [t["name"] for t in charts["episode"]["traces"]] == ["reward r_t", "value V(s_t)"]


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_no_demo_imports_another_demo(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    # A module of app/demos that defines no `demo` (the contract, the chart vocabulary,
    # shared parameters) may be shared; a demo may not lean on another demo.
    demos = {m for m in imported if m and m.startswith("app.demos.")
             and hasattr(importlib.import_module(m), "demo")}
    assert not demos, f"{path.name} imports {sorted(demos)}: share through app/ml or charts"


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_no_demo_spells_a_title_or_an_empty_trace_by_hand(path: Path):
    source = path.read_text(encoding="utf-8")
    assert '{"title": {"text"' not in source, f"{path.name}: use charts.layout/axis"
    assert '"x": [], "y": []' not in source, f"{path.name}: declare traces with charts.line"


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_no_demo_spells_a_control_hint_by_hand(path: Path):
    source = path.read_text(encoding="utf-8")
    assert '"x-' not in source, f"{path.name}: use base.control(...) or base.click_points(...)"


def test_control_hints_are_the_schema_keys_the_page_reads():
    from app.controls import control_for
    from app.demos.base import click_points, control

    hints = control(label="learning rate", log_scale=True, show_if={"optimizer": "sgd"})
    prop = {"type": "number", "minimum": 0.001, "maximum": 1.0, "default": 0.1, **hints}
    made = control_for("lr", prop, 0.1)
    assert (made["label"], made["scale"], made["show_if"]) == (
        "learning rate", "log", {"optimizer": "sgd"})
    assert control_for("n", {"type": "integer", "minimum": 0, "maximum": 64,
                             **control(step=16)}, 32)["step"] == 16
    points = control_for("points", {"type": "array", **click_points("plane", {"mode": "x"})}, [])
    assert (points["kind"], points["chart"], points["activates"]) == ("points", "plane",
                                                                      {"mode": "x"})
    assert control() == {}  # no hints: the schema alone decides the control


def test_a_panel_chart_gives_each_line_its_own_scale_top_to_bottom():
    from app.demos.charts import panel_chart

    chart = panel_chart("losses", "Losses", x_title="update",
                        panels=[("policy loss", line("policy")), ("entropy", line("entropy"))])
    assert [t["yaxis"] for t in chart.traces] == ["y", "y2"]
    top, bottom = chart.layout["yaxis"], chart.layout["yaxis2"]
    assert (top["title"]["text"], bottom["title"]["text"]) == ("policy loss", "entropy")
    assert top["domain"][1] == 1 and bottom["domain"][0] == 0
    assert bottom["domain"][1] < top["domain"][0]  # stacked, apart
    assert chart.layout["xaxis"] == {"title": {"text": "update"}, "automargin": True,
                                     "anchor": "y2"}  # under all
