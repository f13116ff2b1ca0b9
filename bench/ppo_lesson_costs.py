"""What lessons/ppo.md says about CPU cost, measured: timings, so here and not in tests/.

Each check quotes its sentence (``lesson_says`` fails if the sentence changed), measures
in this process on one thread, and prints the measured value beside the range the
sentence implies, with PASS or FAIL. The machine may be shared, so whatever is compared
is measured in lockstep (a slice of one, then a slice of the other) and each cost is
the least over many slices: a busy neighbour only adds time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch

from app.demos import registry
from app.demos.base import RunContext, seeded
from app.ml.cartpole import BatchedCartPole
from app.ml.ppo import collect_rollout, update
from app.ml.ppo_policy import ActorCritic
from app.params import parse_params
from tests.lesson_claims.claims import fence, lesson_says

SLUG = "ppo"


def cpu_ms(action: Callable[[], object]) -> float:
    """CPU milliseconds ``action()`` takes in this process (not wall time)."""
    start = time.process_time()
    action()
    return (time.process_time() - start) * 1e3


def lockstep(actions: list[Callable[[], object]], repeats: int) -> list[float]:
    """The least CPU time of each action over ``repeats`` rounds of all of them in turn."""
    best = [float("inf")] * len(actions)
    for _ in range(repeats):
        for i, action in enumerate(actions):
            best[i] = min(best[i], cpu_ms(action))
    return best


def demo_frames_stream(seed: int, **changes):
    """A fresh run of the demo with the lesson's fence settings and ``changes``."""
    demo = registry()["ppo-cartpole"]
    values = demo.defaults() | fence(SLUG, "ppo-cartpole") | changes | {"seed": seed}
    return demo.run(parse_params(demo, values), RunContext())


def per_update_ms(runs: list[dict], n: int) -> list[float]:
    """The least CPU time of one update of each demo run (``changes`` for seed 0), the runs
    advanced in lockstep for ``n`` updates after 2 to warm up."""
    streams = [iter(demo_frames_stream(0, **changes)) for changes in runs]
    for stream in streams:
        for _ in range(3):  # frame 0 and two updates
            next(stream)
    return lockstep([lambda s=stream: next(s) for stream in streams], n)


def report(what: str, value: float, low: float, high: float) -> bool:
    ok = low <= value <= high
    print(f"  {'PASS' if ok else 'FAIL'}  {what}: {value:.3g} (lesson: {low:g} to {high:g})")
    return ok


def sixteen_carts_against_one() -> list[bool]:
    lesson_says(SLUG, "a step of all 16 takes about 1.3 times as long as a step of a single "
                "cart (measured on one core)")

    def steps(n_envs: int) -> Callable[[], None]:
        generator = torch.Generator().manual_seed(0)
        env = BatchedCartPole(n_envs, generator)

        def run() -> None:
            for _ in range(200):
                env.step(torch.rand(n_envs, generator=generator) < 0.5)

        run()  # warm up
        return run

    one, sixteen = lockstep([steps(1), steps(16)], 10)
    return [report("a step of 16 carts / a step of one", sixteen / one, 1.1, 1.6)]


def rollout_against_update() -> list[bool]:
    lesson_says(SLUG, "one step of all 16 carts, with the actor's forward pass to choose the "
                "actions, costs about 0.15 ms of CPU time, so a rollout of 32 steps about 5 ms. "
                "The update's six gradient steps cost about 8 ms, two-thirds of the time")
    lesson_says(SLUG, "about 1.4 ms on 256 rows against 1.7 ms on all 512")
    # Each round plays a rollout and learns from it twice: as the demo does (3 epochs x 2
    # minibatches of 256 rows) and in whole-batch steps (3 x 1 of 512).
    demo = registry()["ppo-cartpole"]
    cfg = parse_params(demo, demo.defaults() | fence(SLUG, "ppo-cartpole")).config()
    whole = dataclasses.replace(cfg, minibatches=1)
    with seeded(0):
        model = ActorCritic(cfg.hidden, cfg.activation)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=1e-5,
                                 fused=True)  # as train() builds it
    generator = torch.Generator().manual_seed(0)
    env = BatchedCartPole(cfg.n_envs, generator)
    state = {"obs": env.state}

    def play() -> None:
        state["rollout"], state["obs"] = collect_rollout(model, env, state["obs"],
                                                         cfg.n_steps, generator)

    def learn(config) -> Callable[[], object]:
        return lambda: update(model, optimizer, config, state["rollout"], generator)

    rounds = [play, learn(cfg), learn(whole)]
    lockstep(rounds, 3)  # warm up
    rollout_ms, update_ms, whole_ms = lockstep(rounds, 20)
    half_step, whole_step = update_ms / 6, whole_ms / 3
    return [
        report("ms per rollout step of 16 carts", rollout_ms / cfg.n_steps, 0.1, 0.2),
        report("ms per update (six gradient steps)", update_ms, 6, 11),
        report("update's share of rollout + update", update_ms / (update_ms + rollout_ms),
               0.57, 0.72),
        report("ms per gradient step on 256 rows", half_step, 1.0, 1.8),
        report("a step on 512 rows / a step on 256", whole_step / half_step, 1.1, 1.5),
    ]


def per_update_and_one_cart() -> list[bool]:
    lesson_says(SLUG, "about 16 ms of CPU time per update, so 0.7 to 1.4 s per run")
    lesson_says(SLUG, "Compare the steps per second: about six times fewer")
    # The demo itself (frames and heatmaps included), seed 0, 6 updates of each in lockstep;
    # seeds 0-4 solve in 42 to 81 updates (tests/lesson_claims/test_ppo.py).
    default, one_cart = per_update_ms([{}, {"n_envs": 1, "n_steps": 512}], 6)
    return [
        report("ms per update, the demo's defaults", default, 11, 21),
        report("s per run of 42 updates", 42 * default / 1e3, 0.5, 1.0),
        report("s per run of 81 updates", 81 * default / 1e3, 1.0, 1.7),
        report("one cart playing 512 steps: times slower per update", one_cart / default,
               4.5, 8),
    ]


def tanh_against_relu() -> list[bool]:
    lesson_says(SLUG, "an update costs only about a tenth more with tanh")
    relu, tanh = per_update_ms([{}, {"activation": "tanh"}], 10)
    return [report("an update with tanh / with relu", tanh / relu, 1.0, 1.25)]


def main() -> None:
    torch.set_num_threads(1)
    results = []
    for check in (sixteen_carts_against_one, rollout_against_update, per_update_and_one_cart,
                  tanh_against_relu):
        print(check.__name__.replace("_", " "))
        results += check()
    print(f"{sum(results)} of {len(results)} cost claims of lessons/ppo.md hold on this machine")


if __name__ == "__main__":
    main()
