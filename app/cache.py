"""The classroom cache: finished runs, replayed to the next student who asks.

Runs are deterministic (same demo, same parameters, same frames), so a finished run
is kept as its list of events in an LRU bounded by the bytes it holds.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

Event = tuple[str, Any]


@dataclass
class Recording:
    events: list[Event]
    size: int  # bytes, roughly: the serialized frames dominate
    offsets: list[float]  # seconds from the run's start to each event: replays keep pace


def event_size(event: Event) -> int:
    name, payload = event
    return len(name) + (len(payload) if isinstance(payload, str) else len(repr(payload)))


class RunCache:
    """LRU of finished runs by key, holding at most ``max_bytes`` in total."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, Recording] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> Recording | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, events: list[Event], size: int, offsets: list[float]) -> None:
        # A single run larger than a quarter of the cache would evict a class's worth.
        if size > self.max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = Recording(events, size, offsets)
        self.bytes += size
        while self.bytes > self.max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._entries), "bytes": self.bytes,
                "hits": self.hits, "misses": self.misses}


class InProcessCache:
    """The classroom cache of one server process (the default: no cluster).

    Async like the cluster's shared cache (app/executors/ray_cluster.py), so the job
    runner treats both alike.
    """

    def __init__(self, max_bytes: int) -> None:
        self.runs = RunCache(max_bytes)
        self.max_bytes = max_bytes

    async def get(self, key: str) -> Recording | None:
        return self.runs.get(key)

    def put(self, key: str, events: list[Event], size: int, offsets: list[float]) -> None:
        self.runs.put(key, events, size, offsets)

    async def stats(self) -> dict[str, int]:
        return self.runs.stats()
