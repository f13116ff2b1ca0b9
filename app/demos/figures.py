"""Figures several demos share, built from the chart vocabulary (:mod:`app.demos.charts`).

A figure that one demo draws stays in that demo; one that a second demo needs moves here,
so no demo imports another.
"""

from __future__ import annotations

from typing import Any

from app.demos.base import Chart
from app.demos.charts import Layout, Trace, category_axis, heatmap, line, markers

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
                color: str | list[list[str]] = "#111",
                background: str | list[list[str]] | None = None) -> list[Layout]:
    """Annotations that write ``texts[row][column]`` on the cells of a heatmap.

    For a heatmap drawn without ``x``/``y`` (cell centres at integer positions); empty
    texts are skipped. ``size``, ``color`` and ``background`` (a box behind each text)
    are one value or one per cell (same shape as ``texts``). Pass them as
    ``layout(annotations=...)``.
    """
    def at(value: Any, r: int, c: int) -> Any:
        return value[r][c] if isinstance(value, list) else value

    labels = []
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if not text:
                continue
            font = {"size": at(size, r, c), "color": at(color, r, c)}
            box = at(background, r, c)
            labels.append({"x": c, "y": r, "text": text, "showarrow": False, "font": font,
                           **({"bgcolor": box} if box else {})})
    return labels
