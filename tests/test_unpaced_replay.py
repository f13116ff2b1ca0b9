"""A replay's "Skip to end": the page asks for the stream with ``?pace=none`` and gets the
whole replay at once, the same events, none of the recorded waits."""

from __future__ import annotations

from app.demos import registry
from tests.helpers import FakeClock, make_client, sse_events

URL = "/api/demos/test-slow/stream"
BODY = {"steps": 10, "delay": 0.05}  # a little "training": frames come apart


def test_an_unpaced_replay_sends_the_same_events_without_waiting(test_demos):
    assert "test-slow" in registry()
    with make_client() as client:
        clock = client.app.state.clock = FakeClock()
        with client.stream("POST", URL, json=BODY) as response:
            original = list(sse_events(response.iter_lines()))
        with client.stream("POST", f"{URL}?pace=none", json=BODY) as response:
            assert response.headers["x-cache"] == "hit"
            skipped = list(sse_events(response.iter_lines()))
        assert skipped[:-1] == original[:-1] and skipped[-1][0] == "done"
        assert len(skipped) == 12 and clock.sleeps == []  # 11 frames and done, no wait
        with client.stream("POST", URL, json=BODY) as response:  # the default keeps the pace
            list(sse_events(response.iter_lines()))
        assert len(clock.sleeps) >= 10


def test_an_unknown_pace_is_refused_naming_the_parameter(test_demos):
    with make_client() as client:
        answer = client.post(f"{URL}?pace=fast", json=BODY)
    assert answer.status_code == 422
    assert "pace" in answer.text
