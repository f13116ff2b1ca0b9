"""What the k-means demos cluster: a toy dataset or points the student clicked.

Not a demo (it defines no ``demo``): the parameters the kmeans and kmeans-elbow demos
share, declared once.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import torch
from pydantic import Field

from app.demos.base import DemoParams, click_points, control
from app.ml.datasets import clustering_data

Dataset = Literal["blobs", "moons", "circles", "anisotropic", "uniform", "custom"]
Coordinate = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
DRAWN = [name for name in get_args(Dataset) if name != "custom"]  # datasets n_points draws
LIMIT = 3.6  # the fixed axes' half-width: every drawn dataset fits (app.ml.datasets.BOUND)


class DataParams(DemoParams):
    """The data to cluster: a toy dataset or points the student clicked."""

    dataset: Dataset = Field(
        "blobs", description="Which points to cluster (custom: click the chart)"
    )
    n_points: int = Field(300, ge=10, le=2000, description="How many points the dataset draws",
                          json_schema_extra=control(show_if={"dataset": DRAWN}))
    points: list[tuple[Coordinate, Coordinate]] = Field(
        default_factory=list,
        max_length=2000,
        description="Your points: click the chart to add one (switches dataset to custom)",
        json_schema_extra=click_points("clusters", activates={"dataset": "custom"}),
    )

    def data(self) -> torch.Tensor:
        return clustering_data(self.dataset, self.n_points, self.points, self.seed)
