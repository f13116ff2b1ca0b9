"""How many students one core serves: the CPU cost of each demo's default run.

For each demo, run its defaults to the end on one torch thread (a job on a server with as
many slots as cores) and print the CPU seconds it used (process time, so a busy machine
does not inflate it much) and what that means for a class: runs one core finishes per
minute. The README's class sizing comes from this table. Runs replayed from the cache
cost nothing, so a class working through the same presets needs far less.
"""

from __future__ import annotations

import time

import torch

from app.demos import registry
from tests.helpers import run_to_done


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'demo':22} {'CPU s/run':>10} {'runs/core/min':>14}")
    for slug, demo in sorted(registry().items()):
        run_to_done(demo, demo.defaults())  # warm: first-call costs are not a student's
        started = time.process_time()
        run_to_done(demo, demo.defaults() | {"seed": 1} if "seed" in demo.defaults()
                    else demo.defaults())
        cpu = time.process_time() - started
        print(f"{slug:22} {cpu:10.2f} {60 / max(cpu, 1e-3):14.0f}")


if __name__ == "__main__":
    main()
