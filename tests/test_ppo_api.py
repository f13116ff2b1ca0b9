"""The RL lesson's demos through the HTTP API: results users rely on, and 422s."""

from __future__ import annotations

import pytest

from tests.helpers import make_client, read_stream


def test_ppo_run_reports_solved_step_seconds_and_final_mean(client):
    response = client.post("/api/demos/ppo-cartpole/run", json={"seed": 0})
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["final_mean_return"] >= 475
    assert 0 < result["solved_at_step"] <= 100_000
    # Reported, and consistent with the run it belongs to: solved before the run ended.
    assert 0 < result["solved_at_seconds"] <= response.json()["seconds"]
    assert result["greedy_episode_length"] == 500


def test_ppo_run_that_cannot_solve_reports_none(client):
    body = {"seed": 1, "total_steps": 10_000, "learning_rate": 1e-4}
    result = client.post("/api/demos/ppo-cartpole/run", json=body).json()["result"]
    assert result["solved_at_step"] is None and result["solved_at_seconds"] is None
    assert 0 < result["final_mean_return"] < 475


def test_ppo_activation_control_changes_the_training(client):
    body = {"seed": 2, "total_steps": 10_000, "stop_when_solved": False}
    relu, tanh = (client.post("/api/demos/ppo-cartpole/run", json=body | {"activation": a})
                  .json()["result"] for a in ("relu", "tanh"))
    assert relu["episodes"] != tanh["episodes"]
    response = client.post("/api/demos/ppo-cartpole/run", json={"activation": "sigmoid"})
    assert response.status_code == 422 and "activation" in response.text


def test_ppo_params_are_ppo_config_declared_once():
    from dataclasses import fields

    from app.demos.ppo_cartpole import Params
    from app.ml.ppo import PPOConfig

    # The demo's defaults are the algorithm's, and each control's help is the config's.
    assert Params().config() == PPOConfig()
    config = {spec.name: spec for spec in fields(PPOConfig)}
    for name, info in Params.model_fields.items():
        if name != "seed":
            assert info.default == config[name].default, name
            assert info.description == config[name].metadata["help"], name


def test_ppo_rejects_out_of_range_params_naming_the_field(client):
    response = client.post("/api/demos/ppo-cartpole/run", json={"clip_eps": 0.9})
    assert response.status_code == 422
    assert "clip_eps" in response.text


def test_gae_text_is_parsed_never_evaluated(client):
    for bad in ["1, 2, __import__('os')", "1e999", "nan", ",".join(["1"] * 31), "2000"]:
        response = client.post("/api/demos/gae/run", json={"rewards": bad})
        assert response.status_code == 422, bad
        assert "rewards" in response.text


def test_gridworld_value_iteration_result_and_bad_grid(client):
    body = {"grid": "S.G", "step_reward": 0.0, "gamma": 0.9}
    result = client.post("/api/demos/gridworld/run", json=body).json()["result"]
    assert result["values"] == [0.9, 1.0, 0.0]
    response = client.post("/api/demos/gridworld/run", json={"grid": "S.X/..G"})
    assert response.status_code == 422
    assert "unknown cell 'X'" in response.text


@pytest.fixture(scope="module")
def short_client():
    # A two-second budget: long configurations stop early and still report their result.
    with make_client(max_jobs=1, max_queue=4, job_seconds=2) as c:
        yield c


def refusal(client, slug: str, body: dict) -> str:
    response = client.post(f"/api/demos/{slug}/run", json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    return error["field"] + " | " + error["message"]


def test_ppo_minibatches_of_one_row_train_instead_of_failing(short_client):
    # The example: a minibatch of one row had a NaN standard deviation, every
    # weight turned NaN and the frame was not JSON: a 500. Now it trains until its budget.
    body = {"n_envs": 1, "n_steps": 8, "minibatches": 8, "total_steps": 10_000}
    response = short_client.post("/api/demos/ppo-cartpole/run", json=body)
    assert response.status_code == 200, response.text
    outcome = response.json()
    # How many updates fit in the budget depends on the machine's load; that it trained
    # on finite numbers does not (NaN would travel as the string "nan").
    assert outcome["stopped"] == "time_budget" and outcome["result"]["updates"] >= 1
    assert "nan" not in response.text and "inf" not in response.text


def test_ppo_refuses_more_minibatches_than_rows_naming_the_sizes(short_client):
    body = {"n_envs": 1, "n_steps": 8, "minibatches": 16}
    assert refusal(short_client, "ppo-cartpole", body) == (
        "minibatches | minibatches: 16 minibatches need at least 16 transitions per rollout, "
        "but n_envs × n_steps = 1 × 8 = 8; choose minibatches ≤ 8 or n_steps ≥ 16")
    for works in ({"minibatches": 8}, {"n_steps": 16}):
        response = short_client.post("/api/demos/ppo-cartpole/run", json=body | works)
        assert response.status_code == 200


def test_ppo_refuses_a_rollout_longer_than_the_whole_training(short_client):
    body = {"n_envs": 128, "n_steps": 256, "total_steps": 10_000}
    assert refusal(short_client, "ppo-cartpole", body) == (
        "total_steps | total_steps: 10000 is less than one rollout of n_envs × n_steps = "
        "128 × 256 = 32768 steps; raise total_steps to 32768 or lower n_steps to 78")
    result = short_client.post("/api/demos/ppo-cartpole/run",
                               json=body | {"n_steps": 78}).json()["result"]
    assert result["env_steps"] == 9984  # one rollout, within the 10000 asked for


def test_gridworld_without_an_open_cell_is_refused_not_a_500(short_client):
    # The example: Monte Carlo control had no cell to start an episode from.
    body = {"grid": "G", "algorithm": "monte carlo", "episodes": 100}
    assert refusal(short_client, "gridworld", body) == (
        'grid | grid: needs at least one open cell (S or .) to move from, e.g. S.G; got "G"')
    result = short_client.post("/api/demos/gridworld/run",
                               json=body | {"grid": "S.G"}).json()["result"]
    assert result["policy"][:2] == [1, 1]  # both open cells learn to go right


@pytest.mark.parametrize("algorithm", ["value iteration", "policy iteration", "monte carlo"])
def test_gridworld_with_the_goal_walled_off_says_so(short_client, algorithm):
    body = {"grid": "S.#G/..#.", "algorithm": algorithm, "episodes": 100}
    result = short_client.post("/api/demos/gridworld/run", json=body).json()["result"]
    assert result["note"].startswith("no path leads from the start S to a goal G")
    reachable = short_client.post("/api/demos/gridworld/run",
                                  json=body | {"grid": "S..G/..#."}).json()["result"]
    assert reachable["note"] is None


def test_gridworld_chart_title_says_the_goal_is_out_of_reach(short_client):
    body = {"grid": "S.#G/..#.", "gamma": 0.5}  # a few sweeps: a short stream
    events = read_stream(short_client, "/api/demos/gridworld/stream", params=body)
    titles = [data["charts"]["values"]["layout"]["title"]["text"] for event, data in events
              if event == "frame" and "values" in data["charts"]]
    assert titles and all(title.endswith("⚠ no path to a goal") for title in titles)
    assert events[-1][1]["result"]["note"]


def test_gridworld_reports_a_start_value_only_when_there_is_a_start(short_client):
    def start_values(grid: str) -> list:
        events = read_stream(short_client, "/api/demos/gridworld/stream",
                             params={"grid": grid, "gamma": 0.5, "step_reward": 0.0})
        return [data["metrics"].get("start_value") for event, data in events
                if event == "frame" and "iteration" in data["metrics"]][:-1]

    assert start_values("S.G")[-1] == 0.5  # V(S) = γ · 1: the goal's +1 comes a move later
    assert set(start_values("..G")) == {None}  # no S: no made-up 0.0
