"""LIVEGRAD_CACHE_FILE: finished runs survive a restart, but never a change of the code
that made them, and a bad file never stops the server.

CPU: in-process apps with the threads executor and three k-means runs on 50 points.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app import cache_file
from app.cache import RunCache, event_size
from tests.helpers import make_client

BODY = {"dataset": "blobs", "n_points": 50, "k": 2, "n_init": 1, "max_iter": 5}
DONE = ("done", {"result": {"inertia": 1.5}, "frames": 1, "stopped": None})


def filled(keys: list[str], max_bytes: int = 10**6) -> RunCache:
    runs = RunCache(max_bytes)
    for number, key in enumerate(keys):
        events = [("frame", json.dumps({"step": number, "x": [0.5] * 20})), DONE]
        runs.put(key, events, sum(map(event_size, events)), [0.01 * number, 0.5])
    return runs


def test_runs_come_back_as_they_were_least_recently_used_first(tmp_path):
    path = tmp_path / "cache.jsonl"
    runs = filled(["a", "b", "c"])
    runs.get("a")  # now the most recently used
    assert cache_file.save(runs, path, "code") == 3
    back = RunCache(10**6)
    assert cache_file.load(back, path, "code") == 3
    assert back.entries() == runs.entries()  # same keys, order, events, offsets, sizes
    assert [p.name for p in tmp_path.iterdir()] == ["cache.jsonl"]  # no temporary left


def test_loading_is_bounded_by_the_cache_size_keeping_the_most_recent(tmp_path):
    path = tmp_path / "cache.jsonl"
    runs = filled([f"run{number}" for number in range(8)])
    cache_file.save(runs, path, "code")
    one = runs.entries()[0][1].size
    small = RunCache(4 * one + one // 2)  # room for four runs
    assert cache_file.load(small, path, "code") == 4
    assert [key for key, _ in small.entries()] == ["run4", "run5", "run6", "run7"]
    assert small.bytes <= small.max_bytes


def test_a_file_made_by_other_code_is_ignored_with_a_log_line(tmp_path, caplog):
    path = tmp_path / "cache.jsonl"
    cache_file.save(filled(["a"]), path, "old code")
    runs = RunCache(10**6)
    with caplog.at_level(logging.WARNING, "livegrad.cache"):
        assert cache_file.load(runs, path, "new code") == 0
    assert len(runs) == 0
    assert [r.message for r in caplog.records] == [
        f"cache file {path} ignored: its runs were made by other code (the demos, "
        "algorithms or torch changed since)"]


def test_the_fingerprint_follows_the_demo_sources(tmp_path):
    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "kmeans.py").write_text("STEPS = 10\n")
    sources = (demos,)
    first = cache_file.fingerprint(sources)
    assert cache_file.fingerprint(sources) == first
    (demos / "kmeans.py").write_text("STEPS = 11\n")
    assert cache_file.fingerprint(sources) != first
    assert cache_file.fingerprint() != first  # the real sources are something else again


GOOD_HEADER = json.dumps({"format": "livegrad-cache", "version": 1, "fingerprint": "code"})
GOOD_RUN = json.dumps({"key": "k", "events": [["done", DONE[1]]], "offsets": [0.1]})


@pytest.mark.parametrize(("content", "reason"), [
    (b"garbage\n", "not a LiveGrad cache file"),
    (b"", "not a LiveGrad cache file"),
    (b"\xff\xfe\x00binary", "codec can't decode"),
    (GOOD_HEADER.replace('"version": 1', '"version": 9').encode(), "version 9"),
    (f"{GOOD_HEADER}\n{GOOD_RUN}\n{GOOD_RUN[:30]}\n".encode(), "line 3 is not JSON"),
    (f'{GOOD_HEADER}\n{{"key": "k", "events": [["frame", 3]], "offsets": [0]}}\n'.encode(),
     "line 2 is not a run"),
    (f'{GOOD_HEADER}\n{{"key": "k", "events": [], "offsets": [1.0]}}\n'.encode(),
     "line 2 is not a run"),
    (f'{GOOD_HEADER}\n["k"]\n'.encode(), "line 2 is not a run"),
])
def test_a_bad_file_is_ignored_whole_with_a_log_line(tmp_path, caplog, content, reason):
    path = tmp_path / "cache.jsonl"
    path.write_bytes(content)
    runs = RunCache(10**6)
    with caplog.at_level(logging.WARNING, "livegrad.cache"):
        assert cache_file.load(runs, path, "code") == 0
    assert len(runs) == 0  # not half a file either
    (record,) = caplog.records
    assert record.message.startswith(f"cache file {path} ignored: ") and reason in record.message


def run(client, body: dict) -> tuple[str, dict]:
    response = client.post("/api/demos/kmeans/run", json=body)
    assert response.status_code == 200, response.text
    return response.headers["x-cache"], response.json()["result"]


def test_a_restarted_server_replays_the_runs_of_the_one_before(tmp_path):
    path = tmp_path / "cache.jsonl"
    with make_client(cache_file=path, executor="threads") as client:
        cache, result = run(client, BODY)
        assert cache == "miss"
    with make_client(cache_file=path, executor="threads") as client:
        assert client.get("/healthz").json()["cache"]["entries"] == 1
        assert run(client, BODY) == ("hit", result)
        assert run(client, {**BODY, "seed": 1})[0] == "miss"
    with make_client(cache_file=path, executor="threads") as client:
        assert client.get("/healthz").json()["cache"]["entries"] == 2
    with make_client(executor="threads") as client:  # no cache file: nothing kept
        assert run(client, BODY)[0] == "miss"


def test_a_server_with_a_corrupt_file_starts_empty_and_writes_a_good_one(tmp_path, caplog):
    path = tmp_path / "cache.jsonl"
    path.write_text('{"format": "livegrad-cache", "version": 1, "fingerprint": ')
    with caplog.at_level(logging.WARNING, "livegrad.cache"), \
            make_client(cache_file=path, executor="threads") as client:
        assert run(client, BODY)[0] == "miss"
    assert any("ignored" in record.message for record in caplog.records)
    with make_client(cache_file=tmp_path / "cache.jsonl", executor="threads") as client:
        assert run(client, BODY)[0] == "hit"


def test_a_cache_file_in_a_missing_folder_is_created(tmp_path):
    path = tmp_path / "not" / "yet" / "cache.jsonl"
    with make_client(cache_file=path, executor="threads") as client:
        run(client, BODY)
    assert path.is_file() and path.read_text().count("\n") == 2  # header and one run


def test_the_file_is_json_never_code(tmp_path):
    path = tmp_path / "cache.jsonl"
    cache_file.save(filled(["a"]), path, "code")
    header, line = path.read_text().splitlines()
    assert json.loads(header)["fingerprint"] == "code"
    assert json.loads(line)["key"] == "a"


def test_an_empty_setting_is_off(monkeypatch):
    from app.config import Settings

    monkeypatch.setenv("LIVEGRAD_CACHE_FILE", "")
    assert Settings().cache_file is None
    monkeypatch.setenv("LIVEGRAD_CACHE_FILE", "/srv/livegrad/cache.jsonl")
    assert Settings().cache_file == Path("/srv/livegrad/cache.jsonl")
