"""The "Open as notebook" download: a Jupyter notebook re-running one demo offline, exactly.

:func:`build_notebook` turns a demo and its validated parameters into an ``nbformat`` v4
notebook that needs no LiveGrad install: it carries the source it needs as ``%%writefile``
cells, found by following the demo module's ``app.*`` imports (read with :mod:`ast`,
never run). The ``app/ml`` modules — what the lesson teaches — are shown; the plumbing
(``app/demos``, package ``__init__`` files) is folded away (``jupyter.source_hidden``).
Then a cell holds the parameters, seed included; a cell runs ``demo.run(params, ctx)`` with
a context that never asks it to stop, keeping every frame and the result (the same
numbers ``POST /api/demos/{slug}/run`` answers); a cell plots the key curve with
matplotlib (rule: :func:`key_chart`) and shows the result.

Nothing here needs matplotlib: the plotting helpers are copied into the notebook as
source (:func:`inspect.getsource`) and import it when they run there.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import pprint
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import app
from app.demos.base import Demo, DemoParams

ROOT = Path(app.__file__).resolve().parent.parent  # the folder holding the app package
SHOWN = "app.ml"  # modules under it are what a lesson teaches: shown, not folded
MEDIA_TYPE = "application/x-ipynb+json"


@dataclass(frozen=True)
class LessonLink:
    """A lesson that shows the demo: its title and absolute URL."""

    title: str
    url: str


# ---- which source files a demo needs ---------------------------------------------------


def module_path(name: str) -> Path | None:
    """The file of module ``name`` ("app.ml.kmeans" → app/ml/kmeans.py, a package → its
    ``__init__.py``), or None if ``name`` is not a module file of this app."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(name: str, source: str) -> set[str]:
    """Every module name that module ``name``'s source imports, anywhere in the file
    (also inside functions); ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (c may be
    a submodule); relative imports are resolved against ``name``'s package."""
    is_package = module_path(name) is not None and module_path(name).name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_of(name: str) -> frozenset[str]:
    """:func:`imported_modules` of module ``name``'s file as it is now (parsed once per
    version of the file: parsing every module on each download took most of a second)."""
    path = module_path(name)
    return _imports_of_version(name, path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=512)
def _imports_of_version(name: str, path: Path, mtime_ns: int) -> frozenset[str]:
    return frozenset(imported_modules(name, path.read_text("utf-8")))


def needed_modules(module: str) -> list[str]:
    """The app modules ``module`` needs to import, itself included, with the packages
    that hold them: depth first, each after the modules it imports.

    Raises ValueError if ``module`` is not a module file of this app.
    """
    if module_path(module) is None:
        raise ValueError(f"{module!r} is not a module of this app")
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or module_path(name) is None:
            return
        seen.add(name)
        parts = name.split(".")
        for i in range(1, len(parts)):  # importing a.b.c runs a and a.b first
            visit(".".join(parts[:i]))
        for other in sorted(imports_of(name)):
            if other.partition(".")[0] == "app":
                visit(other)
        order.append(name)

    visit(module)
    return order


def third_party(modules: list[str]) -> list[str]:
    """The distributions (top-level names) these modules import besides the standard
    library and the app itself, e.g. ``["pydantic", "regex", "torch"]``."""
    names = set()
    for name in modules:
        for other in imports_of(name):
            top = other.partition(".")[0]
            if top and top not in sys.stdlib_module_names and top not in ("app", "__future__"):
                names.add(top)
    return sorted(names)


# ---- the plotting helpers, copied into the notebook as source ---------------------------


def key_chart(frames: list[dict], chart_ids: list[str]) -> str | None:
    """The chart to plot: the first declared chart that some frame extends (a curve that
    grows with the run: a loss, an inertia, a return), else the first declared chart any
    frame draws; None if no frame draws any."""
    drawn = [c for c in chart_ids if any(c in frame["charts"] for frame in frames)]
    grown = [c for c in drawn if any(frame["charts"].get(c, {}).get("op") == "extend"
                                     for frame in frames)]
    return (grown or drawn or [None])[0]


def chart_traces(frames: list[dict], chart_id: str, traces: list[dict]) -> list[dict]:
    """Replay one chart's ops over the run, from its declared ``traces``: ``react`` and
    ``animate`` redraw it whole, ``extend`` appends points (keeping ``max_points``)."""
    traces = [dict(trace) for trace in traces]
    for frame in frames:
        op = frame["charts"].get(chart_id)
        if op is None:
            continue
        if op["op"] in ("react", "animate"):
            traces = [dict(trace) for trace in op["data"]]
            continue
        for index, xs, ys in zip(op["traces"], op["x"], op["y"], strict=True):
            trace = traces[index]
            trace["x"] = (list(trace.get("x") or []) + list(xs))[-op["max_points"]:]
            trace["y"] = (list(trace.get("y") or []) + list(ys))[-op["max_points"]:]
    return traces


def plot_chart(traces: list[dict], title: str, layout: dict) -> None:
    """Draw a chart's traces with matplotlib: lines and markers, bars, or the first
    heatmap; "nan"/"inf" strings and None (gaps) become float NaN/inf."""
    import matplotlib.pyplot as plt  # runs in the notebook only, never in the server

    def number(value):
        if value is None:
            return float("nan")
        return float(value) if value in ("nan", "inf", "-inf") else value

    def axis_title(name):
        title = (layout.get(name) or {}).get("title") or ""
        return title.get("text", "") if isinstance(title, dict) else title

    fig, ax = plt.subplots(figsize=(7, 4))
    heatmaps = [trace for trace in traces if "z" in trace]
    if heatmaps:
        z = [[number(v) for v in row] for row in heatmaps[0]["z"]]
        upward = (layout.get("yaxis") or {}).get("autorange") != "reversed"  # as Plotly
        image = ax.imshow(z, aspect="auto", cmap="viridis", origin="lower" if upward else None)
        fig.colorbar(image, ax=ax)
        x, y = heatmaps[0].get("x"), heatmaps[0].get("y")  # labels of columns, rows
        if x and len(x) == len(z[0]):
            ax.set_xticks(range(len(x)), [str(label) for label in x])
        if y and len(y) == len(z):
            ax.set_yticks(range(len(y)), [str(label) for label in y])
    for trace in ([] if heatmaps else traces):
        y = [number(v) for v in trace.get("y") or []]
        x = [number(v) for v in trace.get("x") or range(len(y))]
        if trace.get("type") == "bar":
            ax.bar(x, y, label=trace.get("name"))
        else:
            marker = "o" if "markers" in trace.get("mode", "lines") else None
            style = "" if trace.get("mode") == "markers" else "-"
            ax.plot(x, y, linestyle=style, marker=marker, label=trace.get("name"))
    ax.set(title=title, xlabel=axis_title("xaxis"), ylabel=axis_title("yaxis"))
    if (layout.get("xaxis") or {}).get("tickformat") == "d":  # a counting axis
        ax.xaxis.get_major_locator().set_params(integer=True)
    if any(trace.get("name") for trace in traces) and not heatmaps:
        ax.legend()
    plt.show()


# ---- the notebook -----------------------------------------------------------------------


def _value_text(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _intro(demo: Demo, values: dict[str, Any], lessons: list[LessonLink],
           packages: list[str], threads: int) -> str:
    properties = demo.schema().get("properties", {})
    seen_in = ", ".join(f"[{lesson.title}]({lesson.url})" for lesson in lessons)
    rows = "\n".join(
        f"| `{name}` | {_value_text(value)} | "
        f"{properties.get(name, {}).get('description', '').replace('|', '/')} |"
        for name, value in values.items())
    return "\n".join([
        f"# {demo.title}", "",
        demo.description, "",
        f"From the LiveGrad lesson {seen_in}." if seen_in else "A LiveGrad demo.", "",
        "This notebook re-runs the demo on your machine with the exact parameters below, "
        "seed included: its result is the one the server answered for them. The next "
        "cells write the source it needs into an `app/` folder beside the notebook (the "
        "`app/ml` algorithms shown; the demo's plumbing folded away), then run it, plot "
        "its key curve and show its result. Change a value in the parameters cell and "
        "run the cells below it again to explore.", "",
        f"Needs Python ≥ 3.11 and {', '.join(packages + ['matplotlib'])} (no LiveGrad). "
        f"The server ran torch {torch.__version__.split('+')[0]} with {threads} thread(s), "
        "and so does this notebook: another thread count or torch version sums in another "
        "order, which changes the last digits (and, after many training steps, sometimes "
        "more).", "",
        "| parameter | value | meaning |", "|---|---|---|", rows,
    ])


def _helper_source() -> str:
    return "\n\n".join(inspect.getsource(f) for f in (key_chart, chart_traces, plot_chart))


def build_notebook(demo: Demo, params: DemoParams, threads: int,
                   lessons: list[LessonLink] = ()) -> nbformat.NotebookNode:
    """An nbformat v4 notebook that re-runs ``demo`` with ``params`` (already validated,
    e.g. by :func:`app.params.parse_params`) on ``threads`` torch threads (those of a
    server job, :func:`app.config.torch_threads_per_job`) without LiveGrad; ``lessons``
    are linked from its first cell. Its variables ``frames`` (list of frame dicts) and
    ``result`` (dict, numbers as on the wire) hold the run. Reads source files; raises
    nothing else."""
    module = demo.Params.__module__
    modules = needed_modules(module)
    values = params.model_dump(mode="json")
    folders = sorted({str(module_path(name).parent.relative_to(ROOT)) for name in modules})
    cells = [
        new_markdown_cell(_intro(demo, values, lessons, third_party(modules), threads)),
        new_code_cell(f"import os\n\nfor folder in {folders!r}:\n"
                      "    os.makedirs(folder, exist_ok=True)"),
    ]
    # The taught algorithms first, in import order; then the folded plumbing.
    for shown in (True, False):
        for name in modules:
            if name.startswith(SHOWN + ".") != shown:
                continue
            path = module_path(name)
            cell = new_code_cell(f"%%writefile {path.relative_to(ROOT).as_posix()}\n"
                                 + path.read_text("utf-8"))
            if not shown:
                cell.metadata["jupyter"] = {"source_hidden": True}
            cells.append(cell)
    cells += [
        new_markdown_cell("## Run it\n\nThe parameters, seed included, validated as the "
                          "server validates them (a value out of bounds raises an error "
                          "naming the field), and the server's thread count."),
        new_code_cell(
            "import importlib\nimport json\n\nimport torch\n\nimportlib.invalidate_caches()"
            f"  # the files are new\nfrom {module} import demo, Params\n"
            "from app.demos.base import RunContext\n\n"
            f"torch.set_num_threads({threads})  # as the server's job: the same sums, same order"
            f"\nvalues = {pprint.pformat(values, sort_dicts=False, width=88)}\n"
            "params = Params.model_validate_json(json.dumps(values))\nparams"),
        new_code_cell(
            "ctx = RunContext()  # no deadline and no Stop button: runs to the end\n"
            "frames = []\nrun = demo.run(params, ctx)\nwhile True:\n    try:\n"
            "        frames.append(next(run))  # {'step', 'progress', 'charts', 'metrics'}\n"
            "    except StopIteration as stop:\n        result = stop.value\n        break\n"
            "print(len(frames), 'frames; last metrics:', frames[-1]['metrics'] if frames "
            "else {})"),
        new_markdown_cell("## The key curve\n\nThe first of the demo's charts that grows "
                          "during the run (else its first chart), redrawn with matplotlib "
                          "from the frames, then the run's result."),
        new_code_cell(_helper_source() + "\n\n\ncharts = {chart.id: chart for chart in "
                      "demo.charts}\nkey = key_chart(frames, list(charts))\nif key:\n"
                      "    chart = charts[key]\n    plot_chart(chart_traces(frames, key, "
                      "chart.traces), chart.title, chart.layout)\nresult"),
    ]
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "livegrad": {"demo": demo.slug, "params": values},
    })
    nbformat.validate(notebook)
    return notebook
