"""The demo contract: what one file in app/demos/ declares.

A demo module defines a module-level ``demo = Demo(...)`` built from

* ``Params`` — a pydantic model (subclass of :class:`DemoParams`) whose JSON Schema
  drives the controls in the page: every numeric field bounded, choices as ``Literal``;
* ``charts`` — the Plotly charts it draws, declared here in Python;
* ``run(params, ctx)`` — a generator of frames that returns the run's key numbers.

A frame is ``{"step": n, "progress": 0..1, "charts": {chart_id: op}, "metrics": {...}}``
where an op comes from :func:`figure` (redraw with ``Plotly.react``) or :func:`extend`
(append points with ``Plotly.extendTraces``).

Numbers on the wire have one policy, applied here for every demo: floats in frames keep
6 significant digits and floats in results every digit (demos never round); as JSON has no
inf/NaN, frames and results carry them as the strings "inf", "-inf" and "nan" (a
diverged loss is an answer to show, not a crash). Plotly draws such a string as a gap.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

# The op builders (figure, extend, animation) and their table, FRAME_OPS, live in
# app/demos/frame_ops.py; demos import them from here with the rest of the contract.
from app.demos.frame_ops import FRAME_OPS, animation, extend, figure  # noqa: F401

Frame = dict[str, Any]
RunGenerator = Generator[Frame, None, dict[str, Any]]


# The JSON Schema keys that tune a field's control (read by app/controls.py). Demos do
# not spell them: they write ``json_schema_extra=control(step=0.05)``.
X_LABEL = "x-label"
X_STEP = "x-step"
X_SCALE = "x-scale"
X_SHOW_IF = "x-show-if"
X_WIDGET = "x-widget"
X_CHART = "x-chart"
X_ACTIVATES = "x-activates"
X_DIVIDES = "x-divides"
X_LENGTH_OF = "x-length-of"


def control(
    *,
    label: str | None = None,
    step: float | None = None,
    log_scale: bool = False,
    show_if: dict[str, Any] | None = None,
    number_box: bool = False,
    divides: str | None = None,
    length_of: str | None = None,
    length_extra: int = 0,
) -> dict[str, Any]:
    """How a field's control looks, as ``json_schema_extra`` for ``pydantic.Field``.

    ``label`` replaces the field name; ``step`` is the slider's step; ``log_scale``
    moves the slider over log10 of the value (learning rates span decades);
    ``show_if={"init": "normal"}`` shows the control only while every listed field has
    that value (a list: one of those values, ``{"dataset": ["blobs", "moons"]}``);
    ``number_box`` asks for a number box where a slider would be too coarse.

    Controls that depend on another (the model validator still checks them, for API
    clients): ``divides="d_model"`` offers only the divisors of that field's value and
    moves to the nearest one when that field moves (attention heads); ``length_of="rewards"``
    says beside a text box of numbers that it needs as many numbers as that field holds, or
    up to ``length_extra`` more (GAE values: one per reward, plus an optional last one).
    """
    hints: dict[str, Any] = {}
    if label is not None:
        hints[X_LABEL] = label
    if step is not None:
        hints[X_STEP] = step
    if log_scale:
        hints[X_SCALE] = "log"
    if show_if:
        hints[X_SHOW_IF] = show_if
    if number_box:
        hints[X_WIDGET] = "number"
    if divides:
        hints[X_DIVIDES] = divides
    if length_of:
        hints[X_LENGTH_OF] = {"field": length_of, "extra": length_extra}
    return hints


def click_points(chart: str, activates: dict[str, Any] | None = None) -> dict[str, Any]:
    """``json_schema_extra`` of a list field the student fills by clicking ``chart``.

    ``activates`` sets other fields when a point is added (``{"dataset": "custom"}``).
    """
    return {X_WIDGET: "click-points", X_CHART: chart, X_ACTIVATES: activates or {}}


class DemoParams(BaseModel):
    """Base of every demo's parameters: unknown keys are errors, a seed always exists.

    Strict: ``false`` is not a number and ``"3"`` is not an integer in a JSON body.
    (Query strings are converted by type before validation, see app/params.py.)
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int = Field(0, ge=0, le=2**31 - 1, description="Random seed: same seed, same run",
                      json_schema_extra=control(number_box=True))


@dataclass(frozen=True)
class Chart:
    """A chart a demo draws: its id (the key in frames), title and initial layout.

    ``traces`` are the chart's declared traces (names, kinds, styles; empty data). The
    page draws them before Run, so a student sees the legend and axes of what is coming,
    and every run starts from them, so a demo's frames may simply ``extend`` them.
    Build charts with :mod:`app.demos.charts` rather than by hand.
    """

    id: str
    title: str
    layout: dict[str, Any] = field(default_factory=dict)
    summary: str = ""  # a sentence for screen readers: what the chart shows
    traces: list[dict[str, Any]] = field(default_factory=list)
    wide: bool = False  # spans the demo's full width (a tree, a lattice): see charts.full_width


@dataclass
class RunContext:
    """What a running demo may ask of the runner: should I stop, how long do I have."""

    deadline: float = math.inf  # time.monotonic() value
    cancelled: threading.Event = field(default_factory=threading.Event)

    def should_stop(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() >= self.deadline

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True)
class Demo:
    """A registered demo. ``frame_seconds`` paces streamed frames so motion is visible."""

    slug: str
    title: str
    description: str
    Params: type[DemoParams]
    charts: list[Chart]
    run: Callable[[DemoParams, RunContext], RunGenerator]
    frame_seconds: float = 0.0
    live: bool = True  # live demos re-run automatically when a control moves (Gradio's `live`)
    # How the page labels a metric (key: snake_case identifier -> label, e.g. "grad_x":
    # "∂f/∂x"); a metric without one is shown as its key with spaces for underscores.
    metric_labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every run's frames and result go through on_the_wire(): the runner then never
        # meets a NaN it cannot encode, whichever demo produced it, and no demo rounds.
        if not getattr(self.run, "wire_numbers", False):
            object.__setattr__(self, "run", with_wire_numbers(self.run))

    def schema(self) -> dict[str, Any]:
        return self.Params.model_json_schema()

    def defaults(self) -> dict[str, Any]:
        return self.Params().model_dump(mode="json")

    def describe(self) -> dict[str, Any]:
        """The public description served by /api/demos."""
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "live": self.live,
            "frame_seconds": self.frame_seconds,
            "metric_labels": self.metric_labels,
            "params": self.schema(),
            "defaults": self.defaults(),
            "charts": [
                {"id": c.id, "title": c.title, "layout": c.layout, "summary": c.summary,
                 "traces": c.traces}
                for c in self.charts
            ],
        }


_GLOBAL_RNG = threading.Lock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator for a short block, e.g. building an ``nn.Module``.

    Jobs run in threads that share torch's one global generator, so a block that
    needs it holds a lock and restores the generator afterwards. Keep such blocks
    short; inside training loops pass an explicit ``torch.Generator`` instead.
    """
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def make_frame(
    step: int,
    progress: float,
    charts: dict[str, dict[str, Any]],
    metrics: dict[str, Any] | None = None,
) -> Frame:
    """One frame of a run, in the shape every client understands."""
    return {
        "step": step,
        "progress": min(1.0, max(0.0, float(progress))),
        "charts": charts,
        "metrics": metrics or {},
    }


# Numbers on the wire have one policy, applied here to every demo, so that no demo rounds
# by hand: a frame's floats keep what a chart or a metric can show, in significant digits
# rather than decimals (a gradient norm of 3e-9 and an inertia of 1234.5 both keep
# theirs); a result is what a script or a test reads, so it keeps every digit.
FRAME_DIGITS = 6


def jsonable(number: float) -> float | str:
    """JSON has no inf/NaN: send them as the strings "inf", "-inf", "nan"."""
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def on_the_wire(value: Any, digits: int | None = None) -> Any:
    """``value`` as it is sent: every float (however deeply nested) rounded to ``digits``
    significant digits (``None``: kept whole), inf/NaN as :func:`jsonable` strings; tuples
    become lists.

    Raises nothing: ints, strings, None and booleans pass unchanged.
    """
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            return jsonable(value)
        return value if digits is None else float(f"{value:.{digits}g}")
    if kind is list or kind is tuple:
        return [on_the_wire(item, digits) for item in value]
    if kind is dict:
        return {key: on_the_wire(item, digits) for key, item in value.items()}
    return value


def with_wire_numbers(run: Callable[[DemoParams, RunContext], RunGenerator]
                      ) -> Callable[[DemoParams, RunContext], RunGenerator]:
    """Wrap a demo's ``run`` so that its frames carry :data:`FRAME_DIGITS` significant
    digits and its result every digit, with inf/NaN as strings in both."""

    @functools.wraps(run)
    def wire_run(params: DemoParams, ctx: RunContext) -> RunGenerator:
        frames = run(params, ctx)
        try:
            while True:
                try:
                    frame = next(frames)
                except StopIteration as stop:
                    return on_the_wire(stop.value)
                yield on_the_wire(frame, FRAME_DIGITS)
        finally:
            frames.close()  # the runner closed us (client gone): close the demo too

    wire_run.wire_numbers = True  # type: ignore[attr-defined]
    return wire_run

