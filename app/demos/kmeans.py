"""Demo `kmeans`: Lloyd's algorithm, streamed one iteration at a time.

Every restart (``n_init``) is shown: points coloured by cluster, centroids moving
with their trails, and one inertia curve per restart growing step by step. The
result is the best restart, exactly what ``app.ml.kmeans.kmeans`` returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.demos.base import (
    Demo,
    RunContext,
    RunGenerator,
    control,
    extend,
    figure,
    make_frame,
)
from app.demos.charts import LEGEND_BELOW, line, line_chart
from app.demos.clustering_data import LIMIT, DataParams
from app.demos.figures import centres, clusters, plane_axes, plane_chart
from app.ml.kmeans import Restarts


class Params(DataParams):
    k: int = Field(3, ge=1, le=12, description="Number of clusters")
    init: Literal["k-means++", "random"] = Field("k-means++", description="How to seed centroids",
                                                 json_schema_extra=control(label="seeding"))
    max_iter: int = Field(100, ge=1, le=300, description="Most Lloyd iterations per restart",
                          json_schema_extra=control(label="max iterations"))
    n_init: int = Field(3, ge=1, le=20, description="Restarts; the lowest inertia wins",
                        json_schema_extra=control(label="restarts"))

    @model_validator(mode="after")
    def _enough_points(self) -> Params:
        problem = self.too_few("k", self.k)
        if problem:
            raise ValueError(problem)
        return self


CHARTS = [
    plane_chart("clusters", "Points and centroids", limit=LIMIT,
                summary="Scatter plot of the points coloured by cluster, with centroids as "
                "crosses."),
    # One line per restart: how many depends on n_init, so the first frame draws them.
    line_chart("inertia", "Inertia per Lloyd iteration", x_title="iteration",
               x={"rangemode": "tozero"}, integer_x=True, y_title="inertia (within-cluster SSE)",
               legend=dict(LEGEND_BELOW),
               summary="Line chart of inertia against iteration, one line per restart."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    points = params.data()
    xy = points.tolist()
    axes = plane_axes(points.tolist(), LIMIT)
    yield make_frame(0, 0.0, {"inertia": figure(
        [line(f"restart {r + 1}", markers=True) for r in range(params.n_init)])})
    restarts = Restarts(points, params.k, params.init, params.n_init, params.max_iter,
                        seed=params.seed)
    path: list[list[list[float]]] = []  # this restart's centroids, from its seeding on
    count = 0
    for count, (restart, step) in enumerate(restarts.steps(), start=1):
        if step.iteration == 1:
            path = [restarts.starts[restart].tolist()]
        path.append(step.centroids.tolist())
        progress = (restart + step.iteration / params.max_iter) / params.n_init
        yield make_frame(count, progress, {
            "clusters": figure(clusters(xy, step.labels.tolist(), params.k) + centres(path),
                               axes),
            "inertia": extend([restart], [[step.iteration]], [[step.inertia]]),
        }, {"restart": restart + 1, "iteration": step.iteration, "inertia": step.inertia})
        if ctx.should_stop():
            break
    results, best = restarts.results(), restarts.best_index()
    winner = results[best]
    unstarted = [[] for _ in range(params.n_init - len(restarts.histories))]  # after a Stop
    curves = [line(f"restart {r + 1}", list(range(1, len(history) + 1)), history,
                   markers=True, line={"width": 4 if r == best else 1.5},
                   opacity=1.0 if r == best else 0.45)
              for r, history in enumerate(restarts.histories + unstarted)]
    yield make_frame(count + 1, 1.0, {
        "clusters": figure(clusters(xy, winner.labels.tolist(), params.k)
                           + centres([winner.centroids.tolist()]), axes),
        "inertia": figure(curves),
    }, {"best_restart": best + 1, "inertia": winner.inertia, "iterations": winner.iterations})
    return {
        "inertia": winner.inertia,
        "iterations": winner.iterations,
        "centroids": winner.centroids.tolist(),
        "labels": winner.labels.tolist(),
        "history": winner.history,
        "restart_inertias": [result.inertia for result in results],
        "best_restart": best + 1,
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
