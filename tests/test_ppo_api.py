"""The RL lesson's demos through the HTTP API: results users rely on, and 422s."""

from __future__ import annotations


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


def test_ppo_rejects_out_of_range_params_naming_the_field(client):
    response = client.post("/api/demos/ppo-cartpole/run", json={"clip_eps": 0.9})
    assert response.status_code == 422
    assert "clip_eps" in response.text


def test_gae_advantages_equal_the_direct_sum(client):
    body = {"rewards": "1, 0, 2", "values": "0.5, 1, 1", "gamma": 1.0, "lam": 0.5}
    result = client.post("/api/demos/gae/run", json=body).json()["result"]
    assert result["advantages"] == [1.75, 0.5, 1.0]  # the lesson's exercise
    assert result["td_errors"] == [1.5, 0.0, 1.0]
    assert result["monte_carlo"] == [2.5, 1.0, 1.0]


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
