"""Demo `norms`: which entries LayerNorm and BatchNorm average over, and what they produce.

A small random ``[batch, sequence, features]`` tensor is drawn as one heatmap row per
token. The outlined row is what LayerNorm averages for one token; the outlined column is
what BatchNorm averages for one feature. One feature can be made "loud" (large scale
and offset) to show how differently the two react.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from pydantic import Field

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    figure,
    make_frame,
)
from app.demos.charts import bar_chart, bars, heatmap, heatmap_chart, layout
from app.ml.norms import batch_norm, layer_norm

LN_COLOUR, BN_COLOUR = "#f28e2b", "#7b3fbf"


class Params(DemoParams):
    batch: int = Field(3, ge=1, le=8, description="Sequences in the batch")
    sequence: int = Field(4, ge=1, le=8, description="Tokens per sequence")
    features: int = Field(6, ge=2, le=12, description="Features per token")
    loud_scale: float = Field(8.0, ge=1.0, le=20.0, description="Scale of feature 0 "
                              "(1 = like the others)")
    loud_offset: float = Field(5.0, ge=-10.0, le=10.0, description="Offset added to feature 0")
    token: int = Field(1, ge=1, le=64, description="Token whose LayerNorm group is outlined "
                       "(row number, capped at batch × sequence)")
    feature: int = Field(1, ge=1, le=12, description="Feature whose BatchNorm group is "
                         "outlined (capped at features)")


def row_labels(batch: int, sequence: int) -> list[str]:
    return [f"seq {b + 1} · tok {t + 1}" for b in range(batch) for t in range(sequence)]


def tensor_heatmap(rows: torch.Tensor, labels: list[str], token: int, feature: int,
                   bound: float, note: str | None = None) -> dict:
    """Rows = tokens, columns = features, with the LN row and the BN column outlined."""
    n_rows, n_features = rows.shape
    trace = heatmap(rows.tolist(), list(range(n_features)), list(range(n_rows)),
                    colorscale="RdBu", reverse=True, zmin=-bound, zmax=bound, xgap=1, ygap=1,
                    customdata=[[labels[r]] * n_features for r in range(n_rows)],
                    hover="%{customdata}, feature %{x}: %{z:.3f}<extra></extra>")
    outlines = [
        {"type": "rect", "x0": -0.5, "x1": n_features - 0.5, "y0": token - 0.5,
         "y1": token + 0.5, "line": {"color": LN_COLOUR, "width": 3}},
        {"type": "rect", "x0": feature - 0.5, "x1": feature + 0.5, "y0": -0.5,
         "y1": n_rows - 0.5, "line": {"color": BN_COLOUR, "width": 3, "dash": "dot"}},
    ]
    return figure([trace], layout(y={"tickvals": list(range(n_rows)), "ticktext": labels},
                                  title=note, shapes=outlines))


def group_bars(x: list, means: list[float], stds: list[float], colour: str) -> dict:
    """Each group's mean and standard deviation, side by side."""
    return figure([bars("mean", x, means, marker={"color": colour}),
                   bars("std", x, stds, marker={"color": colour, "opacity": 0.45})])


def run(params: Params, ctx: RunContext) -> RunGenerator:
    generator = torch.Generator().manual_seed(params.seed)
    x = torch.randn(params.batch, params.sequence, params.features, generator=generator,
                    dtype=torch.float64)
    x[..., 0] = x[..., 0] * params.loud_scale + params.loud_offset
    ln, bn = layer_norm(x), batch_norm(x)
    labels = row_labels(params.batch, params.sequence)
    token = min(params.token, len(labels)) - 1
    feature = min(params.feature, params.features) - 1
    flat = x.reshape(-1, params.features)
    bound = float(flat.abs().max())
    ln_std = (ln.var + 1e-5).sqrt().reshape(-1).tolist()
    bn_std = (bn.var + 1e-5).sqrt().reshape(-1).tolist()
    # One token in all: each feature's BatchNorm group is a single entry, its own mean,
    # so every output is 0 (torch's BatchNorm1d refuses such a batch when training).
    note = ("BatchNorm needs at least 2 tokens per feature: with batch × sequence = 1 each "
            "feature is its own mean, so every output is 0") if len(labels) == 1 else None
    yield make_frame(1, 1.0, {
        "input": tensor_heatmap(flat, labels, token, feature, bound),
        "layernorm": tensor_heatmap(ln.output.reshape(-1, params.features), labels, token,
                                    feature, 2.5),
        "batchnorm": tensor_heatmap(bn.output.reshape(-1, params.features), labels, token,
                                    feature, 2.5,
                                    "⚠ one token: nothing to normalise across" if note else None),
        "ln_stats": group_bars(labels, ln.mean.reshape(-1).tolist(), ln_std, LN_COLOUR),
        "bn_stats": group_bars(list(range(params.features)), bn.mean.reshape(-1).tolist(),
                               bn_std, BN_COLOUR),
    }, {"layer_norm_groups": len(labels), "entries_per_layer_norm_group": params.features,
        "batch_norm_groups": params.features, "entries_per_batch_norm_group": len(labels),
        "outlined_token_mean": float(ln.mean.reshape(-1)[token]),
        "outlined_feature_mean": float(bn.mean.reshape(-1)[feature]),
        **({"note": note} if note else {})})
    return {
        "input": x.tolist(),
        "layer_mean": ln.mean.squeeze(-1).tolist(),
        "layer_var": ln.var.squeeze(-1).tolist(),
        "batch_mean": bn.mean.reshape(-1).tolist(),
        "batch_var": bn.var.reshape(-1).tolist(),
        "layer_output": ln.output.tolist(),
        "batch_output": bn.output.tolist(),
        "note": note,
    }


# Row 0 on top. Set in the chart's first layout so the page keeps it across runs; the row
# names are small and find their room.
TOP_DOWN = {"autorange": "reversed", "automargin": True, "tickfont": {"size": 9}}


def group_statistics(id: str, title: str, x_title: str, colour: str, summary: str) -> Chart:
    tokens = {"type": "category"} if x_title == "token" else {}
    chart = bar_chart(id, title, x_title=x_title, summary=summary,
                      x={"automargin": True, **tokens},
                      series=[bars("mean", marker={"color": colour}),
                              bars("std", marker={"color": colour, "opacity": 0.45})])
    # The legend above the plot: below, it would sit on the slanted token names.
    return replace(chart, layout={**chart.layout, "legend": {"orientation": "h", "y": 1.12}})


CHARTS = [
    heatmap_chart("input", "Input x: one row per token (orange: a LayerNorm group, purple: a "
                  "BatchNorm group)", x_title="feature", x={"dtick": 1}, y=TOP_DOWN,
                  summary="Heatmap of the input tensor, rows are tokens, columns are features, "
                  "with one row and one column outlined."),
    heatmap_chart("layernorm", "After LayerNorm: every row has mean 0, std 1", x_title="feature",
                  x={"dtick": 1}, y=TOP_DOWN,
                  summary="Heatmap of the LayerNorm output, same layout as the input."),
    heatmap_chart("batchnorm", "After BatchNorm: every column has mean 0, std 1",
                  x_title="feature", x={"dtick": 1}, y=TOP_DOWN,
                  summary="Heatmap of the BatchNorm output, same layout as the input."),
    # Token names ("seq 1 · tok 1", short and fixed) are categories; features a number line.
    group_statistics("ln_stats", "LayerNorm statistics, one pair per token", "token", LN_COLOUR,
                     "Bar chart of each token's mean and standard deviation over its "
                     "features."),
    group_statistics("bn_stats", "BatchNorm statistics, one pair per feature", "feature",
                     BN_COLOUR, "Bar chart of each feature's mean and standard deviation over "
                     "all tokens."),
]

demo = Demo(
    slug="norms",
    title="LayerNorm against BatchNorm",
    description="The same tensor normalised two ways. LayerNorm averages across a token's "
    "features; BatchNorm averages one feature across the whole batch.",
    Params=Params,
    charts=CHARTS,
    run=run,
    live=True,
)
