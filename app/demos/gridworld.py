"""Demo `gridworld`: value iteration, policy iteration or Monte Carlo control, sweep by sweep.

The student writes the grid as text (S start, . floor, # wall, G goal, T trap; rows
separated by ``/`` or new lines). Each frame redraws the value heatmap with the greedy
policy as arrows, and extends the "how much did V change" curve.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    extend,
    figure,
    make_frame,
)
from app.demos.charts import INTEGER_AXIS, heatmap, heatmap_chart, layout, line, line_chart
from app.demos.figures import cell_labels
from app.ml.gridworld import (
    ARROWS,
    GridWorld,
    Sweep,
    build,
    cells_reaching_a_goal,
    monte_carlo_control,
    parse_grid,
    policy_iteration,
    value_iteration,
)
from app.ml.tokens import visible_symbols

MAX_FRAMES = 60
DEFAULT_GRID = "S..#./.#.../.#T#./...#./T...G"


class Params(DemoParams):
    grid: str = Field(DEFAULT_GRID, max_length=120, description="The grid, rows separated by / "
                      "(S start, . floor, # wall, G goal, T trap; at most 10 x 10)")
    algorithm: Literal["value iteration", "policy iteration", "monte carlo"] = Field(
        "value iteration", description="How to find the best policy")
    gamma: float = Field(0.9, ge=0.5, le=0.99, description="Discount factor γ",
                         json_schema_extra=control(label="γ (discount)"))
    step_reward: float = Field(-0.04, ge=-0.5, le=0.5, description="Reward for every move "
                               "(negative: hurry up)")
    slip: float = Field(0.0, ge=0.0, le=0.6, description="Chance a move goes sideways instead")
    episodes: int = Field(2000, ge=100, le=5000, description="Episodes of Monte Carlo control",
                          json_schema_extra=control(show_if={"algorithm": "monte carlo"}))
    epsilon: float = Field(0.1, ge=0.01, le=0.5, description="Exploration rate ε of Monte "
                           "Carlo control", json_schema_extra=control(
                               label="ε (exploration)", show_if={"algorithm": "monte carlo"}))

    @field_validator("grid")
    @classmethod
    def _valid_grid(cls, text: str) -> str:
        # Pasted text brings zero-width spaces and byte-order marks nobody can see: drop
        # them as the tokeniser of every demo does, rather than call them unknown cells.
        text = visible_symbols(text)
        if not text.strip():
            raise ValueError("grid: has no visible cell (only spaces or invisible "
                             "characters); write rows like S..G")
        parse_grid(text)  # raises "grid: ..." messages the API turns into a 422
        return text


# Goal and trap differ in symbol, word and colour (not by colour alone): a green star
# "goal" and a red cross "trap", each on a box of its own tint.
SYMBOL = "<span style='font-size:16px'>{}</span>"
END_CELLS: dict[str, dict[str, str]] = {
    "G": {"text": f"<b>{SYMBOL.format('★')}<br>goal</b>", "color": "#14532d",
          "background": "rgba(187,247,208,0.92)"},
    "T": {"text": f"<b>{SYMBOL.format('✖')}<br>trap</b>", "color": "#7f1d1d",
          "background": "rgba(254,202,202,0.92)"},
}
DELTA_LINE = line("max |ΔV|", markers=True)
CHARTS = [
    heatmap_chart("values", "State values V(s) and the greedy policy",
                  x={"showgrid": False, "zeroline": False, "dtick": 1},
                  y={"showgrid": False, "zeroline": False, "dtick": 1, "autorange": "reversed",
                     "scaleanchor": "x"},
                  summary="Heatmap of each cell's value; arrows show the action the policy "
                  "takes; a green star marks goals, a red cross traps, walls are blank."),
    line_chart("delta", "Largest change in V per sweep", x_title="sweep", y_title="max |ΔV|",
               integer_x=True,
               log_y=True, lines=[DELTA_LINE],
               summary="Line chart of the largest change of any state value at each sweep."),
]


def value_figure(world: GridWorld, sweep: Sweep, title: str) -> dict:
    """The values as a heatmap (walls blank), each cell labelled with its arrow, G or T."""
    n_rows, n_cols = world.shape
    cells = "".join(world.rows)
    values = sweep.V.tolist()

    def label(s: int) -> str:
        if cells[s] in END_CELLS:
            return END_CELLS[cells[s]]["text"]
        return ARROWS[int(sweep.policy[s])] + ("<br>start" if cells[s] == "S" else "")

    def style(s: int, key: str, default: str) -> str:
        return END_CELLS[cells[s]][key] if cells[s] in END_CELLS else default

    grid = [range(r * n_cols, (r + 1) * n_cols) for r in range(n_rows)]
    z = [[None if cells[s] == "#" else values[s] for s in row] for row in grid]
    texts = [["" if cells[s] == "#" else label(s) for s in row] for row in grid]
    sizes = [[12 if cells[s] in END_CELLS else 18 for s in row] for row in grid]
    heat = heatmap(z, colorscale="Viridis", colorbar_title="V(s)", zsmooth=False, xgap=2,
                   ygap=2, hover="row %{y}, column %{x}<br>V = %{z}<extra></extra>")
    return figure([heat], layout(title=title, annotations=cell_labels(
        texts, size=sizes, color=[[style(s, "color", "#111") for s in row] for row in grid],
        background=[[style(s, "background", "rgba(255,255,255,0.6)") for s in row]
                    for row in grid])))


def unreachable_goal(world: GridWorld) -> str | None:
    """A sentence when no start (any open cell if no S is marked) can ever reach a goal."""
    cells = "".join(world.rows)
    starts = {s for s, cell in enumerate(cells) if cell == "S"}
    where = "the start S" if starts else "any open cell"
    starts = starts or {s for s, cell in enumerate(cells) if cell == "."}
    if starts & cells_reaching_a_goal(world.rows):
        return None
    return (f"no path leads from {where} to a goal G (walls or traps block every way), so "
            "no policy can win: the values only add up step rewards and traps")


def sweep_metrics(sweep: Sweep, unit: str, start: int) -> dict:
    """What every frame reports, the last one included: where the solver is, how much V
    moved in its last step, and the start's value."""
    return {"episodes" if unit == "episodes" else "iteration": sweep.iteration,
            "max_change": sweep.delta,
            # No S marked: no start value to show (a 0.0 here would look like a real one).
            **({"start_value": float(sweep.V[start])} if start >= 0 else {})}


def run(params: Params, ctx: RunContext) -> RunGenerator:
    world = build(params.grid, step_reward=params.step_reward, slip=params.slip)
    note = unreachable_goal(world)
    # Shown in the chart's title at every frame, and returned with the result.
    warning = " · ⚠ no path to a goal" if note else ""
    if params.algorithm == "value iteration":
        sweeps = value_iteration(world, params.gamma, tol=1e-4, max_sweeps=MAX_FRAMES)
        unit = "sweep"
    elif params.algorithm == "policy iteration":
        sweeps = policy_iteration(world, params.gamma, max_iterations=MAX_FRAMES)
        unit = "policy iteration"
    else:
        batch = max(1, params.episodes // 40)
        sweeps = monte_carlo_control(world, params.gamma, params.episodes, params.epsilon,
                                     torch.Generator().manual_seed(params.seed), batch=batch)
        unit = "episodes"
    if unit == "episodes":  # its steps are batches of episodes: its curve counts episodes
        yield make_frame(0, 0.0, {"delta": figure([DELTA_LINE], layout("episodes played",
                                                                   x=INTEGER_AXIS))})
    start = "".join(world.rows).find("S")  # -1: no start cell marked
    total = params.episodes if unit == "episodes" else MAX_FRAMES
    sweep = None
    for sweep in sweeps:
        if ctx.should_stop():
            break
        label = f"{unit} {sweep.iteration}" if unit != "episodes" else (
            f"after {sweep.iteration} episodes")
        yield make_frame(sweep.iteration, sweep.iteration / total, {
            "values": value_figure(world, sweep, label + warning),
            "delta": extend([0], [[sweep.iteration]], [[max(sweep.delta, 1e-6)]]),
        }, sweep_metrics(sweep, unit, start))
    assert sweep is not None
    if unit == "episodes":
        verdict = f"greedy policy after {sweep.iteration} episodes"
    elif sweep.iteration < MAX_FRAMES:
        verdict = f"converged: {unit} {sweep.iteration}"
    else:
        verdict = f"stopped after {MAX_FRAMES} {unit}s"
    yield make_frame(sweep.iteration + 1, 1.0,
                     {"values": value_figure(world, sweep, verdict + warning)},
                     sweep_metrics(sweep, unit, start) | ({"note": note} if note else {}))
    return {"iterations": sweep.iteration, "values": sweep.V.tolist(),
            "policy": sweep.policy.tolist(), "max_change": sweep.delta,
            "start_value": float(sweep.V[start]) if start >= 0 else None, "note": note}


demo = Demo(
    slug="gridworld",
    title="GridWorld: planning and learning values",
    description="Draw a grid with walls, traps and a goal; watch value iteration, policy "
    "iteration or Monte Carlo control fill in the values and turn the arrows.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.15,
    metric_labels={"max_change": "max |ΔV|", "start_value": "V(start)"},
)
