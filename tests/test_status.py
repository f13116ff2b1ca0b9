"""/status and /api/status: what a teacher reads on the projector while the class works.

Refusals are counted by cause over the last 5 and 15 minutes on a fake clock; the page
and the JSON show the runner's, cache's and executor's own numbers.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.jobs import RunnerFull
from app.status import INVALID, RATE_LIMIT, RUNNER_FULL, Refusals
from tests.helpers import make_client

BODY = {"n_points": 60, "k": 3, "max_iter": 3}


class Clock:
    def __init__(self) -> None:
        self.time = 1000.0

    def __call__(self) -> float:
        return self.time


def test_refusals_are_counted_by_cause_in_the_last_5_and_15_minutes():
    clock = Clock()
    refusals = Refusals(clock=clock)
    refusals.note(429, RATE_LIMIT)  # at 0 min
    clock.time += 6 * 60
    refusals.note(429, RUNNER_FULL)  # at 6 min
    refusals.note(429, RUNNER_FULL)
    clock.time += 4 * 60
    refusals.note_invalid("kmeans", [{"field": "k", "message": "k: at most 10"}])  # at 10 min
    summary = refusals.summary()
    assert summary["last_5_minutes"] == {
        "total": 3, "by_cause": {RUNNER_FULL: 2, f"{INVALID}: kmeans k": 1}}
    assert summary["last_15_minutes"]["total"] == 4
    assert summary["last_15_minutes"]["by_cause"][RATE_LIMIT] == 1
    clock.time += 6 * 60  # now 16 min: the first one is older than 15 minutes
    assert refusals.summary()["last_15_minutes"]["by_cause"] == {
        RUNNER_FULL: 2, f"{INVALID}: kmeans k": 1}
    assert refusals.summary()["last_5_minutes"]["total"] == 0


def test_the_record_is_bounded():
    clock = Clock()
    refusals = Refusals(clock=clock, max_kept=3)
    for _ in range(10):
        refusals.note(429, RATE_LIMIT)
    assert refusals.summary()["last_5_minutes"]["total"] == 3


@pytest.fixture
def client() -> TestClient:
    with make_client(max_jobs=1, max_queue=2, rate_per_minute=2, executor="threads",
                     job_seconds=30) as c:
        c.app.state.refusals = Refusals(clock=Clock())
        yield c


def test_admit_notes_each_refusal_with_its_cause(client, monkeypatch):
    assert client.post("/api/demos/kmeans/run", json={"k": 999}).status_code == 422
    assert client.get("/api/demos/kmeans/stream", params={"n_init": "0"}).status_code == 422
    for seed, status in ((1, 200), (2, 200), (3, 429)):  # 2 runs a minute per browser
        assert client.post("/api/demos/kmeans/run",
                           json={**BODY, "seed": seed}).status_code == status
    runner = client.app.state.runner

    async def full(*args, **kwargs):
        raise RunnerFull(retry_after=7)

    monkeypatch.setattr(runner, "submit", full)
    assert client.post("/api/demos/kmeans/run", json=BODY).status_code == 429
    refusals = client.get("/api/status").json()["refusals"]
    assert refusals["last_5_minutes"] == {"total": 4, "by_cause": {
        f"{INVALID}: kmeans k": 1, f"{INVALID}: kmeans n_init": 1, RATE_LIMIT: 1,
        RUNNER_FULL: 1}}
    client.app.state.refusals.clock.time += 10 * 60
    refusals = client.get("/api/status").json()["refusals"]
    assert refusals["last_5_minutes"]["total"] == 0
    assert refusals["last_15_minutes"]["total"] == 4


def numbers(page: str, status: str) -> str:
    """The text of one card of /status, tags and spaces squeezed out."""
    card = re.search(rf'data-status="{status}">(.*?)</(?:div|table)>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def test_status_json_and_page_show_the_same_numbers(client):
    for seed in (1, 2):
        assert client.post("/api/demos/kmeans/run", json={**BODY, "seed": seed}).status_code == 200
    assert client.post("/api/demos/kmeans/run", json={**BODY, "seed": 1}).status_code == 200  # hit
    assert client.post("/api/demos/kmeans/run", json={**BODY, "seed": 3}).status_code == 429
    status = client.get("/api/status").json()
    assert status["jobs"] == {"running": 0, "slots": 1, "queued": 0, "queue_size": 2}
    assert status["cache"]["hits"] == 1 and status["cache"]["misses"] == 3  # seed 3 looked too
    assert status["cache"]["hit_rate"] == 0.25 and status["cache"]["entries"] == 2
    assert status["workers"]["workers_alive"] == status["workers"]["workers"] == 1
    (slowest,) = status["slowest_demos"]  # one demo has finished runs
    assert slowest["demo"] == "kmeans" and slowest["seconds"] >= 0

    response = client.get("/status")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    page = response.text
    assert '<meta http-equiv="refresh" content="5">' in page
    assert numbers(page, "running").startswith("Jobs running 0 / 1 1 slots")
    assert numbers(page, "queued").startswith("Queued 0 / 2")
    assert numbers(page, "cache").startswith("Cache hit rate 25 % 1 hits, 3 misses · 2 runs kept")
    assert numbers(page, "workers").startswith("Workers alive 1 / 1")
    assert numbers(page, "refused") == "Refused in 5 min 1 1 in the last 15 min"
    assert "rate limit 1 1" in numbers(page, "refusals")
    assert "k-means" in numbers(page, "slowest")


def test_an_idle_server_says_so_rather_than_showing_empty_tables(client):
    page = client.get("/status").text
    assert numbers(page, "cache").startswith("Cache hit rate —")
    assert "no student was turned away" in numbers(page, "refusals")
    assert "No run has finished" in numbers(page, "slowest")
    assert client.get("/api/status").json()["cache"]["hit_rate"] is None


def test_api_status_is_documented(client):
    document = client.get("/openapi.json").json()
    assert "get" in document["paths"]["/api/status"]
    assert "/status" not in document["paths"]  # the page is HTML for people
