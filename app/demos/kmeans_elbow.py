"""Demo `kmeans-elbow`: inertia against k, one k at a time, to look for the elbow."""

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
from app.demos.charts import line, line_chart
from app.demos.clustering_data import LIMIT, DataParams
from app.demos.figures import centres, clusters, plane_axes, plane_chart
from app.ml.kmeans import Restarts


class Params(DataParams):
    k_max: int = Field(10, ge=2, le=12, description="Largest k to try (from k = 1)",
                       json_schema_extra=control(label="largest k"))
    init: Literal["k-means++", "random"] = Field("k-means++", description="How to seed centroids",
                                                 json_schema_extra=control(label="seeding"))
    n_init: int = Field(5, ge=1, le=10, description="Restarts per k; the lowest inertia wins",
                        json_schema_extra=control(label="restarts"))

    @model_validator(mode="after")
    def _enough_points(self) -> Params:
        problem = self.too_few("k_max", self.k_max, least=2)
        if problem:
            raise ValueError(problem)
        return self


CHARTS = [
    line_chart("elbow", "Inertia against k", x_title="k (number of clusters)", x={"dtick": 1},
               integer_x=True,
               y_title="inertia", y={"rangemode": "tozero"}, showlegend=False,
               lines=[line("inertia", markers=True, marker={"size": 9}, line={"width": 3})],
               summary="Line chart of the best inertia found for each k; look for the bend."),
    plane_chart("clusters", "Clustering at the latest k", limit=LIMIT, legend=False,
                summary="Scatter plot of the points coloured by cluster for the k just "
                "computed."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    points = params.data()
    xy = points.tolist()
    axes = plane_axes(points.tolist(), LIMIT)
    inertias = []
    for k in range(1, params.k_max + 1):
        # The restarts of app.ml.kmeans.kmeans(seed=...), watched step by step so that
        # Stop (or a student closing the page) takes effect within one Lloyd step.
        restarts = Restarts(points, k, params.init, params.n_init, seed=params.seed)
        for _ in restarts.steps():
            if ctx.should_stop():
                break
        if ctx.should_stop():
            break
        best = restarts.results()[restarts.best_index()]
        inertias.append(best.inertia)
        metrics = {"k": k, "inertia": best.inertia}
        if k > 1 and inertias[-2]:
            metrics["drop_from_previous"] = (inertias[-2] - best.inertia) / inertias[-2]
        yield make_frame(k, k / params.k_max, {
            "elbow": extend([0], [[k]], [[best.inertia]]),
            "clusters": figure(clusters(xy, best.labels.tolist(), k)
                               + centres([best.centroids.tolist()]), axes),
        }, metrics)
    return {"k": list(range(1, len(inertias) + 1)), "inertia": inertias}


demo = Demo(
    slug="kmeans-elbow",
    title="The elbow curve",
    description="Cluster the same points with k = 1, 2, 3, … and plot the best inertia for each. "
    "Inertia always falls as k grows; the question is where it stops falling fast.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.2,
)
