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

from typing import Any

from app.demos.base import Chart

Trace = dict[str, Any]
Layout = dict[str, Any]

LEGEND_BELOW: Layout = {"orientation": "h", "y": -0.25}


def axis(title: str | None = None, **extra: Any) -> Layout:
    """An axis layout: its title (if any) and any other Plotly axis keys."""
    return {**({"title": {"text": title}} if title else {}), **extra}


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
        trace["colorbar"] = {"title": {"text": colorbar_title}}
    if reverse:
        trace["reversescale"] = True
    if hover:
        trace["hovertemplate"] = hover
    return trace


# ---- charts ------------------------------------------------------------------------------


def line_chart(id: str, title: str, *, x_title: str, y_title: str | None = None,
               lines: list[Trace] | None = None, summary: str = "", log_y: bool = False,
               x: Layout | None = None, y: Layout | None = None, **extra: Any) -> Chart:
    """A chart of lines that grow as the run goes (``extend`` them frame by frame).

    ``lines`` are the declared traces (:func:`line`, :func:`markers`); with two or more
    the legend sits below the plot.
    """
    traces = lines or []
    y_axis = {**({"type": "log"} if log_y else {}), **(y or {})}
    return Chart(id, title, layout(x_title, y_title, x=x, y=y_axis or None,
                                   legend_below=len(traces) > 1, **extra), summary, traces)


def bar_chart(id: str, title: str, *, x_title: str, y_title: str | None = None,
              series: list[Trace] | None = None, summary: str = "", grouped: bool = True,
              x: Layout | None = None, y: Layout | None = None, **extra: Any) -> Chart:
    """A bar chart; ``series`` (:func:`bars`) are declared, grouped side by side."""
    traces = series or []
    return Chart(id, title, layout(x_title, y_title, x=x, y=y, legend_below=len(traces) > 1,
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


# ---- kmeans, kmeans-elbow: points in the plane, their clusters and centres ---------------


def plane_chart(id: str, title: str, *, limit: float, summary: str = "", legend: bool = True,
                **extra: Any) -> Chart:
    """A chart of 2-D points on axes ``[-limit, limit]``, redrawn whole by every frame.

    Dragging does not zoom, so the page can turn a click on it into a point; ``legend``
    puts the legend just below the plot (or hides it).
    """
    shown = {"legend": {"orientation": "h", "y": -0.12}} if legend else {"showlegend": False}
    box = [-limit, limit]
    return Chart(id, title, {"dragmode": False, **shown, "xaxis": {"range": box},
                             "yaxis": {"range": box}, **extra}, summary)


def plane_axes(points: list[list[float]], limit: float) -> Layout:
    """Axes for ``points`` (``[n][2]``): fixed and square on ``[-limit, limit]``, so a click
    lands where the student expects, unless a point lies outside; then Plotly fits them."""
    fits = all(abs(value) <= limit for point in points for value in point)
    fixed = {"range": [-limit, limit], "fixedrange": True}
    axis = fixed if fits else {"autorange": True}
    return {"xaxis": {**axis, "zeroline": False},
            "yaxis": {**axis, "zeroline": False, "scaleanchor": "x"} if fits else axis}


def clusters(points: list[list[float]], labels: list[int], k: int) -> list[Trace]:
    """One scatter trace per cluster, so the legend reads "cluster 1, 2, ...".

    ``points`` is ``[n][2]``;
    ``labels[i]`` (``0..k-1``) is the cluster of point ``i``.
    """
    xs: list[list[float]] = [[] for _ in range(k)]
    ys: list[list[float]] = [[] for _ in range(k)]
    for (x, y), label in zip(points, labels, strict=True):
        xs[label].append(x)
        ys[label].append(y)
    return [markers(f"cluster {c + 1}", xs[c], ys[c],
                    marker={"size": 6, "opacity": 0.75},
                    hovertemplate="(%{x}, %{y})<extra>cluster " + str(c + 1) + "</extra>")
            for c in range(k)]


def centres(path: list[list[list[float]]]) -> list[Trace]:
    """Centres as big crosses, each dragging the dotted trail it travelled.

    ``path[step][c]`` is ``[x, y]`` of centre ``c`` after ``step``;
    the crosses sit at the last step. Drawn over the points, slightly see-through: a cluster
    of one point still shows.
    """
    trail_x: list = []
    trail_y: list = []
    for c in range(len(path[-1])):
        trail_x += [step[c][0] for step in path] + [None]
        trail_y += [step[c][1] for step in path] + [None]
    grey = "rgba(120,120,120,0.7)"
    return [
        line("trails", trail_x, trail_y, markers=True, hoverinfo="skip",
             line={"color": grey, "width": 1.5, "dash": "dot"}, marker={"size": 4, "color": grey}),
        # Dark cross, light rim: visible on light and dark themes alike.
        markers("centroids", [c[0] for c in path[-1]], [c[1] for c in path[-1]], opacity=0.85,
                marker={"symbol": "x", "size": 15, "color": "#111",
                        "line": {"width": 1.5, "color": "#fff"}}),
    ]


# ---- attention, transformer-train, norms, beam-search -------------------------------------

# A map of softmax weights (each row a distribution over keys): light = little attention,
# dark = much, on the fixed range 0..1 so maps of one run compare.
ATTENTION_STYLE: dict[str, Any] = {"colorscale": "Blues", "reverse": True, "zmin": 0, "zmax": 1,
                                   "hover": "query %{y} → key %{x}: %{z:.3f}<extra></extra>"}


def matrix(z: list[list[Any]], x: list, y: list, **options: Any) -> Trace:
    """A :func:`heatmap` of ``z[row][column]`` drawn as printed: row 0 on top, along ``y``.

    Plotly draws the first row at the bottom, so the rows (and ``text`` or ``customdata``
    of the same shape) go in reversed; reversing the axis instead would not survive the
    page keeping its zoom state across runs. ``options`` are :func:`heatmap`'s.
    """
    for key in ("text", "customdata"):
        if key in options:
            options[key] = options[key][::-1]
    return heatmap(z[::-1], x, y[::-1], **options)


def heatmap_grid(maps: list[list[list[float]]], labels: list[str], titles: list[str], *,
                 columns: int = 4, **options: Any) -> tuple[list[Trace], Layout]:
    """Small multiples: one square map per panel, for ``figure(traces, layout)``.

    ``maps`` is ``[panels][L][L]``, each drawn with :func:`matrix` (``options``: its colour
    scale and range, the same for every panel, whose colour bar is shown once); ``labels``
    (``L`` tokens) name the rows and columns of every panel, ``titles`` (one per panel)
    sit above them, ``columns`` panels per row. Tick labels are drawn only where they fit
    (at most 2 panels of at most 16 labels), row names once, left of the first column.
    """
    from app.demos.base import category_axis  # (imported here: this section appends)

    count = len(maps)
    columns = min(columns, count)
    rows = -(-count // columns)
    gap = 0.04
    width, height = (1 - gap * (columns - 1)) / columns, (1 - 0.08 * (rows - 1)) / rows
    show_ticks = count <= 2 and len(labels) <= 16
    traces: list[Trace] = []
    grid: Layout = {"showlegend": False}
    notes = []
    for i, z in enumerate(maps):
        row, col = divmod(i, columns)
        suffix = "" if i == 0 else str(i + 1)
        x0, y1 = col * (width + gap), 1 - row * (height + 0.08)
        traces.append(matrix(z, labels, labels, showscale=i == 0, xaxis=f"x{suffix}",
                             yaxis=f"y{suffix}", **options))
        ticks = category_axis(labels, showticklabels=show_ticks, ticks="",
                              tickfont={"size": 9}, automargin=True)
        grid[f"xaxis{suffix}"] = {**ticks, "domain": [x0, x0 + width], "anchor": f"y{suffix}",
                                  "tickangle": -45}
        # Row names once, left of the first panel: between panels they would overlap.
        grid[f"yaxis{suffix}"] = {**ticks, "domain": [y1 - height, y1], "anchor": f"x{suffix}",
                                  "showticklabels": show_ticks and col == 0}
        notes.append({"text": titles[i], "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": x0 + width / 2, "xanchor": "center", "y": y1, "yanchor": "bottom",
                      "font": {"size": 11}})
    grid["annotations"] = notes
    grid["margin"] = {"l": 60 if show_ticks else 10, "r": 10, "t": 22,
                      "b": 60 if show_ticks else 10}
    return traces, grid


def labelled(name: str, x: list | None = None, y: list | None = None,
             text: list[str] | None = None, **style: Any) -> Trace:
    """Points with a word written above each (``text``, one per point)."""
    return {**markers(name, x, y), "mode": "markers+text", "text": list(text or []),
            "textposition": "top center", **style}


# ---- ppo-cartpole, gridworld -------------------------------------------------------------


def cell_labels(texts: list[list[str]], *, size: int | list[list[int]] = 14,
                color: str = "#111", background: str | None = None) -> list[Layout]:
    """Annotations that write ``texts[row][column]`` on the cells of a heatmap.

    For a heatmap drawn without ``x``/``y`` (cell centres at integer positions); empty
    texts are skipped. ``size`` is one font size or one per cell (same shape as
    ``texts``); ``background`` boxes each text. Pass them as ``layout(annotations=...)``.
    """
    labels = []
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if not text:
                continue
            font = {"size": size if isinstance(size, int) else size[r][c], "color": color}
            labels.append({"x": c, "y": r, "text": text, "showarrow": False, "font": font,
                           **({"bgcolor": background} if background else {})})
    return labels
