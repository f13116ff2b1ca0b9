"""Demo `attention`: type a sentence, see every head's attention map.

Each token gets a fixed random embedding (the same word always gets the same vector,
for a given seed), optionally plus a sinusoidal position, then one multi-head
self-attention layer from app/ml/attention.py mixes them. Untrained weights: the maps
show the mechanics — rows that sum to 1, the causal triangle, temperature — not meaning.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    figure,
    make_frame,
    seeded,
)
from app.demos.charts import category_axis, heatmap_chart, layout
from app.demos.figures import ATTENTION_STYLE, heatmap_grid, matrix
from app.ml.attention import MultiHeadSelfAttention, embed_tokens, row_entropy
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


class Params(DemoParams):
    text: str = Field("the cat sat on the mat because it was warm", max_length=300,
                      description=f"A sentence (at most {MAX_TOKENS} tokens)")
    d_model: int = Field(24, ge=8, le=64, description="Width of each token vector "
                         "(must be divisible by heads)", json_schema_extra=control(step=4))
    heads: int = Field(2, ge=1, le=8, description="Attention heads, each d_model/heads wide "
                       "(the slider offers the divisors of d_model)",
                       json_schema_extra=control(divides="d_model"))
    show_head: int = Field(1, ge=1, le=8, description="Which head the large maps show "
                           "(capped at the number of heads)",
                           json_schema_extra=control(label="head shown"))
    temperature: float = Field(1.0, ge=0.1, le=10.0, description="Divides the scores: low "
                               "sharpens, high flattens",
                               json_schema_extra=control(log_scale=True, label="temperature τ"))
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


def run(params: Params, ctx: RunContext) -> RunGenerator:
    tokens = tokenize(params.text)
    labels = axis_labels(tokens)
    with torch.no_grad():
        with seeded(params.seed):
            layer = MultiHeadSelfAttention(params.d_model, params.heads).double()
        if params.projections == "identity":
            layer.set_identity()
        x = embed_tokens(tokens, params.d_model, params.seed, params.positional)
        result = layer(x, causal=params.causal, temperature=params.temperature)
    weights = result.weights[0]  # [H, L, L]
    scores = result.scores[0].tolist()  # masked: -inf, drawn as a gap
    output = result.output[0].tolist()
    head = min(params.show_head, params.heads) - 1
    weight_lists = weights.tolist()

    grid, grid_layout = heatmap_grid(weight_lists, labels,
                                     [f"head {h + 1}" for h in range(params.heads)],
                                     **ATTENTION_STYLE)
    finite = result.scores[0, head][torch.isfinite(result.scores[0, head])]
    bound = float(finite.abs().max()) if finite.numel() else 1.0
    keys = category_axis(labels, tickangle=-45, automargin=True)
    queries = category_axis(labels, automargin=True)
    charts = {
        "maps": figure(grid, grid_layout),
        "head": figure([matrix(weight_lists[head], labels, labels, **ATTENTION_STYLE)],
                       layout(x=keys, y=queries)),
        "scores": figure([matrix(scores[head], labels, labels, colorscale="RdBu", reverse=True,
                                 zmin=-bound, zmax=bound, hover=ATTENTION_STYLE["hover"])],
                         layout(x=keys, y=queries)),
        "output": figure([matrix(output, list(range(params.d_model)), labels,
                                 colorscale="RdBu", reverse=True, zmid=0,
                                 hover="%{y}, feature %{x}: %{z:.3f}<extra></extra>")],
                         layout(y=queries)),
    }
    entropy = row_entropy(weights).mean()
    metrics = {"tokens": len(tokens), "head_shown": head + 1,
               "mean_max_weight": float(weights.max(-1).values.mean()),
               "mean_entropy_nats": float(entropy)}
    yield make_frame(1, 1.0, charts, metrics)
    return {"tokens": tokens, "labels": labels, "weights": weight_lists, "scores": scores,
            "output": result.output[0].tolist(), "entropy": float(entropy)}


CHARTS = [
    heatmap_chart("maps", "Attention weights, every head", height=340,
                  summary="Small heatmaps, one per head: row = query token, column = key "
                  "token, colour = softmax weight."),
    heatmap_chart("head", "One head's weights (softmax rows sum to 1)",
                  x_title="key (looked at)", y_title="query (looking)",
                  summary="Heatmap of the selected head: each row is a query token's "
                  "distribution over keys."),
    heatmap_chart("scores", "Scores QKᵀ/(√d_k·τ) before the softmax (τ = temperature)",
                  summary="Heatmap of the selected head's scores, divided by the square root "
                  "of the head width and by the temperature; masked entries are blank."),
    heatmap_chart("output", "Output vectors (after W_O)", x_title="feature",
                  summary="Heatmap: one row per token, one column per feature of the "
                  "attention output."),
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
