"""What the server is doing, for the teacher's /status page and GET /api/status.

:class:`Refusals` remembers the recent 429s and 422s that app/deps.py ``admit`` answered
(their cause, and for a 422 the demo and field), bounded in count and age, so the page
can say "12 refused for the rate limit in the last 5 minutes". :func:`server_status`
gathers everything the page shows into one dict (the JSON of /api/status).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.i18n import N_

# The causes of a 429, as the page names them.
RUNNER_FULL = N_("every slot busy and the queue full")
RATE_LIMIT = N_("rate limit")
INVALID = N_("invalid parameter")  # a 422; its demo and field are kept too

# The windows the page counts refusals over, in minutes.
WINDOWS_MINUTES = (5, 15)


@dataclass(frozen=True)
class Refusal:
    at: float  # seconds, on the record's clock
    status: int  # 429 or 422
    cause: str  # RUNNER_FULL, RATE_LIMIT or INVALID
    demo: str = ""  # slug, for a 422
    field: str = ""  # the parameters a 422 named, comma-separated


class Refusals:
    """The last refusals, at most ``max_kept`` and at most ``keep_seconds`` old.

    ``clock`` gives seconds (monotonic); tests pass a fake one. Only the event loop
    thread notes and reads, so no lock is needed.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_kept: int = 10_000,
                 keep_seconds: float = 60.0 * max(WINDOWS_MINUTES)) -> None:
        self.clock = clock
        self.keep_seconds = keep_seconds
        self._kept: deque[Refusal] = deque(maxlen=max_kept)

    def note(self, status: int, cause: str, demo: str = "", field: str = "") -> None:
        self._kept.append(Refusal(self.clock(), status, cause, demo, field))
        self._drop_old()

    def note_invalid(self, demo: str, errors: Iterable[dict[str, Any]]) -> None:
        """One 422: the fields its error items name (app/errors.py ``error_item``)."""
        fields = sorted({str(error.get("field") or "(whole body)") for error in errors})
        self.note(422, INVALID, demo, ", ".join(fields))

    def _drop_old(self) -> None:
        oldest = self.clock() - self.keep_seconds
        while self._kept and self._kept[0].at < oldest:
            self._kept.popleft()

    def recent(self, minutes: float) -> list[Refusal]:
        """The refusals of the last ``minutes``, oldest first."""
        self._drop_old()
        since = self.clock() - 60.0 * minutes
        return [refusal for refusal in self._kept if refusal.at >= since]

    def counts(self, minutes: float) -> dict[str, int]:
        """Refusals of the last ``minutes`` by cause: 422s as "invalid parameter: demo field"."""
        return dict(Counter(
            f"{r.cause}: {r.demo} {r.field}" if r.status == 422 else r.cause
            for r in self.recent(minutes)).most_common())

    def summary(self) -> dict[str, Any]:
        """Counts by cause for each window: ``{"last_5_minutes": {...}, ...}``."""
        return {f"last_{minutes}_minutes": {"total": len(self.recent(minutes)),
                                            "by_cause": self.counts(minutes)}
                for minutes in WINDOWS_MINUTES}


SLOWEST_SHOWN = 5  # demos in the "slowest" list


def slowest_demos(runner: Any, titles: dict[str, str],
                  count: int = SLOWEST_SHOWN) -> list[dict[str, Any]]:
    """The demos whose runs take longest here, slowest first: ``seconds`` is the runner's
    moving average of whole runs (app/jobs.py), ``runs`` how many it measured (None when
    the runner does not count them)."""
    durations: dict[str, float] = runner.durations()
    runs: dict[str, int] = dict(runner.measured_runs)
    ranked = sorted(durations.items(), key=lambda item: item[1], reverse=True)[:count]
    return [{"demo": slug, "title": titles.get(slug, slug), "seconds": round(seconds, 2),
             "runs": runs.get(slug)} for slug, seconds in ranked]


async def server_status(runner: Any, refusals: Refusals, titles: dict[str, str]) -> dict[str, Any]:
    """Everything /status shows, as GET /api/status answers it.

    ``jobs``: running of ``slots``, queued of ``queue_size``; ``cache``: hits, misses,
    ``hit_rate`` (0 to 1, None before any lookup), entries, ``megabytes`` held;
    ``workers``: what the executor reports (``workers_alive`` of ``workers`` for worker
    processes, nodes for a Ray cluster); ``refusals``: counts by cause over the last 5 and
    15 minutes; ``slowest_demos``: see :func:`slowest_demos`.
    """
    jobs = runner.stats()
    cache = await runner.cache.stats()
    lookups = cache.get("hits", 0) + cache.get("misses", 0)
    return {
        "jobs": {"running": jobs["running"], "slots": runner.max_jobs,
                 "queued": jobs["queued"], "queue_size": runner.max_queue},
        "cache": {"hits": cache.get("hits", 0), "misses": cache.get("misses", 0),
                  "hit_rate": round(cache.get("hits", 0) / lookups, 3) if lookups else None,
                  "entries": cache.get("entries", 0),
                  "megabytes": round(cache.get("bytes", 0) / 2**20, 1),
                  **({"error": cache["error"]} if "error" in cache else {})},
        "workers": runner.executor.stats(),
        "refusals": refusals.summary(),
        "slowest_demos": slowest_demos(runner, titles),
    }
