"""What each client has yet to read: a subscription's queue of events, and the bound on
the memory that slow readers hold across the server.

A subscription belongs to a job of app/jobs.py (or to a replay from the cache); the
route that streams it reads :meth:`Subscription.next_event` until ``done`` or ``error``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.cache import Event, event_size

if TYPE_CHECKING:
    from app.jobs import Job


FELL_BEHIND = ("This page fell too far behind its stream (a slow connection?), so the "
               "server stopped sending it. Press Run again.")


@dataclass(eq=False)
class Subscription:
    """One client's view of a job (or of a replay): the events it has not read yet."""

    job: Job | None  # None: a replay from the cache
    cache: str  # "hit" (a finished run replayed), "shared" (a run in progress joined), "miss"
    buffers: StreamBuffers
    source: Any = None  # the job or recording whose events these are (shared, not copied)
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    # A replay from the cache: when each event happened in the original run, so a
    # stream shows training at the speed it trained (the result arrives at once).
    replay_offsets: list[float] | None = None
    backlog: int = 0  # bytes of events queued and not yet read
    checked: int = 0  # the backlog when the buffers were last checked
    cut_off: bool = False

    def put(self, event: Event) -> None:
        if self.cut_off:
            return
        self.events.put_nowait(event)
        self.backlog += event_size(event)
        self.buffers.grew(self)

    async def next_event(self) -> Event:
        event = await self.events.get()
        if not self.cut_off:
            self.backlog -= event_size(event)
            self.checked = min(self.checked, self.backlog)
        return event

    def cut(self) -> None:
        """Drop what this slow reader has not read, and tell it so."""
        self.cut_off = True
        self.backlog = self.checked = 0
        while not self.events.empty():
            self.events.get_nowait()
        self.events.put_nowait(("error", {"message": FELL_BEHIND}))


class StreamBuffers:
    """Bounds the memory that events waiting for slow readers hold, across the server.

    Events are shared, not copied: every reader of one job (or of one cached recording)
    holds references into the same run, so the memory held for a source is its furthest
    -behind reader's backlog. When the sum passes ``max_bytes``, readers are cut off
    (their stream ends with an ``error``), the one whose cut frees most first.
    """

    CHECK_EVERY = 256 * 1024  # bytes a backlog grows between two checks

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.readers: set[Subscription] = set()

    def subscription(self, job: Job | None, cache: str, source: Any, **extra: Any
                     ) -> Subscription:
        subscription = Subscription(job, cache, self, source=source, **extra)
        self.readers.add(subscription)
        return subscription

    def forget(self, subscription: Subscription) -> None:
        self.readers.discard(subscription)

    def held(self) -> int:
        furthest: dict[int, int] = {}
        for reader in self.readers:
            key = id(reader.source)
            furthest[key] = max(furthest.get(key, 0), reader.backlog)
        return sum(furthest.values())

    def grew(self, subscription: Subscription) -> None:
        if subscription.backlog - subscription.checked < self.CHECK_EVERY:
            return
        subscription.checked = subscription.backlog
        while self.held() > self.max_bytes and (victim := self._most_freeing()) is not None:
            victim.cut()
            self.forget(victim)

    def _most_freeing(self) -> Subscription | None:
        """The reader whose cut frees most: the furthest behind of its source, by as much
        as it trails the next reader of that source. A class watching one paced run is
        never cut (cutting one of them frees nothing); a lone stalled reader is."""
        by_source: dict[int, list[Subscription]] = {}
        for reader in self.readers:
            by_source.setdefault(id(reader.source), []).append(reader)
        best, freed = None, 0
        for group in by_source.values():
            group.sort(key=lambda reader: reader.backlog, reverse=True)
            gain = group[0].backlog - (group[1].backlog if len(group) > 1 else 0)
            if gain > freed:
                best, freed = group[0], gain
        return best
