"""When a stream sends each frame, and the clock it reads (tests swap in a fake one).

A demo can ask for a minimum time between frames (``Demo.frame_seconds``) so motion is
visible; a replay from the classroom cache also keeps the timing of the run it replays,
so training still looks like training the second time. Both are waits on a
:class:`Clock`, which is the only thing a test needs to replace to check the pacing
without depending on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

from app.cache import Event

if TYPE_CHECKING:
    from app.streams import Subscription


class Clock:
    """Real monotonic time, in seconds."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FramePacer:
    """Waits before each frame so that frames are ``frame_seconds`` apart at least and,
    in a replay, frame ``i`` goes out no earlier than ``offsets[i]`` seconds after the
    stream started (``offsets`` are the recorded times of the original run's events)."""

    def __init__(self, clock: Clock, frame_seconds: float = 0.0,
                 offsets: list[float] | None = None) -> None:
        self.clock = clock
        self.frame_seconds = frame_seconds
        self.offsets = offsets or []
        self.started = clock.now()
        self.last_frame = -math.inf

    async def wait_for_turn(self, index: int) -> None:
        """Wait until the event at ``index`` (counting every event of the stream) may go."""
        now = self.clock.now()
        wait = self.frame_seconds - (now - self.last_frame)
        if index < len(self.offsets):
            wait = max(wait, self.offsets[index] - (now - self.started))
        if wait > 0:
            await self.clock.sleep(wait)
        self.last_frame = self.clock.now()


Pace = Literal["recorded", "none"]


async def paced_events(subscription: Subscription, clock: Clock,
                       frame_seconds: float = 0.0, pace: Pace = "recorded"
                       ) -> AsyncIterator[Event]:
    """A job's events up to its ``done`` or ``error``, each frame released at its turn:
    ``frame_seconds`` apart at least and, in a replay from the cache, at the timing of
    the run it replays (``subscription.replay_offsets``). ``pace="none"`` releases each
    event as soon as it exists (a page's "Skip to end" of a replay)."""
    if pace == "none":
        pacer = FramePacer(clock)
    else:
        pacer = FramePacer(clock, frame_seconds, subscription.replay_offsets)
    for index in itertools.count():
        event = await subscription.next_event()
        if event[0] == "frame":
            await pacer.wait_for_turn(index)
        yield event
        if event[0] in ("done", "error"):
            return
