"""What the k-means demos cluster: a toy dataset or the student's own points.

Not a demo (it defines no ``demo``): the parameters the kmeans and kmeans-elbow demos
share, declared once. The student's points ("custom") are the rows of ``points_csv`` (a
file they loaded or CSV they pasted, read by :mod:`app.points_csv`) followed by the
points they clicked (or typed) onto the chart, at most :data:`MAX_POINTS` in all.

``points_csv`` stays the CSV text it was, in the control, the link and the request alike,
so the replay cache keys on its content; it is parsed when the parameters are validated
and never written anywhere.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import torch
from pydantic import Field, PrivateAttr, model_validator

from app.demos.base import X_ACTIVATES, X_LABEL, X_WIDGET, DemoParams, click_points, control
from app.ml.datasets import clustering_data, too_few_points
from app.points_csv import PointsCsvError, grouped, parse_points

Dataset = Literal["blobs", "moons", "circles", "anisotropic", "uniform", "custom"]
LOW, HIGH = -100, 100  # a coordinate's bounds, clicked, typed or loaded
Coordinate = Annotated[float, Field(ge=LOW, le=HIGH, allow_inf_nan=False)]
DRAWN = [name for name in get_args(Dataset) if name != "custom"]  # datasets n_points draws
LIMIT = 3.6  # the fixed axes' half-width: every drawn dataset fits (app.ml.datasets.BOUND)
MAX_POINTS = 2000  # clicked and loaded together
# Room for MAX_POINTS rows of long numbers ("-12.3456789012345,98.7654321098765"); more
# text than this is refused before it is parsed.
MAX_CSV_CHARS = 100_000


def csv_points(label: str, activates: dict[str, Any] | None = None) -> dict[str, Any]:
    """``json_schema_extra`` of a text field of CSV points the student loads from a file or
    pastes (the page reads the file; the server parses the text). ``activates`` sets other
    fields when CSV is loaded (``{"dataset": "custom"}``)."""
    return {X_WIDGET: "csv", X_LABEL: label, X_ACTIVATES: activates or {}}


class DataParams(DemoParams):
    """The data to cluster: a toy dataset, or the student's points (loaded and clicked)."""

    dataset: Dataset = Field(
        "blobs", description="Which points to cluster (custom: your points, loaded or clicked)"
    )
    n_points: int = Field(300, ge=10, le=2000, description="How many points the dataset draws",
                          json_schema_extra=control(show_if={"dataset": DRAWN}))
    points_csv: str = Field(
        "", max_length=MAX_CSV_CHARS,
        description=f"Your points as CSV: one x, y per row, each from {LOW} to {HIGH}; a "
        f"header row is optional; at most {grouped(MAX_POINTS)} rows (switches dataset to "
        "custom)",
        json_schema_extra=csv_points("points from CSV", activates={"dataset": "custom"}),
    )
    points: list[tuple[Coordinate, Coordinate]] = Field(
        default_factory=list,
        max_length=MAX_POINTS,
        description="Your points: click the chart to add one, or type x and y "
        "(switches dataset to custom)",
        json_schema_extra=click_points("clusters", activates={"dataset": "custom"}),
    )
    _loaded: tuple[str, list[tuple[float, float]]] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _readable_csv(self) -> DataParams:
        # After the fields (the text is within its max_length), so that the message is the
        # parser's sentence alone: "points_csv: row 7: 'abc' is not a number".
        try:
            loaded = len(self.loaded_points())
        except PointsCsvError as exc:
            raise ValueError(f"points_csv: {exc}") from None
        if loaded and loaded + len(self.points) > MAX_POINTS:
            total = grouped(loaded + len(self.points))
            raise ValueError(f"points_csv: {grouped(loaded)} rows and {len(self.points)} "
                             f"clicked points make {total}; at most {grouped(MAX_POINTS)}")
        return self

    def loaded_points(self) -> list[tuple[float, float]]:
        """The rows of ``points_csv`` (already validated), parsed once."""
        if self._loaded is None or self._loaded[0] != self.points_csv:
            self._loaded = (self.points_csv, parse_points(self.points_csv, max_rows=MAX_POINTS,
                                                          low=LOW, high=HIGH))
        return self._loaded[1]

    def your_points(self) -> list[tuple[float, float]]:
        """The custom dataset: the loaded rows, then the clicked points."""
        return [*self.loaded_points(), *self.points]

    def too_few(self, field: str, k: int, least: int = 1) -> str | None:
        """Why ``k`` clusters (the parameter ``field``) cannot be asked of this data, or
        None (:func:`app.ml.datasets.too_few_points`, told of loaded rows too)."""
        problem = too_few_points(field, k, self.dataset, self.n_points, self.your_points(),
                                 least)
        if problem and self.loaded_points():
            problem = problem.replace(" clicked,", " yours,").replace(
                "click more points", "add rows or click more points")
        return problem

    def data(self) -> torch.Tensor:
        return clustering_data(self.dataset, self.n_points, self.your_points(), self.seed)
