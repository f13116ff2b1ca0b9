"""Demo `kmeans-elbow`: inertia against k, one k at a time, to look for the elbow."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator

from app.demos.base import Chart, Demo, RunContext, RunGenerator, extend, figure, make_frame
from app.demos.kmeans import AXIS_RANGE, DataParams, axis_layout, centroid_traces, cluster_traces
from app.ml.kmeans import KMeansResult, lloyd_run


class Params(DataParams):
    k_max: int = Field(10, ge=2, le=12, description="Largest k to try (from k = 1)")
    init: Literal["k-means++", "random"] = Field("k-means++", description="How to seed centroids")
    n_init: int = Field(5, ge=1, le=10, description="Restarts per k; the lowest inertia wins")

    @model_validator(mode="after")
    def _enough_points(self) -> Params:
        self.check_clusters("k_max", self.k_max, least=2)
        return self


CHARTS = [
    Chart("elbow", "Inertia against k",
          {"xaxis": {"title": {"text": "k (number of clusters)"}, "dtick": 1},
           "yaxis": {"title": {"text": "inertia"}, "rangemode": "tozero"}, "showlegend": False},
          "Line chart of the best inertia found for each k; look for the bend."),
    Chart("clusters", "Clustering at the latest k",
          {"dragmode": False, "showlegend": False,
           "xaxis": {"range": AXIS_RANGE}, "yaxis": {"range": AXIS_RANGE}},
          "Scatter plot of the points coloured by cluster for the k just computed."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    points = params.data()
    yield make_frame(0, 0.0, {"elbow": figure([
        {"type": "scatter", "mode": "lines+markers", "name": "inertia", "x": [], "y": [],
         "marker": {"size": 9}, "line": {"width": 3}}])})
    inertias = []
    for k in range(1, params.k_max + 1):
        # The same restarts as app.ml.kmeans.kmeans(seed=...), one at a time, so that
        # Stop (or a student closing the page) takes effect within one restart.
        generator = torch.Generator().manual_seed(params.seed)
        result: KMeansResult | None = None
        for _ in range(params.n_init):
            if ctx.should_stop():
                break
            run = lloyd_run(points, k, params.init, generator)
            if result is None or run.inertia < result.inertia:
                result = run
        if result is None or ctx.should_stop():
            break
        inertias.append(result.inertia)
        drop = (inertias[-2] - result.inertia) / inertias[-2] if k > 1 and inertias[-2] else None
        metrics = {"k": k, "inertia": result.inertia}
        if drop is not None:
            metrics["drop_from_previous"] = round(drop, 4)
        yield make_frame(k, k / params.k_max, {
            "elbow": extend([0], [[k]], [[round(result.inertia, 4)]]),
            "clusters": figure(
                cluster_traces(points, result.labels, k) + centroid_traces([result.centroids]),
                axis_layout(points)),
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
