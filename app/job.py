"""One job of the runner (app/jobs.py): what its run has said so far, and who listens.

A job is one run of a demo with one set of parameters (:func:`run_key`): identical
requests share it. Its events come from an executor computing it on this server
(app/executors/; :class:`app.executors.job.JobSpec` is what a worker is handed), or from
the cluster store when another replica computes it (:meth:`Job.follow`). Each event goes
to every subscriber at once and, while the run stays under its size limit, into the
recording the cache replays to the next student who asks. Everything here runs on the
event loop thread, so nothing needs a lock.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from app.cache import Event, event_size
from app.demos.base import Demo, DemoParams
from app.streams import StreamBuffers, Subscription


def run_key(demo: Demo, params: DemoParams) -> str:
    """Same demo and parameters, same run: the key of the cache and of shared jobs."""
    return f"{demo.slug}:{params.model_dump_json()}"


@dataclass(eq=False)
class Job:
    """One run of one demo with one set of parameters, and everyone who watches it."""

    demo: Demo
    params: DemoParams
    key: str
    record_limit: int
    state: str = "queued"  # queued → running → finished
    cancelled: bool = False
    execution: Any = None  # the executor's handle while running
    follower: asyncio.Task | None = None  # set when another replica computes this run
    outbox: list[Event] = field(default_factory=list)  # events not yet in the cluster store
    sent: int = 0  # events already sent to the cluster store
    kill_timer: asyncio.TimerHandle | None = None
    subscribers: list[Subscription] = field(default_factory=list)
    recorded: list[Event] = field(default_factory=list)
    recorded_at: list[float] = field(default_factory=list)  # seconds since the start
    recorded_bytes: int = 0
    started: float = 0.0
    began_at: float = 0.0  # when it started, by the runner's clock (expected waits)
    last_queued: Event | None = None
    outcome: dict[str, Any] | None = None

    @property
    def recording(self) -> bool:
        return self.recorded_bytes <= self.record_limit

    def subscribe(self, cache: str, buffers: StreamBuffers) -> Subscription:
        """A new listener: it first receives everything the job has said so far.

        ``cache`` is "miss" for the request that started the job, "shared" for one that
        joins it; a job that finished meanwhile is heard as a replay ("hit").
        """
        if cache == "shared" and self.state == "finished":
            cache = "hit"
        subscription = buffers.subscription(self, cache, source=self)
        for event in self.recorded:
            subscription.put(event)
        if self.state == "queued" and self.last_queued:
            subscription.put(self.last_queued)
        self.subscribers.append(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        if event[0] == "queued":
            self.last_queued = event
        elif self.recording:
            self.recorded.append(event)
            self.recorded_at.append(time.monotonic() - self.started)
            self.recorded_bytes += event_size(event)
        for subscription in self.subscribers:
            subscription.put(event)

    async def follow(self, store: Any, replica: str, lease: float) -> None:
        """Relay the events of this run, which another replica computes, from the cluster
        ``store`` (``replica`` is this server) until the run ends or this job is cancelled.

        Publishes an ``error`` when the run was stopped on its server, when the store goes
        ``lease`` seconds without news, or when it fails; never raises but on cancelling.
        The job is finished when this returns.
        """
        index, state, news = 0, "running", time.monotonic()
        try:
            while state == "running" and not self.cancelled:
                events, state = await store.follow(self.key, index, replica)
                index += len(events)
                for event in events:
                    self.publish(event)
                if events:
                    news = time.monotonic()
                elif time.monotonic() - news > lease:  # the store is unreachable
                    state = "gone"
            if state == "gone" and not self.cancelled:
                self.publish(("error", {"message": "The run you joined was stopped on another "
                                        "server; press Run again to compute it here."}))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the store is unreachable: say so, do not hang
            self.publish(("error", {"message": f"Lost the run's stream: {exc}"}))
        finally:
            self.state = "finished"
