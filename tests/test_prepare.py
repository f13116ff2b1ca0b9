"""``python -m app prepare``: every demo instance of every lesson run once on a running
server, so the class replays it from the cache; failures named, exit status 1.

CPU: one real server (started twice, for the restart) and two cheap runs (k-means on 50
points, GAE on ten steps); the rest are in-process apps with the threads executor.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import httpx

from app.__main__ import main as app_main
from app.prepare import instances_in, prepare
from tests.helpers import ServerProcess, free_port, health, make_client

LESSON = textwrap.dedent("""\
    ---
    title: Tiny
    summary: Two cheap demos.
    ---

    # Tiny

    ```demo kmeans
    :id: small
    n_points: 50
    k: 2
    n_init: 1
    max_iter: 5
    ```

    Text between.

    ```demo gae
    ```
    """)


def lessons_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    for slug, text in {"tiny": LESSON, **files}.items():
        (folder / f"{slug}.md").write_text(text)
    return folder


def prepared(url: str, **kwargs) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = prepare(url, out=out, **kwargs)
    return status, out.getvalue().splitlines()


def test_the_instances_are_what_each_page_sends(tmp_path):
    from app.lessons import parse_lesson

    html = str(parse_lesson(lessons_folder(tmp_path) / "tiny.md").html)
    small, gae = instances_in("tiny", html)
    assert (small.lesson, small.instance, small.demo) == ("tiny", "small", "kmeans")
    # The fence's presets over the demo's defaults: the form's values before any touch.
    assert small.values["n_points"] == 50 and small.values["k"] == 2
    assert small.values["dataset"] == "blobs" and small.values["seed"] == 0
    assert (gae.instance, gae.demo) == ("gae", "gae")
    assert gae.values["gamma"] == 0.9  # the demo's default, no presets given


def test_prepare_fills_the_cache_and_a_restart_keeps_it(tmp_path):
    folder = lessons_folder(tmp_path)
    kept = tmp_path / "cache.jsonl"
    settings = {"lessons_dir": folder, "cache_file": kept, "max_jobs": 1}
    with ServerProcess(**settings) as server:
        before = health(httpx.Client(base_url=server.url))["cache"]["entries"]
        status, lines = prepared(server.url)
        assert status == 0, lines
        assert [line.split()[:3] + line.split()[-1:] for line in lines[:2]] == [
            ["tiny", "small", "kmeans", "miss"], ["tiny", "gae", "gae", "miss"]]
        assert "2 instances in 1 lessons" in lines[2] and "0 failed" in lines[2]
        assert lines[3].startswith("server cache: 2 runs")
        assert health(httpx.Client(base_url=server.url))["cache"]["entries"] == before + 2
        status, lines = prepared(server.url)  # a second time: every run replays
        assert status == 0 and [line.split()[-1] for line in lines[:2]] == ["hit", "hit"]
    assert kept.is_file()  # written at shutdown (SIGTERM)
    with ServerProcess(**settings) as server:  # the teacher restarts the server
        status, lines = prepared(server.url)
        assert status == 0 and [line.split()[-1] for line in lines[:2]] == ["hit", "hit"]


def test_an_unreachable_server_fails_every_instance_with_the_reason(tmp_path):
    folder = lessons_folder(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    out = io.StringIO()
    status = prepare(url, folder, out=out)
    lines = out.getvalue().splitlines()
    assert status == 1
    assert all("failed  no answer from the server" in line for line in lines[:2]), lines
    assert "2 failed" in lines[2]
    # Without --lessons it cannot even list the lessons: status 2.
    assert prepare(url, out=io.StringIO()) == 2


def test_a_429_is_waited_out_as_retry_after_says_then_reported(tmp_path):
    folder = lessons_folder(tmp_path)
    waits: list[float] = []
    with make_client(rate_per_minute=1, executor="threads") as client:
        status, lines = prepared("http://testserver", folder=folder, http=client,
                                 sleep=waits.append)
        retry_after = float(client.post("/api/demos/gae/run", json={}).headers["retry-after"])
    assert status == 1
    assert lines[0].split()[-1] == "miss"  # the first run is allowed
    assert lines[1].startswith("tiny  gae  gae")
    assert "failed  still refused (429) after 20 tries" in lines[1]
    assert len(waits) == 20 and all(0 < wait <= 60 for wait in waits)
    assert abs(waits[0] - retry_after) <= 1  # the server's Retry-After, not a guess


def test_a_broken_lesson_is_a_failure_naming_its_mistake(tmp_path):
    broken = LESSON.replace("n_points: 50", "n_pionts: 50")
    folder = lessons_folder(tmp_path, broken=broken)
    with make_client(executor="threads") as client:
        status, lines = prepared("http://testserver", folder=folder, http=client)
    assert status == 1
    assert lines[0].startswith("broken  FAILED") and "n_pionts" in lines[0]
    assert "2 instances in 1 lessons" in lines[3] and "1 failed" in lines[3]


def test_the_command_line_runs_it(tmp_path, capsys):
    assert app_main(["prepare", "--url", f"http://127.0.0.1:{free_port()}",
                     "--lessons", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().out


def test_a_run_stopped_early_is_a_failure_since_the_cache_does_not_keep_it(tmp_path):
    folder = lessons_folder(tmp_path)
    with make_client(max_frames=2, executor="threads") as client:  # k-means sends more
        status, lines = prepared("http://testserver", folder=folder, http=client)
        entries = client.get("/healthz").json()["cache"]["entries"]
    assert status == 1
    assert "failed  stopped early (frame_limit), so not kept in the cache" in lines[0]
    assert lines[1].split()[-1] == "miss"  # GAE's one frame fits
    assert entries == 1 and "1 failed" in lines[2]
