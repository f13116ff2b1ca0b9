"""The classroom cache: finished runs, replayed to the next student who asks.

Runs are deterministic (same demo, same parameters, same frames), so a finished run
is kept as its list of events in an LRU bounded by the bytes it holds. On a cluster the
same store also knows which runs some replica is computing, so that others follow them
(:class:`SharedRuns`) instead of computing them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
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

    def entries(self) -> list[tuple[str, Recording]]:
        """Every (key, run), least recently used first: put back in this order, the
        same runs are evicted first (app/cache_file.py saves and loads them so)."""
        return list(self._entries.items())

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._entries), "bytes": self.bytes,
                "hits": self.hits, "misses": self.misses}


class InProcessCache:
    """The run store of one server process (the default: no cluster, no other replicas).

    A run store answers :class:`app.jobs.JobRunner`: is this run finished (replay it),
    being computed elsewhere (follow it), or ours to compute (claim it)? Alone, nothing is
    ever computed elsewhere; the cluster's store (:class:`SharedRuns`) is the full story.
    """

    shared = False  # no other replica follows our runs

    def __init__(self, max_bytes: int) -> None:
        self.runs = RunCache(max_bytes)
        self.max_bytes = max_bytes

    async def claim(self, key: str, owner: str, lease: float) -> tuple[str, Recording | None]:
        recording = self.runs.get(key)
        return ("cached", recording) if recording is not None else ("claimed", None)

    def append(self, key: str, owner: str, start: int, events: list[Event]) -> None:
        pass

    def touch(self, owner: str, keys: list[str]) -> None:
        pass

    def finish(self, key: str, owner: str, recording: Recording | None, total: int) -> None:
        if recording is not None:
            self.runs.put(key, recording.events, recording.size, recording.offsets)

    async def follow(self, key: str, start: int, follower: str) -> tuple[list[Event], str]:
        return [], "gone"

    async def watchers(self, key: str) -> int:
        return 0

    async def stats(self) -> dict[str, int]:
        return self.runs.stats()


@dataclass
class LiveRun:
    """A run some replica is computing: its events so far, and who follows them."""

    owner: str
    lease: float  # seconds without news after which the owner is presumed gone
    events: list[Event] = field(default_factory=list)
    state: str = "running"  # running → done (ended with its final event) or gone
    touched: float = field(default_factory=time.monotonic)
    watchers: dict[str, float] = field(default_factory=dict)  # follower → last poll
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Batches that arrived before an earlier one, by their first event's index, and the
    # owner's last word (how many events in all, what to keep) if it came before them.
    early: dict[int, list[Event]] = field(default_factory=dict)
    total: int | None = None
    recording: Recording | None = None

    def touch(self) -> None:
        self.touched = time.monotonic()
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()  # wake every follower waiting for news

    def stale(self) -> bool:
        return self.state == "running" and time.monotonic() - self.touched > self.lease


class SharedRuns:
    """The run store of a cluster: one instance, as a named Ray actor, for every replica.

    It holds finished runs (an LRU, :class:`RunCache`) and the runs being computed: the
    replica that claims a run computes it and appends its events here; any other replica
    asked for the same run follows those events instead of computing it again. A run
    whose owner stops reporting for its lease is given up, and may be claimed anew.
    """

    WATCH_SECONDS = 3.0  # a follower that has not polled for this long has left
    ENDED_KEPT = 256  # ended runs kept for followers still reading their tail

    def __init__(self, max_bytes: int) -> None:
        self.runs = RunCache(max_bytes)
        self.live: dict[str, LiveRun] = {}
        self.ended: OrderedDict[str, LiveRun] = OrderedDict()

    async def claim(self, key: str, owner: str, lease: float) -> tuple[str, Recording | None]:
        recording = self.runs.get(key)
        if recording is not None:
            return "cached", recording
        for stale in [k for k, run in self.live.items() if run.stale()]:
            self._end(stale, self.live[stale], "gone")  # its owner went away
        if key in self.live:
            # Identical requests racing on one replica each get "claimed"; the first to
            # go on starts the job and the others join it there, never following their
            # own replica's run through the store (nobody would compute it).
            return ("claimed" if self.live[key].owner == owner else "computing"), None
        self.live[key] = LiveRun(owner, lease)
        return "claimed", None

    async def append(self, key: str, owner: str, start: int, events: list[Event]) -> None:
        """Events ``start``, ``start + 1``, … of ``key``'s run, from its owner.

        Ray does not promise that an async actor runs calls in the order one caller made
        them, so each batch says where it goes: one that comes early waits for the
        batches before it, and followers only ever see the run's events in order.
        """
        run = self.live.get(key)
        if run is None or run.owner != owner:
            return
        run.early[start] = events
        while (batch := run.early.pop(len(run.events), None)) is not None:
            run.events.extend(batch)
        run.early = {at: batch for at, batch in run.early.items() if at > len(run.events)}
        run.touch()
        self._end_if_complete(key, run)

    async def touch(self, owner: str, keys: list[str]) -> None:
        """The owner is alive and still means to compute ``keys`` (queued or running)."""
        now = time.monotonic()
        for key in keys:
            run = self.live.get(key)
            if run is not None and run.owner == owner:
                run.touched = now

    async def finish(self, key: str, owner: str, recording: Recording | None,
                     total: int) -> None:
        """The owner's run is over after ``total`` events (``recording``: keep it).

        The run ends when all ``total`` events are here; batches still on their way are
        waited for (a run whose owner falls silent is given up after its lease).
        """
        run = self.live.get(key)
        if run is None or run.owner != owner:
            return
        run.total, run.recording = total, recording
        self._end_if_complete(key, run)

    def _end_if_complete(self, key: str, run: LiveRun) -> None:
        if run.total is None or len(run.events) < run.total:
            return
        if run.recording is not None:
            recording = run.recording
            self.runs.put(key, recording.events, recording.size, recording.offsets)
        final = bool(run.events) and run.events[-1][0] in ("done", "error")
        self._end(key, run, "done" if final else "gone")

    def _end(self, key: str, run: LiveRun, state: str) -> None:
        del self.live[key]
        run.state = state
        run.touch()
        self.ended[key] = run
        while len(self.ended) > self.ENDED_KEPT:
            self.ended.popitem(last=False)

    async def follow(self, key: str, start: int, follower: str,
                     wait: float = 1.0) -> tuple[list[Event], str]:
        """Events of ``key`` from index ``start``, waiting up to ``wait`` s for news."""
        run = self.live.get(key) or self.ended.get(key)
        if run is None:
            return [], "gone"
        run.watchers[follower] = time.monotonic()
        if len(run.events) <= start and run.state == "running":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.changed.wait(), wait)
        return run.events[start:], "gone" if run.stale() else run.state

    async def watchers(self, key: str) -> int:
        run = self.live.get(key)
        if run is None:
            return 0
        now = time.monotonic()
        return sum(now - seen < self.WATCH_SECONDS for seen in run.watchers.values())

    async def stats(self) -> dict[str, int]:
        return {**self.runs.stats(),
                "computing": sum(not run.stale() for run in self.live.values())}
