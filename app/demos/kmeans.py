"""Demo `kmeans`: Lloyd's algorithm, streamed one iteration at a time.

Every restart (``n_init``) is shown: points coloured by cluster, centroids moving
with their trails, and one inertia curve per restart growing step by step. The
result is the best restart, exactly what ``app.ml.kmeans.kmeans`` returns.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field, model_validator

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    extend,
    figure,
    make_frame,
    rounded,
)
from app.ml.datasets import make_dataset
from app.ml.kmeans import (
    assign_to_nearest,
    count_distinct_points,
    init_centroids,
    lloyd_steps,
)

Dataset = Literal["blobs", "moons", "circles", "anisotropic", "uniform", "custom"]
Coordinate = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
AXIS_RANGE = [-3.6, 3.6]


class DataParams(DemoParams):
    """The data both k-means demos cluster: a toy dataset or points the student clicked."""

    dataset: Dataset = Field(
        "blobs", description="Which points to cluster (custom: click the chart)"
    )
    n_points: int = Field(300, ge=10, le=2000, description="How many points the dataset draws")
    points: list[tuple[Coordinate, Coordinate]] = Field(
        default_factory=list,
        max_length=2000,
        description="Your points: click the chart to add one (switches dataset to custom)",
        json_schema_extra={
            "x-widget": "click-points",
            "x-chart": "clusters",
            "x-activates": {"dataset": "custom"},
        },
    )

    @model_validator(mode="after")
    def _check_points(self) -> DataParams:
        if self.dataset == "custom" and not self.points:
            raise ValueError("points: the custom dataset has no points yet; click the chart")
        return self

    def check_clusters(self, field: str, k: int, least: int = 1) -> None:
        """Refuse ``k`` clusters of fewer distinct points: some would stay empty, and
        Lloyd's algorithm would return repeated centroids without a word."""
        if self.dataset != "custom":  # drawn points: distinct (continuous noise)
            if k > self.n_points:
                raise ValueError(f"{field}: {k} clusters need at least {k} points; n_points "
                                 f"is {self.n_points}; choose {field} ≤ {self.n_points} or "
                                 f"n_points ≥ {k}")
            return
        # Distinct as the algorithm sees them: points whose squared distance underflows
        # to 0 (1e-200 apart) are one point to it, exactly like a repeated click.
        distinct = count_distinct_points(self.data())
        if k > distinct:
            repeats = len(self.points) - distinct
            exact = len(self.points) - len(set(self.points))
            why = "repeats" if exact == repeats else (
                "repeats or so close to another point that their squared distance "
                "rounds to 0")
            told = f" ({len(self.points)} clicked, {repeats} of them {why})" if repeats else ""
            advice = f"choose {field} ≤ {distinct} or " if distinct >= least else ""
            raise ValueError(f"{field}: {k} clusters need at least {k} distinct points; "
                             f"points holds {distinct}{told}; {advice}click more points")

    def data(self) -> torch.Tensor:
        if self.dataset == "custom":
            return torch.tensor(self.points, dtype=torch.float64)
        generator = torch.Generator().manual_seed(self.seed)
        return make_dataset(self.dataset, self.n_points, generator).to(torch.float64)


class Params(DataParams):
    k: int = Field(3, ge=1, le=12, description="Number of clusters")
    init: Literal["k-means++", "random"] = Field("k-means++", description="How to seed centroids")
    max_iter: int = Field(100, ge=1, le=300, description="Most Lloyd iterations per restart")
    n_init: int = Field(3, ge=1, le=20, description="Restarts; the lowest inertia wins")

    @model_validator(mode="after")
    def _enough_points(self) -> Params:
        self.check_clusters("k", self.k)
        return self


def axis_layout(points: torch.Tensor) -> dict:
    """Fixed axes (clicks land where the student expects) unless the data is larger."""
    fits = bool(points.numel() == 0 or points.abs().max() <= AXIS_RANGE[1])
    axis = {"range": AXIS_RANGE, "fixedrange": True} if fits else {"autorange": True}
    return {"xaxis": {**axis, "zeroline": False}, "yaxis": {**axis, "zeroline": False,
            "scaleanchor": "x"} if fits else axis}


def cluster_traces(points: torch.Tensor, labels: torch.Tensor, k: int) -> list[dict]:
    """One scatter trace per cluster, so the legend reads "cluster 1, 2, ..."."""
    traces = []
    for c in range(k):
        members = points[labels == c]
        traces.append({
            "type": "scatter", "mode": "markers", "name": f"cluster {c + 1}",
            "x": rounded(members[:, 0].tolist(), 3), "y": rounded(members[:, 1].tolist(), 3),
            "marker": {"size": 6, "opacity": 0.75},
            "hovertemplate": "(%{x}, %{y})<extra>cluster " + str(c + 1) + "</extra>",
        })
    return traces


def centroid_traces(trails: list[torch.Tensor]) -> list[dict]:
    """Centroids as big crosses, each dragging the path it travelled this restart.

    Drawn over the points, slightly see-through: a cluster of one point still shows.
    """
    path = torch.stack(trails)  # [steps, k, 2]
    lines_x: list = []
    lines_y: list = []
    for c in range(path.shape[1]):
        lines_x += rounded(path[:, c, 0].tolist(), 3) + [None]
        lines_y += rounded(path[:, c, 1].tolist(), 3) + [None]
    now = path[-1]
    return [
        {"type": "scatter", "mode": "lines+markers", "name": "trails", "x": lines_x, "y": lines_y,
         "line": {"color": "rgba(120,120,120,0.7)", "width": 1.5, "dash": "dot"},
         "marker": {"size": 4, "color": "rgba(120,120,120,0.7)"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "name": "centroids",
         "x": rounded(now[:, 0].tolist(), 3), "y": rounded(now[:, 1].tolist(), 3),
         # Dark cross, light rim: visible on light and dark themes alike.
         "opacity": 0.85,
         "marker": {"symbol": "x", "size": 15, "color": "#111",
                    "line": {"width": 1.5, "color": "#fff"}}},
    ]


CHARTS = [
    Chart("clusters", "Points and centroids",
          {"dragmode": False, "legend": {"orientation": "h", "y": -0.12},
           "xaxis": {"range": AXIS_RANGE}, "yaxis": {"range": AXIS_RANGE}},
          "Scatter plot of the points coloured by cluster, with centroids as crosses."),
    Chart("inertia", "Inertia per Lloyd iteration",
          {"xaxis": {"title": {"text": "iteration"}, "rangemode": "tozero"},
           "yaxis": {"title": {"text": "inertia (within-cluster SSE)"}},
           "legend": {"orientation": "h", "y": -0.25}},
          "Line chart of inertia against iteration, one line per restart."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    points = params.data()
    generator = torch.Generator().manual_seed(params.seed)
    runs = [{"type": "scatter", "mode": "lines+markers", "name": f"restart {r + 1}",
             "x": [], "y": []} for r in range(params.n_init)]
    yield make_frame(0, 0.0, {"inertia": figure(runs)})
    best = None
    histories, final_inertias = [], []
    step_count = 0
    for restart in range(params.n_init):
        if ctx.should_stop():
            break
        centroids = init_centroids(points, params.k, params.init, generator)
        trails, history = [centroids], []
        for step in lloyd_steps(points, centroids, params.max_iter):
            step_count += 1
            trails.append(step.centroids)
            history.append(step.inertia)
            progress = (restart + step.iteration / params.max_iter) / params.n_init
            yield make_frame(step_count, progress, {
                "clusters": figure(
                    cluster_traces(points, step.labels, params.k) + centroid_traces(trails),
                    axis_layout(points)),
                "inertia": extend([restart], [[step.iteration]], [[round(step.inertia, 4)]]),
            }, {"restart": restart + 1, "iteration": step.iteration, "inertia": step.inertia})
            centroids = step.centroids
            if ctx.should_stop():
                break
        labels, distances = assign_to_nearest(points, centroids)
        outcome = (float(distances.sum()), centroids, labels, len(history), history)
        histories.append(history)
        final_inertias.append(outcome[0])
        if best is None or outcome[0] < best[0]:
            best = outcome
    assert best is not None
    inertia, centroids, labels, iterations, history = best
    best_index = next(i for i, h in enumerate(histories) if h is history)
    for r, trace in enumerate(runs):
        trace["x"] = list(range(1, len(histories[r]) + 1)) if r < len(histories) else []
        trace["y"] = rounded(histories[r], 4) if r < len(histories) else []
        trace["line"] = {"width": 4 if r == best_index else 1.5}
        trace["opacity"] = 1.0 if r == best_index else 0.45
    yield make_frame(step_count + 1, 1.0, {
        "clusters": figure(cluster_traces(points, labels, params.k)
                           + centroid_traces([centroids]), axis_layout(points)),
        "inertia": figure(runs),
    }, {"best_restart": best_index + 1, "inertia": inertia, "iterations": iterations})
    return {
        "inertia": inertia,
        "iterations": iterations,
        "centroids": centroids.tolist(),
        "labels": labels.tolist(),
        "history": history,
        "restart_inertias": final_inertias,
        "best_restart": best_index + 1,
    }


demo = Demo(
    slug="kmeans",
    title="k-means, one Lloyd iteration at a time",
    description="Pick a dataset and k, press Run, and watch every assignment and update. "
    "Each restart draws its own inertia curve; the lowest one wins.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.12,
)
