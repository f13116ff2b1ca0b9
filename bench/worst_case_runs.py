"""Does every demo's slowest corner fit the default job budget?

For each demo, run its defaults and every numeric field at its maximum (and at its
minimum) to the end, in this process on the threads a server job gets, and print the
seconds as a share of the default job budget (``LIVEGRAD_JOB_SECONDS``, 60 s). A share
over 1 means a student who turns every slider up gets a run cut off by the budget. The
machine may be shared: numbers are pessimistic when other jobs run.
"""

from __future__ import annotations

import time

import torch

from app.config import Settings, torch_threads_per_job
from app.demos import registry
from app.params import ParamsError
from tests.helpers import extreme_params, run_to_done


def main() -> None:
    settings = Settings()
    torch.set_num_threads(torch_threads_per_job(settings))
    budget = settings.job_seconds
    print(f"{'demo':22} {'defaults':>9} {'min':>9} {'max':>9}   (share of the {budget:g} s "
          "budget)")
    worst = 0.0
    for slug, demo in sorted(registry().items()):
        shares = []
        for which in ("defaults", "min", "max"):
            values = demo.defaults() if which == "defaults" else extreme_params(demo, which)
            started = time.perf_counter()
            try:
                run_to_done(demo, values)
            except ParamsError:  # a corner the demo refuses: nothing to time
                shares.append("  refused")
                continue
            share = (time.perf_counter() - started) / budget
            worst = max(worst, share)
            shares.append(f"{share:9.3f}")
        print(f"{slug:22} {' '.join(shares)}")
    print(f"slowest corner: {worst:.2f} of the budget")


if __name__ == "__main__":
    main()
