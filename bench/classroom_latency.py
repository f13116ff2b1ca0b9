"""Page latency while every job slot computes, against the same server idle.

A class keeps both slots of a 2-core server busy with heavy k-means runs while other
students open lessons. The server runs in its own process (tests.helpers.ServerProcess),
as ``make run`` starts it; we time 50 requests to each page with the slots idle, then
50 with both slots computing, and print each page's p95 and the ratio busy / idle (the
goal: the event loop is never held by computation, so the ratio stays near 1 and the
busy p95 well under 100 ms). The machine may be shared: numbers are pessimistic when
other jobs run.
"""

from __future__ import annotations

import statistics
import time

import httpx

from tests.helpers import HEAVY, BackgroundStream, ServerProcess, eventually

PAGES = ("/lessons/kmeans", "/healthz", "/")
REQUESTS = 50


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def page_times(http: httpx.Client) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {path: [] for path in PAGES}
    for _ in range(REQUESTS):
        for path, times in samples.items():
            started = time.perf_counter()
            http.get(path).raise_for_status()
            times.append(time.perf_counter() - started)
    return samples


def main() -> None:
    with ServerProcess(max_jobs=2, max_queue=4) as server, httpx.Client(
        base_url=server.url, timeout=30
    ) as http:
        page_times(http)  # warm: lessons rendered once, as in class
        idle = page_times(http)
        url = f"{server.url}/api/demos/kmeans-elbow/stream"
        with BackgroundStream(url, {**HEAVY, "seed": 1}), BackgroundStream(
            url, {**HEAVY, "seed": 2}
        ):
            eventually(lambda: http.get("/healthz").json()["jobs"]["running"] == 2,
                       "both slots compute")
            busy = page_times(http)
    for path in PAGES:
        ratio = p95(busy[path]) / p95(idle[path])
        print(f"{path:18} p95 idle {p95(idle[path]) * 1000:6.1f} ms   busy "
              f"{p95(busy[path]) * 1000:6.1f} ms   busy/idle {ratio:4.1f}x")


if __name__ == "__main__":
    main()
