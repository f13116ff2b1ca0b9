"""One job, start to end, wherever it runs: a worker process, a Ray task, or a thread.

:func:`job_events` steps a demo's generator and turns it into the events a stream
carries — ``("frame", json_text)`` for each frame, then ``("done", outcome)`` or
``("error", {"message": ...})``; a cancelled job ends with no final event, since nobody
is listening. Every executor runs exactly this, so the limits (time budget, frame
limit, cancellation) mean the same everywhere.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.demos.base import Demo, DemoParams, RunContext

log = logging.getLogger("livegrad.jobs")

Event = tuple[str, Any]

# A demo that ignores ctx.should_stop() but still yields frames is cut off this long
# after its budget; one stuck inside a single step is killed a little later still.
GRACE_SECONDS = 2.0
KILL_AFTER_SECONDS = GRACE_SECONDS + 1.0


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to run a job: the demo (sent by reference to its module),
    validated parameters and the limits, all picklable."""

    demo: Demo
    params: DemoParams
    job_seconds: float
    max_frames: int


def encode_frame(frame: dict[str, Any]) -> str:
    """Serialise a frame strictly. Demos' frames already carry inf/NaN as strings (the
    contract's ``finite`` in app/demos/base.py), so a float one here is a platform bug."""
    return json.dumps(frame, allow_nan=False, separators=(",", ":"))


def job_events(spec: JobSpec, ctx: RunContext) -> Iterator[Event]:
    """Run ``spec`` to its end, yielding its events; ``ctx.cancelled`` stops it quietly.

    The first event, ``("started", {"pid", "host"})``, says who computes it; the runner
    keeps it to itself. The budget starts then (``ctx.deadline`` is set here, on the
    clock of the machine that computes), so a worker's own start-up is not charged to
    the student. A demo that raises ends with an ``error`` event, not an exception.
    """
    started = time.monotonic()
    ctx.deadline = started + spec.job_seconds
    yield "started", {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        outcome = yield from _frames(spec, ctx)
    except Exception as exc:  # a demo bug must end the stream, not hang it
        log.exception("demo %s failed", spec.demo.slug)
        yield "error", {"message": f"{spec.demo.title} failed: {type(exc).__name__}: {exc}"}
        return
    if outcome is not None:
        outcome["seconds"] = round(time.monotonic() - started, 3)
        yield "done", outcome


def _frames(spec: JobSpec, ctx: RunContext) -> Iterator[Event]:
    """Step the demo's generator; return the ``done`` payload, or None if cancelled."""
    generator = spec.demo.run(spec.params, ctx)
    frames = 0
    stopped = None
    result: dict[str, Any] = {}
    try:
        while True:
            if ctx.cancelled.is_set():
                return None
            if time.monotonic() > ctx.deadline + GRACE_SECONDS:
                stopped = "time_budget"
                break
            try:
                frame = next(generator)
            except StopIteration as stop:
                result = stop.value or {}
                break
            if frames >= spec.max_frames:  # a run of exactly max_frames frames finishes
                stopped = "frame_limit"
                break
            frames += 1
            yield "frame", encode_frame(frame)
    finally:
        generator.close()
    if ctx.cancelled.is_set():
        # The demo saw should_stop() and wrapped up: a cut-short run, not a finished one,
        # so no `done` (which the cache would keep and replay to the next student).
        return None
    if stopped is None and time.monotonic() >= ctx.deadline:
        stopped = "time_budget"  # the demo saw should_stop() and wrapped up early
    json.dumps(result, allow_nan=False)  # fail loudly on a non-finite result
    return {"result": result, "frames": frames, "stopped": stopped}


def warm_up_torch(threads: int) -> None:
    """Size torch's thread pool, then take one tiny Adam step, so the first student's run
    does not pay torch's one-off costs.

    torch's optimizers import ``torch._dynamo`` on their first step: about a second on a
    small machine, which would otherwise land inside the first demo anyone runs.
    """
    import torch

    torch.set_num_threads(threads)
    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(layer.parameters(), fused=True)
    layer(torch.zeros(1, 2)).sum().backward()
    optimizer.step()


def died_message(title: str, exitcode: int | None, killed_for: str | None) -> str:
    """What a student reads when the process computing their run is gone."""
    if killed_for:
        return f"{title} {killed_for}, so its worker was stopped. Try smaller settings."
    if exitcode is not None and exitcode < 0:
        how = f"was killed (signal {-exitcode}{', often out of memory' if exitcode == -9 else ''})"
    else:
        how = f"exited (code {exitcode})" if exitcode is not None else "was lost"
    return f"{title} stopped: the process computing it {how}. Try again or use smaller settings."

