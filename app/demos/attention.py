"""Demo `attention`: type a sentence, see every head's attention map.

Each token gets a fixed random embedding (the same word always gets the same vector,
for a given seed), optionally plus a sinusoidal position, then one multi-head
self-attention layer from app/ml/attention.py mixes them. Untrained weights: the maps
show the mechanics — rows that sum to 1, the causal triangle, temperature — not meaning.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

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
    seeded,
)
from app.ml.attention import MultiHeadSelfAttention
from app.ml.positional import sinusoidal_encoding
from app.ml.tokens import tokenize as words_and_symbols

MAX_TOKENS = 32


def tokenize(text: str) -> list[str]:
    """Lower-cased words, in any script, and single punctuation marks (app/ml/tokens.py)."""
    return words_and_symbols(text, lower=True)


def axis_labels(tokens: list[str]) -> list[str]:
    """Unique labels for a categorical axis: a repeated word becomes "the·1", "the·2".

    A number is skipped when a token already reads that way ("col·lega" is one word,
    so "the the the·1" is labelled "the·2", "the·3", "the·1").
    """
    counts = {t: tokens.count(t) for t in tokens}
    seen: dict[str, int] = {}
    labels: list[str] = []
    for token in tokens:
        label = token
        while counts[token] > 1 and (label == token or label in counts or label in labels):
            seen[token] = seen.get(token, 0) + 1
            label = f"{token}·{seen[token]}"
        labels.append(label)
    return labels


def token_embedding(token: str, d_model: int, seed: int) -> torch.Tensor:
    """A random vector fixed by (token, seed): a stable hash, unlike Python's salted hash()."""
    digest = hashlib.blake2b(f"{seed}\x00{token}".encode(), digest_size=8).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)
    return torch.randn(d_model, generator=generator, dtype=torch.float64)


class Params(DemoParams):
    text: str = Field("the cat sat on the mat because it was warm", max_length=300,
                      description=f"A sentence (at most {MAX_TOKENS} tokens)")
    d_model: int = Field(24, ge=8, le=64, description="Width of each token vector "
                         "(must be divisible by heads)", json_schema_extra={"x-step": 4})
    heads: int = Field(2, ge=1, le=8, description="Attention heads, each d_model/heads wide")
    show_head: int = Field(1, ge=1, le=8, description="Which head the large maps show "
                           "(capped at the number of heads)")
    temperature: float = Field(1.0, ge=0.1, le=10.0, description="Divides the scores: low "
                               "sharpens, high flattens", json_schema_extra={"x-scale": "log"})
    causal: bool = Field(False, description="Causal mask: a token may not look ahead")
    positional: bool = Field(True, description="Add sinusoidal position vectors")
    projections: Literal["random", "identity"] = Field(
        "random", description="Q, K, V projections: random, or identity (compare raw embeddings)")

    @model_validator(mode="after")
    def _check(self) -> Params:
        count = len(tokenize(self.text))
        if count == 0:
            raise ValueError("text: has no visible word (only spaces or invisible "
                             "characters); type at least one word")
        if count > MAX_TOKENS:
            raise ValueError(f"text: {count} tokens; at most {MAX_TOKENS} are allowed")
        if self.d_model % self.heads:
            fits = [m for m in range(8, 65, 4) if m % self.heads == 0]  # the slider's steps
            nearest = min(fits, key=lambda m: abs(m - self.d_model))
            raise ValueError(f"d_model: {self.d_model} is not divisible by heads ({self.heads}); "
                             f"choose a multiple of {self.heads} between 8 and 64, e.g. "
                             f"{nearest}")
        return self


def heatmap(z: list, x: list, y: list, colorscale: Any = "Blues",
            zmin: float | None = None, zmax: float | None = None, **extra: Any) -> dict:
    """A heatmap trace, keys along x and queries along y, the first query on top.

    Plotly draws the first category at the bottom, so the rows go in reversed (reversing
    the axis instead would not survive the page keeping its zoom state across runs).
    """
    if colorscale == "Blues":
        extra.setdefault("reversescale", True)  # light = little attention, dark = much
    for key in ("text", "customdata"):
        if key in extra:
            extra[key] = extra[key][::-1]
    trace = {"type": "heatmap", "z": z[::-1], "x": x, "y": y[::-1], "colorscale": colorscale,
             "hovertemplate": "query %{y} → key %{x}: %{z:.3f}<extra></extra>", **extra}
    if zmin is not None:
        trace.update(zmin=zmin, zmax=zmax)
    return trace


def heatmap_grid(maps: list[list[list[float]]], labels: list[str], titles: list[str],
                 columns: int = 4) -> tuple[list[dict], dict]:
    """Small multiples: one [L, L] map per panel on a shared 0..1 colour scale."""
    count = len(maps)
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    gap = 0.04
    width, height = (1 - gap * (columns - 1)) / columns, (1 - 0.08 * (rows - 1)) / rows
    show_ticks = count <= 2 and len(labels) <= 16
    traces, layout, notes = [], {"showlegend": False}, []
    for i, z in enumerate(maps):
        row, col = divmod(i, columns)
        suffix = "" if i == 0 else str(i + 1)
        x0, y1 = col * (width + gap), 1 - row * (height + 0.08)
        traces.append(heatmap(z, labels, labels, zmin=0, zmax=1, showscale=i == 0,
                              xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        axis = category_axis(labels, showticklabels=show_ticks, ticks="", tickfont={"size": 9},
                             automargin=True)
        layout[f"xaxis{suffix}"] = {**axis, "domain": [x0, x0 + width], "anchor": f"y{suffix}",
                                    "tickangle": -45}
        # Row names once, left of the first panel: between panels they would overlap.
        layout[f"yaxis{suffix}"] = {**axis, "domain": [y1 - height, y1], "anchor": f"x{suffix}",
                                    "showticklabels": show_ticks and col == 0}
        notes.append({"text": titles[i], "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": x0 + width / 2, "xanchor": "center", "y": y1, "yanchor": "bottom",
                      "font": {"size": 11}})
    layout["annotations"] = notes
    layout["margin"] = {"l": 60 if show_ticks else 10, "r": 10, "t": 22,
                        "b": 60 if show_ticks else 10}
    return traces, layout


def embed(params: Params, tokens: list[str]) -> torch.Tensor:
    x = torch.stack([token_embedding(t, params.d_model, params.seed) for t in tokens])
    if params.positional:
        # Added unscaled: sines and cosines in [-1, 1] are on the scale of the embeddings'
        # N(0, 1) entries, so positions matter without drowning the words.
        x = x + sinusoidal_encoding(len(tokens), params.d_model).double()
    return x.unsqueeze(0)


def run(params: Params, ctx: RunContext) -> RunGenerator:
    tokens = tokenize(params.text)
    labels = axis_labels(tokens)
    with torch.no_grad():
        with seeded(params.seed):
            layer = MultiHeadSelfAttention(params.d_model, params.heads).double()
        if params.projections == "identity":
            layer.set_identity()
        result = layer(embed(params, tokens), causal=params.causal,
                       temperature=params.temperature)
    weights = result.weights[0]  # [H, L, L]
    # -inf (masked) is not JSON: masked scores travel as null and draw as gaps.
    scores = [[[None if math.isinf(v) else round(v, 4) for v in row] for row in head]
              for head in result.scores[0].tolist()]
    output = result.output[0]
    head = min(params.show_head, params.heads) - 1
    weight_lists = rounded(weights.tolist(), 6)

    grid, grid_layout = heatmap_grid(weight_lists, labels,
                                     [f"head {h + 1}" for h in range(params.heads)])
    finite = result.scores[0, head][torch.isfinite(result.scores[0, head])]
    bound = float(finite.abs().max()) if finite.numel() else 1.0
    keys = category_axis(labels, tickangle=-45, automargin=True)
    queries = category_axis(labels, automargin=True)
    charts = {
        "maps": figure(grid, grid_layout),
        "head": figure([heatmap(weight_lists[head], labels, labels, zmin=0, zmax=1)],
                       {"xaxis": {**keys, "title": {"text": "key (looked at)"}},
                        "yaxis": {**queries, "title": {"text": "query (looking)"}}}),
        "scores": figure([heatmap(scores[head], labels, labels, "RdBu", -bound, bound,
                                  reversescale=True)],
                         {"xaxis": keys, "yaxis": queries}),
        "output": figure([{**heatmap(rounded(output.tolist(), 4),
                                     list(range(params.d_model)), labels, "RdBu",
                                     reversescale=True),
                           "zmid": 0, "hovertemplate": "%{y}, feature %{x}: %{z:.3f}"
                                                       "<extra></extra>"}],
                         {"xaxis": {"title": {"text": "feature"}}, "yaxis": queries}),
    }
    entropy = -(weights * weights.clamp_min(1e-12).log()).sum(-1).mean()
    metrics = {"tokens": len(tokens), "head shown": head + 1,
               "mean max weight": round(float(weights.max(-1).values.mean()), 4),
               "mean entropy (nats)": round(float(entropy), 4)}
    yield make_frame(1, 1.0, charts, metrics)
    return {"tokens": tokens, "labels": labels, "weights": weight_lists, "scores": scores,
            "output": rounded(output.tolist(), 6), "entropy": float(entropy)}


CHARTS = [
    Chart("maps", "Attention weights, every head", {"height": 340},
          "Small heatmaps, one per head: row = query token, column = key token, "
          "colour = softmax weight."),
    Chart("head", "One head's weights (softmax rows sum to 1)", {},
          "Heatmap of the selected head: each row is a query token's distribution over keys."),
    Chart("scores", "Scores QKᵀ/(√d_k·τ) before the softmax (τ = temperature)", {},
          "Heatmap of the selected head's scores, divided by the square root of the head width "
          "and by the temperature; masked entries are blank."),
    Chart("output", "Output vectors (after W_O)", {},
          "Heatmap: one row per token, one column per feature of the attention output."),
]

demo = Demo(
    slug="attention",
    title="Self-attention, head by head",
    description="Type a sentence and look at how each token spreads its attention over the "
    "others: the softmax weights of every head, the scores behind them, and the mixed "
    "output vectors.",
    Params=Params,
    charts=CHARTS,
    run=run,
    live=True,
)
