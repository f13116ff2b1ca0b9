"""GridWorld solvers: value iteration against hand-solved grids; the three methods agree."""

from __future__ import annotations

from collections import deque

import pytest
import torch

from app.ml.gridworld import (
    build,
    cells_reaching_a_goal,
    evaluate_policy,
    monte_carlo_control,
    parse_grid,
    policy_iteration,
    value_iteration,
)


def last(iterator):
    return deque(iterator, maxlen=1)[0]


def test_value_iteration_on_a_hand_solved_corridor():
    # S . G in a row, gamma 0.9, no step cost, goal +1:
    # V(middle) = 1 (step into the goal), V(S) = 0 + 0.9 * 1 = 0.9, V(goal) = 0.
    world = build("S.G", step_reward=0.0)
    sweep = last(value_iteration(world, gamma=0.9))
    assert sweep.V.tolist() == pytest.approx([0.9, 1.0, 0.0])
    assert sweep.policy[:2].tolist() == [1, 1]  # both go right


def test_value_iteration_around_a_wall_with_a_step_cost():
    # S # G    S at top-left must go down, right, right, up to reach G:
    # . . .    with step reward -0.1 and gamma 1: V(S) = 3 * -0.1 + (1 - 0.1) = 0.6
    world = build("S#G/...", step_reward=-0.1, goal_reward=1.0)
    V = last(value_iteration(world, gamma=1.0)).V.reshape(2, 3)
    assert V[0, 0] == pytest.approx(0.6)
    assert V[1, 0] == pytest.approx(0.7)
    assert V[1, 2] == pytest.approx(0.9)  # one step (up) from the goal
    assert V[1, 1] == pytest.approx(0.8)
    assert V[0, 1] == 0 and V[0, 2] == 0  # wall and terminal


def test_a_trap_is_avoided_when_a_detour_is_cheap():
    world = build("S.T./...G", step_reward=-0.01)
    sweep = last(value_iteration(world, gamma=0.99))
    policy = sweep.policy.reshape(2, 4)
    assert policy[0, 1] != 1  # from the cell left of the trap, never step right into it


@pytest.mark.parametrize("slip", [0.0, 0.2])
def test_policy_iteration_agrees_with_value_iteration(slip):
    world = build("S..#./..T../.#.../...../..#.G", slip=slip)
    vi = last(value_iteration(world, gamma=0.95, tol=1e-12))
    pi = last(policy_iteration(world, gamma=0.95))
    assert pi.V.tolist() == pytest.approx(vi.V.tolist(), abs=1e-8)
    # The policies may differ only where actions tie; their values must be equal.
    v_of_vi_policy = evaluate_policy(world, vi.policy, 0.95)
    assert v_of_vi_policy.tolist() == pytest.approx(pi.V.tolist(), abs=1e-8)


def test_monte_carlo_control_finds_the_optimal_policy_on_a_small_grid():
    # No traps: near a trap the epsilon-greedy policy MC learns is (rightly) more careful
    # than the optimal greedy one, so only trap-free grids must match exactly.
    world = build("S.../.#../...G", step_reward=-0.04)
    optimal = last(value_iteration(world, gamma=0.9))
    mc = last(monte_carlo_control(world, 0.9, episodes=4000, epsilon=0.1,
                                  generator=torch.Generator().manual_seed(0)))
    open_cells = ~(world.terminal | world.wall)
    # Greedy w.r.t. the learned Q reaches the goal from everywhere (a policy that loops
    # forever would be worth about -0.04 / (1 - 0.9) = -0.4), is optimal in most cells and
    # close to optimal in the rest: sample averages still carry early, poorer returns.
    v_mc = evaluate_policy(world, mc.policy, 0.9)[open_cells]
    best = optimal.V[open_cells]
    assert (v_mc > 0.3).all()
    assert (best - v_mc).max() < 0.25
    assert ((best - v_mc).abs() < 1e-6).float().mean() >= 0.8


@pytest.mark.parametrize("text,message", [
    ("", "empty"), ("S..\n..", "same number"), ("S.X.G", "unknown cell 'X'"),
    ("S...", "goal"), ("." * 11 + "G", "at most 10"),
])
def test_bad_grids_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(text)


def test_a_grid_of_goals_traps_and_walls_only_is_refused():
    # No open cell: nothing to act in, and Monte Carlo control had no cell to start from.
    for text in ("G", "GT/#G"):
        with pytest.raises(ValueError, match=r"open cell \(S or \.\)"):
            parse_grid(text)


def test_cells_reaching_a_goal_never_cross_walls_or_traps():
    # S # G      only the cell under G reaches it; S is walled off
    # . # .
    assert cells_reaching_a_goal(parse_grid("S#G/.#.")) == {5}
    # S . T . G  the trap ends every episode that walks into it
    assert cells_reaching_a_goal(parse_grid("S.T.G")) == {3}
    assert cells_reaching_a_goal(parse_grid("S.T./...G")) == {0, 1, 3, 4, 5, 6}


def test_monte_carlo_delta_is_how_much_v_moved_not_a_visit_count():
    # delta held the number of (s, a) visits so far: the demo showed max_change 2316.0.
    world = build("S..#./.#.../.#T#./...#./T...G")
    sweeps = list(monte_carlo_control(world, 0.9, episodes=100, epsilon=0.1,
                                      generator=torch.Generator().manual_seed(0), batch=2))
    before = torch.zeros_like(sweeps[0].V)
    for sweep in sweeps:
        assert sweep.delta == pytest.approx(float((sweep.V - before).abs().max()), abs=0)
        before = sweep.V
    assert sweeps[-1].delta < 0.1  # a late batch moves the values a little
