"""Wall time to solve CartPole-v1: LiveGrad's streamed PPO demo against Stable-Baselines3.

Ours is measured through the real streaming path: the app runs under uvicorn in its own
process, as ``make run`` starts it (a browser is another process too, so the client here
does not share the server's interpreter), and we read
``GET /api/demos/ppo-cartpole/stream`` with default parameters, timing from sending the
request to the frame whose ``metrics.mean_return_20`` >= 475.
Stable-Baselines3 PPO uses rl-zoo's tuned CartPole-v1 hyperparameters and is timed to
the same threshold (mean of its last 20 finished episodes). Median over 5 seeds each;
prints the ratio (SB3 / ours, so > 1 means ours is faster). The machine may be shared:
numbers are pessimistic when other jobs run.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import httpx
import torch

from tests.helpers import ServerProcess  # the test suite's real-server harness

SEEDS = range(5)
THRESHOLD = 475.0
SB3_BUDGET = 300_000  # environment steps before giving up on a seed


def ours(url: str, seed: int) -> float | None:
    """Seconds from the request to the first streamed frame reporting a solved mean."""
    start = time.perf_counter()
    solved = None
    with httpx.stream("GET", f"{url}/api/demos/ppo-cartpole/stream", params={"seed": seed},
                      timeout=120) as response:
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "frame" and solved is None:
                frame = json.loads(line[5:])
                if frame["metrics"].get("mean_return_20", 0) >= THRESHOLD:
                    solved = time.perf_counter() - start
            elif event in ("done", "error"):
                break  # read to the end so the job finishes before the next one starts
    return solved


def sb3(seed: int) -> float | None:
    """Seconds for SB3 PPO (rl-zoo CartPole-v1 settings) until its last-20 mean >= 475."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    def linear(value: float):
        return lambda progress: progress * value

    class StopWhenSolved(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.returns: list[float] = []
            self.solved_at: float | None = None

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.returns.append(info["episode"]["r"])
            if len(self.returns) >= 20 and statistics.mean(self.returns[-20:]) >= THRESHOLD:
                self.solved_at = time.perf_counter()
                return False
            return True

    start = time.perf_counter()
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
                n_epochs=20, ent_coef=0.0, learning_rate=linear(0.001), clip_range=linear(0.2),
                seed=seed, device="cpu", verbose=0)
    callback = StopWhenSolved()
    model.learn(SB3_BUDGET, callback=callback)
    return callback.solved_at - start if callback.solved_at else None


def summary(name: str, times: list[float | None]) -> float:
    solved = [t for t in times if t is not None]
    shown = ", ".join(f"{t:.2f}" if t is not None else "unsolved" for t in times)
    median = statistics.median([t if t is not None else float("inf") for t in times])
    print(f"{name:<34} median {median:6.2f} s   solved {len(solved)}/{len(times)}   [{shown}]")
    return median


def main() -> None:
    print(f"CartPole-v1 to mean-of-last-20 >= {THRESHOLD:g}, seeds {list(SEEDS)}, "
          f"{os.cpu_count()} CPUs (shared machines make both numbers pessimistic)")
    with ServerProcess(cache_mb=0) as server:  # no cache: every seed must really train
        url = server.url
        cold = ours(url, SEEDS[0])  # the first run the server ever does
        mine = summary("LiveGrad ppo-cartpole (streamed)", [ours(url, s) for s in SEEDS])
    print(f"{'  first run after server start':<34} seed {SEEDS[0]}: {cold:.2f} s")
    torch.set_num_threads(1)
    theirs = summary("SB3 PPO, rl-zoo settings", [sb3(s) for s in SEEDS])
    print(f"ratio SB3 / LiveGrad: {theirs / mine:.2f}x   (goal: ours <= 1.5 s)")


if __name__ == "__main__":
    main()
