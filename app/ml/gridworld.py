"""A small GridWorld and three ways to solve it: value iteration, policy iteration and
Monte Carlo control.

The grid is text, one row per line (or rows separated by ``/``)::

    S..#
    ..T.
    ...G

``S`` start, ``.`` floor, ``#`` wall, ``G`` goal (+reward, episode ends), ``T`` trap
(-reward, episode ends). Moving into a wall or off the grid leaves the agent in place.
With ``slip`` > 0 a move goes sideways (each perpendicular direction with ``slip / 2``).

The first two methods are *model-based*: they read the transition table ``P[s, a, s']``.
Monte Carlo control is *model-free*: it only plays episodes and averages their returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

ACTIONS = ["up", "right", "down", "left"]
MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]
ARROWS = ["↑", "→", "↓", "←"]
MAX_SIDE = 10


@dataclass
class GridWorld:
    """A parsed grid with its transition table ``P`` [S, A, S] and rewards ``R`` [S, A, S]."""

    rows: list[str]
    P: Tensor
    R: Tensor
    terminal: Tensor  # [S] bool: goal and trap cells end the episode
    wall: Tensor  # [S] bool

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])


def parse_grid(text: str) -> list[str]:
    """Rows of the grid, validated: rectangular, at most 10 x 10, known cells, one goal."""
    rows = [row.strip() for row in text.replace("/", "\n").splitlines() if row.strip()]
    if not rows:
        raise ValueError("grid: empty; write rows like S..G")
    if len(rows) > MAX_SIDE or max(len(r) for r in rows) > MAX_SIDE:
        raise ValueError(f"grid: at most {MAX_SIDE} rows of at most {MAX_SIDE} cells")
    if len({len(r) for r in rows}) != 1:
        raise ValueError("grid: every row needs the same number of cells")
    for i, row in enumerate(rows, start=1):
        for j, cell in enumerate(row, start=1):
            if cell not in "S.#GT":
                raise ValueError(f"grid: row {i}, column {j}: unknown cell {cell!r} "
                                 "(use S . # G T)")
    if not any("G" in row for row in rows):
        raise ValueError("grid: needs at least one goal G")
    if not any(cell in "S." for row in rows for cell in row):
        # Goals, traps and walls only: no state to act in, no episode to start.
        raise ValueError("grid: needs at least one open cell (S or .) to move from, "
                         "e.g. S.G")
    return rows


def cells_reaching_a_goal(rows: list[str]) -> set[int]:
    """Open cells (S or .) from which some path of moves reaches a goal G.

    A path may not cross walls, nor traps (they end the episode). Slipping only moves
    sideways, to neighbours the agent could also have chosen, so it changes no path.
    """
    n_rows, n_cols = len(rows), len(rows[0])
    cells = "".join(rows)
    frontier = [s for s, cell in enumerate(cells) if cell == "G"]
    reached: set[int] = set()
    while frontier:  # breadth-first from the goals, backwards along the moves
        r, c = divmod(frontier.pop(), n_cols)
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            s = nr * n_cols + nc
            if 0 <= nr < n_rows and 0 <= nc < n_cols and cells[s] in "S." and s not in reached:
                reached.add(s)
                frontier.append(s)
    return reached


def build(text: str, step_reward: float = -0.04, goal_reward: float = 1.0,
          trap_reward: float = -1.0, slip: float = 0.0) -> GridWorld:
    """The GridWorld for ``text``: transition probabilities and rewards of every move."""
    rows = parse_grid(text)
    n_rows, n_cols = len(rows), len(rows[0])
    n = n_rows * n_cols
    cells = "".join(rows)
    P = torch.zeros(n, 4, n, dtype=torch.float64)
    R = torch.zeros(n, 4, n, dtype=torch.float64)
    terminal = torch.tensor([c in "GT" for c in cells])
    wall = torch.tensor([c == "#" for c in cells])

    def target(s: int, move: int) -> int:
        r, c = divmod(s, n_cols)
        nr, nc = r + MOVES[move][0], c + MOVES[move][1]
        if 0 <= nr < n_rows and 0 <= nc < n_cols and cells[nr * n_cols + nc] != "#":
            return nr * n_cols + nc
        return s  # bumped into a wall or the edge

    for s in range(n):
        if terminal[s] or wall[s]:
            continue  # absorbing (terminal) or unreachable (wall): no outgoing moves
        for a in range(4):
            for move, p in ((a, 1 - slip), ((a + 1) % 4, slip / 2), ((a + 3) % 4, slip / 2)):
                if p == 0:
                    continue
                s2 = target(s, move)
                P[s, a, s2] += p
                bonus = goal_reward if cells[s2] == "G" else trap_reward if cells[s2] == "T" else 0
                R[s, a, s2] = step_reward + bonus
    return GridWorld(rows, P, R, terminal, wall)


def q_from_v(world: GridWorld, V: Tensor, gamma: float) -> Tensor:
    """Q(s, a) = sum_s' P(s'|s,a) (R(s,a,s') + gamma V(s')), for every state at once."""
    return (world.P * (world.R + gamma * V[None, None, :])).sum(-1)


@dataclass
class Sweep:
    """One step of a solver: the values, the greedy policy, and how much V changed."""

    iteration: int
    V: Tensor  # [S]
    policy: Tensor  # [S] action index
    delta: float  # largest |change| of any V(s) since the previous step (V starts at 0)


def value_iteration(world: GridWorld, gamma: float, tol: float = 1e-8,
                    max_sweeps: int = 1000) -> Iterator[Sweep]:
    """Bellman optimality backups V(s) <- max_a Q(s, a), one sweep per yield."""
    V = torch.zeros(world.P.shape[0], dtype=torch.float64)
    for k in range(1, max_sweeps + 1):
        Q = q_from_v(world, V, gamma)
        new_V = torch.where(world.terminal | world.wall, 0.0, Q.max(dim=1).values)
        delta = float((new_V - V).abs().max())
        V = new_V
        yield Sweep(k, V, Q.argmax(dim=1), delta)
        if delta < tol:
            return


def evaluate_policy(world: GridWorld, policy: Tensor, gamma: float) -> Tensor:
    """V of a deterministic policy, exactly: solve (I - gamma P_pi) V = r_pi."""
    n = world.P.shape[0]
    idx = torch.arange(n)
    P_pi = world.P[idx, policy]  # [S, S]
    r_pi = (P_pi * world.R[idx, policy]).sum(-1)
    # Terminal and wall rows of P are zero, so their V comes out 0. With gamma = 1 a
    # policy that never ends makes the system singular; a tiny ridge keeps it solvable.
    A = torch.eye(n, dtype=torch.float64) - gamma * P_pi
    if gamma >= 1.0:
        A = A + 1e-9 * torch.eye(n, dtype=torch.float64)
    return torch.linalg.solve(A, r_pi)


def policy_iteration(world: GridWorld, gamma: float, max_iterations: int = 100) -> Iterator[Sweep]:
    """Evaluate the policy exactly, act greedily on it, repeat until the policy is stable."""
    n = world.P.shape[0]
    policy = torch.zeros(n, dtype=torch.long)
    V = torch.zeros(n, dtype=torch.float64)
    for k in range(1, max_iterations + 1):
        new_V = evaluate_policy(world, policy, gamma)
        Q = q_from_v(world, new_V, gamma)
        # Keep the current action on ties, or the policy could flip between equals forever.
        best = Q.max(dim=1).values
        keep = Q.gather(1, policy[:, None]).squeeze(1) >= best - 1e-12
        new_policy = torch.where(keep, policy, Q.argmax(dim=1))
        delta = float((new_V - V).abs().max())
        V = new_V
        stable = bool((new_policy == policy).all())
        policy = new_policy
        yield Sweep(k, V, policy, delta)
        if stable:
            return


def sample_next(outcomes: list[tuple[int, float, float]], roll: float) -> tuple[int, float]:
    """Next state and reward drawn from ``(state, probability, reward)`` with ``roll`` in [0, 1)."""
    cumulative = 0.0
    for s2, p, r in outcomes:
        cumulative += p
        if roll < cumulative:
            return s2, r
    return outcomes[-1][0], outcomes[-1][2]  # roll landed in rounding error at the top


def monte_carlo_control(world: GridWorld, gamma: float, episodes: int, epsilon: float,
                        generator: torch.Generator, batch: int = 50,
                        max_length: int = 200) -> Iterator[Sweep]:
    """Every-visit Monte Carlo control with exploring starts and an epsilon-greedy policy.

    Each episode starts in a random open cell with a random first action, follows the
    epsilon-greedy policy on the current Q, and every visited (s, a) moves its Q towards
    the average of the returns that followed it. Yields after every ``batch`` episodes;
    the Sweep's ``delta`` is how much V moved over those episodes, as for the planners.
    """
    n = world.P.shape[0]
    # Episodes are long chains of tiny steps: plain Python lists are far faster here than
    # one-element tensors. Each (s, a) keeps its possible next states and cumulative odds.
    outcomes = [[[(int(s2), float(world.P[s, a, s2]), float(world.R[s, a, s2]))
                  for s2 in torch.nonzero(world.P[s, a])[:, 0]] for a in range(4)]
                for s in range(n)]
    terminal = world.terminal.tolist()
    Q = [[0.0] * 4 for _ in range(n)]
    counts = [[0] * 4 for _ in range(n)]
    starts = torch.nonzero(~(world.terminal | world.wall))[:, 0].tolist()
    V_before = torch.zeros(n, dtype=torch.float64)
    for k in range(1, episodes + 1):
        u = torch.rand(max_length * 3 + 2, generator=generator).tolist()  # this episode's dice
        s = starts[int(u[-1] * len(starts))]
        a = int(u[-2] * 4)
        visits: list[tuple[int, int, float]] = []
        for t in range(max_length):
            s2, r = sample_next(outcomes[s][a], u[3 * t])
            visits.append((s, a, r))
            if terminal[s2]:
                break
            s = s2
            greedy = max(range(4), key=Q[s].__getitem__)
            a = int(u[3 * t + 2] * 4) if u[3 * t + 1] < epsilon else greedy
        G = 0.0
        for s_t, a_t, r_t in reversed(visits):  # returns computed backwards in one pass
            G = r_t + gamma * G
            counts[s_t][a_t] += 1
            Q[s_t][a_t] += (G - Q[s_t][a_t]) / counts[s_t][a_t]  # incremental mean
        if k % batch == 0 or k == episodes:
            q = torch.tensor(Q, dtype=torch.float64)
            V = torch.where(world.terminal | world.wall, 0.0, q.max(dim=1).values)
            yield Sweep(k, V, q.argmax(dim=1), float((V - V_before).abs().max()))
            V_before = V
