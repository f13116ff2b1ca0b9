"""Test-only demos. A light module of its own: worker processes and Ray workers import it
(by reference, when a job's demo is sent to them), so it imports only the demo contract.

What a demo did in a worker is seen from the test process through a file: the slow demo
appends one byte per step to ``LIVEGRAD_TEST_PROGRESS``, set before any worker starts.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pydantic import Field

from app.demos.base import (
    Chart,
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    extend,
    figure,
    make_frame,
)

# Workers inherit the environment: the test process sets it first, they find it set.
PROGRESS = Path(os.environ.setdefault(
    "LIVEGRAD_TEST_PROGRESS", os.path.join(tempfile.mkdtemp(prefix="livegrad-"), "steps")))


def slow_steps() -> int:
    """Steps the slow demo has computed so far, in any process on this machine."""
    try:
        return PROGRESS.stat().st_size
    except FileNotFoundError:
        return 0


class SlowParams(DemoParams):
    steps: int = Field(1000, ge=1, le=100_000, description="Frames to emit")
    delay: float = Field(0.02, ge=0, le=1, description="Seconds of work per frame")


def _slow_run(params: SlowParams, ctx: RunContext) -> RunGenerator:
    # Each frame says which process computes it, so a test can kill that process.
    yield make_frame(0, 0.0, {"line": figure([{"type": "scatter", "x": [], "y": []}])},
                {"pid": os.getpid()})
    step = 0
    for step in range(1, params.steps + 1):
        if ctx.should_stop():
            break
        time.sleep(params.delay)
        with PROGRESS.open("ab") as progress:
            progress.write(b".")
        yield make_frame(step, step / params.steps, {"line": extend([0], [[step]], [[step]])},
                    {"pid": os.getpid()})
    return {"steps": step}


def _crash_run(params: DemoParams, ctx: RunContext) -> RunGenerator:
    yield make_frame(0, 0.0, {})
    raise RuntimeError("boom")


class StuckParams(DemoParams):
    seconds: float = Field(600, ge=0, le=3600, description="Length of the one long step")


def _stuck_run(params: StuckParams, ctx: RunContext) -> RunGenerator:
    """One step that never looks at ``ctx``: like a huge matrix product, it cannot be
    asked to stop, only killed."""
    yield make_frame(0, 0.0, {}, {"pid": os.getpid()})
    deadline = time.monotonic() + params.seconds
    while time.monotonic() < deadline:  # signals (Ray's cancel) cannot cut this short
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
    yield make_frame(1, 1.0, {})
    return {}


slow = Demo("test-slow", "Slow", "Test demo", SlowParams, [Chart("line", "Line")], _slow_run)
crash = Demo("test-crash", "Crash", "Test demo", DemoParams, [], _crash_run)
stuck = Demo("test-stuck", "Stuck", "Test demo", StuckParams, [], _stuck_run)
TEST_DEMOS = [slow, crash, stuck]
