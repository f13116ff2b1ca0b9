"""The chart vocabulary of the demo contract: every chart and trace a demo draws.

A demo declares its charts with :func:`line_chart`, :func:`bar_chart`,
:func:`heatmap_chart` or :func:`plain_chart`, each declaring its traces so the page can
draw axes and legend before Run (see :class:`app.demos.base.Chart`); its frames then
fill them with the ops of :mod:`app.demos.base` (``figure``, ``extend``, ``animation``)
and the traces built here (:func:`line`, :func:`markers`, :func:`bars`, :func:`heatmap`).

Plotly spells an axis title ``{"title": {"text": ...}}`` and a legend under the chart
``{"orientation": "h", "y": -0.25}``; this module spells them once, so a demo says
*what* it shows (Gradio's ``LinePlot(x_title=..., y_title=...)`` is the model) and a
change of house style is one edit. Adding a chart kind means adding a builder here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import regex

from app.demos.base import Chart

Trace = dict[str, Any]
Layout = dict[str, Any]

# A legend under the chart, at the figure's bottom edge: measured from the figure (not the
# plot area, which shrinks as the legend grows), so it never climbs onto the x axis title.
LEGEND_BELOW: Layout = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"}

# An axis that counts (iteration, step, epoch, update, layer, k): whole-number ticks. With
# a short range Plotly puts ticks at 0.5; a range that always reaches 5 (from 0 or 1) keeps
# its auto tick spacing at 1 or more, and "d" prints the ticks as integers.
INTEGER_AXIS: Layout = {"tickformat": "d", "autorangeoptions": {"include": [5]}}


def axis(title: str | None = None, **extra: Any) -> Layout:
    """An axis layout: its title (if any) and any other Plotly axis keys.

    Every axis makes room for its tick labels (``automargin``), so a title never sits
    on them, however long the labels; ``extra`` may turn it off where a demo sets margins.
    """
    return {**({"title": {"text": title}} if title else {}), "automargin": True, **extra}


def colour_bar(title: str, *, side: str | None = None, **extra: Any) -> Layout:
    """A heatmap's colour bar: its title (``side``: where the title sits, Plotly's
    "right", "top" or "bottom") and any other Plotly colorbar keys."""
    return {"title": {"text": title, **({"side": side} if side else {})}, **extra}


def layout(x_title: str | None = None, y_title: str | None = None, *, x: Layout | None = None,
           y: Layout | None = None, legend_below: bool = False, title: str | None = None,
           **extra: Any) -> Layout:
    """A chart layout from its axis titles; ``x``/``y`` add axis keys (``type``, ``range``).

    ``legend_below`` puts a horizontal legend under the plot (for two or more traces);
    ``title`` is a line above the plot for a warning or note (the chart's own title is
    the page's caption, not part of the plot).
    """
    result: Layout = dict(extra)
    if x_title or x:
        result["xaxis"] = axis(x_title, **(x or {}))
    if y_title or y:
        result["yaxis"] = axis(y_title, **(y or {}))
    if legend_below:
        result["legend"] = dict(LEGEND_BELOW)
    if title:
        result["title"] = {"text": title, "font": {"size": 13}}
        result.setdefault("margin", {"t": 48})  # room for the title line
    return result


# ---- traces ------------------------------------------------------------------------------


def line(name: str, x: list | None = None, y: list | None = None, *, markers: bool = False,
         **style: Any) -> Trace:
    """A line trace (empty unless ``x``/``y`` given); ``markers`` draws points on it too."""
    return {"type": "scatter", "mode": "lines+markers" if markers else "lines", "name": name,
            "x": list(x or []), "y": list(y or []), **style}


def markers(name: str, x: list | None = None, y: list | None = None, **style: Any) -> Trace:
    """A scatter trace of points only."""
    return {"type": "scatter", "mode": "markers", "name": name, "x": list(x or []),
            "y": list(y or []), **style}


def bars(name: str, x: list | None = None, y: list | None = None, **style: Any) -> Trace:
    """A bar trace."""
    return {"type": "bar", "name": name, "x": list(x or []), "y": list(y or []), **style}


def heatmap(z: list[list[float]], x: list | None = None, y: list | None = None, *,
            colorscale: str | list = "Blues", zmin: float | None = None,
            zmax: float | None = None, colorbar_title: str | None = None,
            reverse: bool = False, hover: str | None = None, **style: Any) -> Trace:
    """A heatmap trace: ``z[row][column]``, rows along ``y``, columns along ``x``.

    ``zmin``/``zmax`` fix the colour range (so frames of one run compare); ``hover`` is a
    Plotly hovertemplate; ``reverse`` flips the colour scale.
    """
    trace: Trace = {"type": "heatmap", "z": z, "colorscale": colorscale, **style}
    if x is not None:
        trace["x"] = x
    if y is not None:
        trace["y"] = y
    if zmin is not None:
        trace["zmin"] = zmin
    if zmax is not None:
        trace["zmax"] = zmax
    if colorbar_title:
        trace["colorbar"] = colour_bar(colorbar_title)
    if reverse:
        trace["reversescale"] = True
    if hover:
        trace["hovertemplate"] = hover
    return trace


# ---- charts ------------------------------------------------------------------------------


def counting(x: Layout | None, integer_x: bool) -> Layout | None:
    """The x axis ``x``, with whole-number ticks if ``integer_x`` (:data:`INTEGER_AXIS`)."""
    return {**INTEGER_AXIS, **(x or {})} if integer_x else x


def line_chart(id: str, title: str, *, x_title: str, y_title: str | None = None,
               lines: list[Trace] | None = None, summary: str = "", log_y: bool = False,
               x: Layout | None = None, y: Layout | None = None, integer_x: bool = False,
               **extra: Any) -> Chart:
    """A chart of lines that grow as the run goes (``extend`` them frame by frame).

    ``lines`` are the declared traces (:func:`line`, :func:`markers`); with two or more
    the legend sits below the plot. ``integer_x``: x counts (steps, epochs), ticks are
    whole numbers.
    """
    traces = lines or []
    y_axis = {**({"type": "log"} if log_y else {}), **(y or {})}
    return Chart(id, title, layout(x_title, y_title, x=counting(x, integer_x), y=y_axis or None,
                                   legend_below=len(traces) > 1, **extra), summary, traces)


def panel_chart(id: str, title: str, *, x_title: str, panels: list[tuple[str, Trace]],
                summary: str = "", integer_x: bool = False, **extra: Any) -> Chart:
    """Lines that need scales of their own (a loss beside an entropy), one per panel,
    stacked top to bottom over one shared x axis (drawn under the last panel); frames
    ``extend`` them as usual.

    ``panels`` are (y title, declared trace) pairs; trace ``i`` is drawn on panel ``i``.
    """
    gap = 0.08
    tall = (1 - gap * (len(panels) - 1)) / len(panels)
    bottom = "y" if len(panels) == 1 else f"y{len(panels)}"
    chart_layout: Layout = {"xaxis": axis(x_title, anchor=bottom, **counting({}, integer_x)),
                            "showlegend": False,
                            "margin": {"t": 10}, **extra}
    traces = []
    for i, (y_title, trace) in enumerate(panels):
        top = 1 - i * (tall + gap)
        chart_layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = axis(
            y_title, domain=[max(0.0, top - tall), top])
        traces.append({**trace, "yaxis": "y" if i == 0 else f"y{i + 1}"})
    return Chart(id, title, chart_layout, summary, traces)


def bar_chart(id: str, title: str, *, x_title: str, y_title: str | None = None,
              series: list[Trace] | None = None, summary: str = "", grouped: bool = True,
              x: Layout | None = None, y: Layout | None = None, integer_x: bool = False,
              **extra: Any) -> Chart:
    """A bar chart; ``series`` (:func:`bars`) are declared, grouped side by side;
    ``integer_x`` as in :func:`line_chart`."""
    traces = series or []
    return Chart(id, title, layout(x_title, y_title, x=counting(x, integer_x), y=y,
                                   legend_below=len(traces) > 1,
                                   **({"barmode": "group"} if grouped else {}), **extra),
                 summary, traces)


def heatmap_chart(id: str, title: str, *, x_title: str | None = None,
                  y_title: str | None = None, summary: str = "", x: Layout | None = None,
                  y: Layout | None = None, **extra: Any) -> Chart:
    """A chart redrawn whole (``figure([heatmap(...)])``) each time it changes."""
    return Chart(id, title, layout(x_title, y_title, x=x, y=y, **extra), summary)


def plain_chart(id: str, title: str, *, summary: str = "", **extra: Any) -> Chart:
    """A chart whose every frame brings its own figure (a drawing, a tree, an animation)."""
    return Chart(id, title, dict(extra), summary)


def full_width(chart: Chart, height: int) -> Chart:
    """``chart`` across both columns of its demo, ``height`` px tall (a tree, a lattice).

    Its frames may set a larger ``height`` in their layout (more rows to show): the page
    lets a full-width plot grow to the height its figure asks for.
    """
    return replace(chart, wide=True, layout={**chart.layout, "height": height})


# ---- axes of labels (tokens, tags, names) -------------------------------------------------


LABEL_CHARS = 12  # longest tick label: a 270-letter word would squash the chart to a stamp


def short_labels(labels: list[str], max_chars: int = LABEL_CHARS) -> list[str]:
    """``labels`` cut to ``max_chars`` characters with "…"; labels that differ stay different.

    Cuts fall between grapheme clusters, so an accented letter or an emoji stays whole.
    Different labels that the cut makes equal are numbered "…·1", "…·2" (one number per
    label, so a word that repeats keeps its one short form).
    """
    cut: dict[str, str] = {}
    for label in dict.fromkeys(labels):
        clusters = regex.findall(r"\X", label)
        cut[label] = (label if len(clusters) <= max_chars
                      else "".join(clusters[:max_chars - 1]) + "…")
    clashes = Counter(cut.values())
    taken = set(cut.values())
    seen: Counter[str] = Counter()
    for label, short in cut.items():
        while clashes[short] > 1 and cut[label] in taken:
            seen[short] += 1
            cut[label] = f"{short}·{seen[short]}"
        taken.add(cut[label])
    return [cut[label] for label in labels]


def category_axis(labels: list[str], max_chars: int | None = LABEL_CHARS,
                  **extra: Any) -> dict[str, Any]:
    """Layout of an axis whose data are ``labels`` (tokens, tags, names): always categories.

    Plotly guesses an axis's type from its data: tokens "3 + 1 + 2" read as numbers and
    "2024-01-01" as a date, and a 4×4 attention map is drawn as two bands. Long labels
    are shortened on the ticks only; the data keep them whole, so hovering shows them.
    """
    axis: dict[str, Any] = {"type": "category", **extra}
    ticks = labels if max_chars is None else short_labels(labels, max_chars)
    if ticks != labels:
        axis.update(tickmode="array", tickvals=labels, ticktext=ticks)
    return axis
