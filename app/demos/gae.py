"""Demo `gae`: advantages of a short episode under γ and λ, next to the λ = 0 and λ = 1 extremes.

The student types rewards and the critic's values as comma-separated numbers. They are
parsed by a regular expression (never evaluated) and bounded.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    figure,
    make_frame,
)
from app.demos.charts import bar_chart, bars, layout, line
from app.ml.gae import gae_direct
from app.ml.tokens import visible_symbols

MAX_NUMBERS = 30
MAX_ABS = 1000.0
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def parse_numbers(field: str, text: str) -> list[float]:
    """Comma- (or space-) separated numbers, each within ±1000, at most 30 of them.

    Invisible characters (a zero-width space pasted with the numbers) are dropped first,
    as the tokeniser of every demo drops them.
    """
    visible = visible_symbols(text)
    items = [item for item in re.split(r"[,\s;]+", visible.strip()) if item]
    if not items and visible != text:
        raise ValueError(f"{field}: has no visible number (only spaces or invisible "
                         "characters); enter at least one number, e.g. 1, 0, 2")
    if not items:
        raise ValueError(f"{field}: enter at least one number, e.g. 1, 0, 2")
    if len(items) > MAX_NUMBERS:
        raise ValueError(f"{field}: at most {MAX_NUMBERS} numbers, got {len(items)}")
    numbers = []
    for position, item in enumerate(items, start=1):
        if not NUMBER.fullmatch(item):
            raise ValueError(f"{field}: item {position} ({item[:12]!r}) is not a number")
        value = float(item)
        if not -MAX_ABS <= value <= MAX_ABS:
            raise ValueError(f"{field}: item {position} must be between -1000 and 1000")
        numbers.append(value)
    return numbers


class Params(DemoParams):
    rewards: str = Field("0, 0, 0, 0, 1, 0, 0, 0, 0, 10", max_length=400,
                         description="Rewards r_0, r_1, ... (comma-separated, at most 30)")
    values: str = Field("1, 1, 1, 1, 1, 1, 1, 1, 1, 1", max_length=400,
                        description="Critic values V(s_0), V(s_1), ...; one per reward, and an "
                        "optional extra one for the state after the last reward (else 0: "
                        "the episode ended)",
                        json_schema_extra=control(length_of="rewards", length_extra=1))
    gamma: float = Field(0.9, ge=0.0, le=1.0, description="Discount factor γ",
                         json_schema_extra=control(label="γ (discount)"))
    lam: float = Field(0.8, ge=0.0, le=1.0, description="GAE λ", json_schema_extra=control(
        label="λ"))

    @field_validator("rewards", "values")
    @classmethod
    def _numbers(cls, text: str, info) -> str:
        parse_numbers(info.field_name, text)
        return text

    @model_validator(mode="after")
    def _lengths(self) -> Params:
        n_r, n_v = len(self.reward_list()), len(parse_numbers("values", self.values))
        if n_v not in (n_r, n_r + 1):
            raise ValueError(f"values: rewards has {n_r} numbers, so values needs {n_r} or "
                             f"{n_r + 1} (one per reward, plus an optional value of the state "
                             f"after the last); got {n_v}")
        return self

    def reward_list(self) -> list[float]:
        return parse_numbers("rewards", self.rewards)

    def value_list(self) -> list[float]:
        """Values with the final state's value appended (0 when the episode ended)."""
        values = parse_numbers("values", self.values)
        return values if len(values) > len(self.reward_list()) else values + [0.0]


CHARTS = [
    bar_chart("episode", "The episode: rewards and the critic's values", x_title="time step t",
              x={"dtick": 1},
              series=[bars("reward r_t"), line("value V(s_t)", markers=True,
                                               line={"dash": "dot"})],
              summary="Bars: reward at each step. Line: the critic's value estimate of each "
              "state."),
    bar_chart("advantages", "Advantage estimates A_t", x_title="time step t", x={"dtick": 1},
              series=[bars("λ = 0 (TD error)"), bars("λ (yours)"), bars("λ = 1 (Monte Carlo)")],
              summary="Grouped bars per step: advantages with λ = 0 (TD error), the chosen λ, "
              "and λ = 1 (Monte Carlo return minus value)."),
]


def run(params: Params, ctx: RunContext) -> RunGenerator:
    rewards, values = params.reward_list(), params.value_list()
    steps = list(range(len(rewards)))
    td = gae_direct(rewards, values, params.gamma, 0.0)
    chosen = gae_direct(rewards, values, params.gamma, params.lam)
    mc = gae_direct(rewards, values, params.gamma, 1.0)
    # γ = 0 weighs every later step by 0: λ has nothing left to mix, and the three
    # estimates coincide. Say so, or the λ slider seems broken.
    note = ("with γ = 0 no later step counts: every advantage is the TD error "
            "r_t − V(s_t), whatever λ") if params.gamma == 0 else None
    yield make_frame(1, 1.0, {
        "episode": figure([
            bars("reward r_t", steps, rewards),
            line("value V(s_t)", steps + [len(rewards)], values, markers=True,
                 line={"dash": "dot"}),
        ]),
        "advantages": figure([
            bars("λ = 0 (TD error)", steps, td),
            bars(f"λ = {params.lam:g} (yours)", steps, chosen),
            bars("λ = 1 (Monte Carlo)", steps, mc),
        ], layout(title="⚠ γ = 0: λ changes nothing" if note else None)),
    }, {"gamma_lambda": params.gamma * params.lam, "advantage_0": chosen[0],
        **({"note": note} if note else {})})
    return {"advantages": chosen, "td_errors": td, "monte_carlo": mc, "note": note}


demo = Demo(
    slug="gae",
    title="Generalised advantage estimation",
    description="Type a short episode's rewards and the critic's values; slide γ and λ and "
    "watch the advantages move between the TD error (λ = 0) and the Monte Carlo estimate "
    "(λ = 1).",
    Params=Params,
    charts=CHARTS,
    run=run,
    metric_labels={"gamma_lambda": "γλ", "advantage_0": "A₀"},
)
