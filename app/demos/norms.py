"""Demo `norms`: which entries LayerNorm and BatchNorm average over, and what they produce.

A small random ``[batch, sequence, features]`` tensor is drawn as one heatmap row per
token. The outlined row is what LayerNorm averages for one token; the outlined column is
what BatchNorm averages for one feature. One feature can be made "loud" (large scale
and offset) to show how differently the two react.
"""

from __future__ import annotations

import torch
from pydantic import Field

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    category_axis,
    figure,
    make_frame,
    rounded,
)
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
                   bound: float, title: str = "") -> dict:
    """Rows = tokens, columns = features, with the LN row and the BN column outlined."""
    n_rows, n_features = rows.shape
    trace = {"type": "heatmap", "z": rounded(rows.tolist(), 3), "x": list(range(n_features)),
             "y": list(range(n_rows)), "colorscale": "RdBu", "reversescale": True,
             "zmin": -bound, "zmax": bound, "xgap": 1, "ygap": 1,
             "customdata": [[labels[r]] * n_features for r in range(n_rows)],
             "hovertemplate": "%{customdata}, feature %{x}: %{z:.3f}<extra></extra>"}
    shapes = [
        {"type": "rect", "x0": -0.5, "x1": n_features - 0.5, "y0": token - 0.5,
         "y1": token + 0.5, "line": {"color": LN_COLOUR, "width": 3}},
        {"type": "rect", "x0": feature - 0.5, "x1": feature + 0.5, "y0": -0.5,
         "y1": n_rows - 0.5, "line": {"color": BN_COLOUR, "width": 3, "dash": "dot"}},
    ]
    return figure([trace], {
        "shapes": shapes, "title": {"text": title, "font": {"size": 13}},
        "xaxis": {"title": {"text": "feature"}, "dtick": 1},
        "yaxis": {"tickvals": list(range(n_rows)),
                  "ticktext": labels, "automargin": True, "tickfont": {"size": 9}},
    })


def bars(x: list, means: list[float], stds: list[float], colour: str, axis: str) -> dict:
    # Token names ("seq 1 · tok 1", short and fixed) are categories; feature numbers
    # stay a number line.
    names = category_axis(x, max_chars=None) if isinstance(x[0], str) else {}
    return figure([
        {"type": "bar", "name": "mean", "x": x, "y": rounded(means, 4),
         "marker": {"color": colour}},
        {"type": "bar", "name": "std", "x": x, "y": rounded(stds, 4),
         "marker": {"color": colour, "opacity": 0.45}},
    ], {"barmode": "group", "xaxis": {**names, "title": {"text": axis}, "automargin": True},
        "legend": {"orientation": "h", "y": 1.12}})


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
                                    feature, 2.5, "⚠ one token: nothing to normalise across"
                                    if note else ""),
        "ln_stats": bars(labels, ln.mean.reshape(-1).tolist(), ln_std, LN_COLOUR, "token"),
        "bn_stats": bars(list(range(params.features)), bn.mean.reshape(-1).tolist(), bn_std,
                         BN_COLOUR, "feature"),
    }, {"LayerNorm groups": len(labels), "entries per LN group": params.features,
        "BatchNorm groups": params.features, "entries per BN group": len(labels),
        "outlined token mean": round(float(ln.mean.reshape(-1)[token]), 4),
        "outlined feature mean": round(float(bn.mean.reshape(-1)[feature]), 4),
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


# Row 0 on top. Set in the chart's first layout so the page keeps it across runs.
TOP_DOWN = {"yaxis": {"autorange": "reversed"}}

CHARTS = [
    Chart("input", "Input x: one row per token (orange: a LayerNorm group, purple: a "
          "BatchNorm group)", TOP_DOWN, "Heatmap of the input tensor, rows are tokens, columns "
          "are features, with one row and one column outlined."),
    Chart("layernorm", "After LayerNorm: every row has mean 0, std 1", TOP_DOWN,
          "Heatmap of the LayerNorm output, same layout as the input."),
    Chart("batchnorm", "After BatchNorm: every column has mean 0, std 1", TOP_DOWN,
          "Heatmap of the BatchNorm output, same layout as the input."),
    Chart("ln_stats", "LayerNorm statistics, one pair per token", {},
          "Bar chart of each token's mean and standard deviation over its features."),
    Chart("bn_stats", "BatchNorm statistics, one pair per feature", {},
          "Bar chart of each feature's mean and standard deviation over all tokens."),
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
