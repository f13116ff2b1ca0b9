"""The HTTP API: listing, running, streaming, errors. The job runner behind it: test_jobs.py."""

from __future__ import annotations

import json
import logging
import socket

import httpx
import pytest
import torch

from tests.helpers import (
    LEAVING_STEP_SECONDS,
    STEPS_AFTER_LEAVING,
    LiveServer,
    busy,
    eventually,
    make_client,
    read_stream,
    slow_steps,
)

CUSTOM = [[0.0, 0.0], [0.2, 0.1], [0.1, -0.2], [3.0, 3.0], [3.2, 2.9], [2.8, 3.1],
          [-3.0, 2.5], [-2.9, 2.7], [-3.1, 2.4], [-2.8, 2.6]]


def test_healthz_reports_job_counts(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["jobs"] == {"running": 0, "queued": 0}
    assert health["executor"]["executor"] == "processes"
    assert health["executor"]["workers"] == health["executor"]["workers_alive"] == 2


def test_demo_list_carries_schema_defaults_and_charts(client):
    demos = {d["slug"]: d for d in client.get("/api/demos").json()}
    assert {"kmeans", "kmeans-elbow"} <= set(demos)
    kmeans = demos["kmeans"]
    assert kmeans["params"]["properties"]["k"]["maximum"] == 12
    assert kmeans["defaults"]["k"] == 3
    assert [c["id"] for c in kmeans["charts"]] == ["clusters", "inertia"]
    assert client.get("/api/demos/kmeans").json()["slug"] == "kmeans"


def test_lessons_api_lists_the_kmeans_lesson_with_its_demos(client):
    lessons = {lesson["slug"]: lesson for lesson in client.get("/api/lessons").json()}
    assert "kmeans" in lessons
    assert {"kmeans", "kmeans-elbow"} <= set(lessons["kmeans"]["demos"])
    assert client.get("/api/lessons", params={"q": "zzzqqqnotaword"}).json() == []


def test_kmeans_run_on_custom_points_answers_a_consistent_clustering(client):
    body = {"dataset": "custom", "points": CUSTOM, "k": 3, "n_init": 10, "seed": 0}
    response = client.post("/api/demos/kmeans/run", json=body)
    assert response.status_code == 200
    result = response.json()["result"]
    assert response.json()["frames"] > 1
    centroids = torch.tensor(result["centroids"], dtype=torch.float64)
    labels = torch.tensor(result["labels"])
    assert len(labels) == len(CUSTOM) and set(labels.tolist()) == {0, 1, 2}
    implied = float(((torch.tensor(CUSTOM, dtype=torch.float64) - centroids[labels]) ** 2).sum())
    assert result["inertia"] == pytest.approx(implied, rel=1e-9)
    # Three tight groups of points: each group must be one cluster.
    assert len({result["labels"][i] for i in (0, 1, 2)}) == 1
    assert len({result["labels"][i] for i in (3, 4, 5)}) == 1
    assert result["inertia"] < 1.0
    assert result["iterations"] >= 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"k": 40}, "k", ["12"]),
        ({"k": 0}, "k", ["1"]),
        ({"n_points": 5}, "n_points", ["10", "2000"]),
        ({"dataset": "spiral"}, "dataset", ["blobs", "moons"]),
        ({"kk": 3}, "kk", ["unknown", "k"]),
        ({"k": "three"}, "k", ["integer"]),
        ({"dataset": "custom"}, "points", ["click"]),
        ({"dataset": "custom", "points": [[0, 0], [1, 1]], "k": 3}, "k", ["k", "points"]),
        ({"dataset": "custom", "points": [[0, 1e9]]}, "points", ["100"]),
        ({"points": [[0, 0]] * 2001}, "points", ["2000"]),
    ],
)
def test_bad_parameters_get_a_422_naming_field_and_bounds(client, body, field, words):
    for response in (
        client.post("/api/demos/kmeans/run", json=body),
        client.post("/api/demos/kmeans/stream", json=body),
    ):
        assert response.status_code == 422
        errors = response.json()["detail"]
        assert errors and all("message" in e for e in errors)
        assert any(e["field"] == field for e in errors)
        message = " ".join(e["message"] for e in errors)
        for word in words:
            assert word in message


def test_stream_query_errors_are_422_before_any_event(client):
    response = client.get("/api/demos/kmeans/stream", params={"k": "99"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "k"
    assert client.get("/api/demos/kmeans/stream", params={"nope": "1"}).status_code == 422


def test_non_object_body_is_422_and_unreadable_json_is_400_never_500(client):
    response = client.post("/api/demos/kmeans/run", json=[1, 2, 3])
    assert response.status_code == 422
    response = client.post("/api/demos/kmeans/run", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400  # as /openapi.json documents (tests/test_errors.py)


def test_unknown_demo_and_lesson_are_404(client):
    assert client.get("/api/demos/nope").status_code == 404
    assert client.post("/api/demos/nope/run", json={}).status_code == 404
    assert client.get("/api/demos/nope/stream").status_code == 404
    assert client.get("/lessons/nope").status_code == 404
    page = client.get("/lessons/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Back to the lessons" in page.text
    assert client.get("/lessons/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_stream_yields_frames_then_done_with_the_result(executor):
    with make_client(**executor) as client:
        stream_then_run(client)


def stream_then_run(client):
    events = read_stream(client, "/api/demos/kmeans/stream",
                         params={"dataset": "moons", "k": "2", "n_init": "2", "seed": "4"})
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    frames = [data for name, data in events if name == "frame"]
    assert len(frames) >= 3 and set(names[:-1]) == {"frame"}
    assert [f["step"] for f in frames] == sorted(f["step"] for f in frames)
    assert frames[-1]["progress"] == 1.0
    assert {"step", "progress", "charts", "metrics"} <= set(frames[1])
    assert frames[1]["charts"]["clusters"]["op"] == "react"
    assert frames[1]["charts"]["inertia"]["op"] == "extend"
    done = events[-1][1]
    run = client.post("/api/demos/kmeans/run",
                      json={"dataset": "moons", "k": 2, "n_init": 2, "seed": 4}).json()
    assert done["result"]["inertia"] == run["result"]["inertia"]
    assert done["frames"] == len(frames) == run["frames"]


def test_same_params_same_frames(executor):
    url = "/api/demos/kmeans/stream"
    params = {"dataset": "blobs", "k": "4", "seed": "11", "init": "random"}
    with make_client(cache_mb=0, **executor) as client:  # computed twice, not replayed
        first, second = (read_stream(client, url, params=params) for _ in range(2))
    assert first[:-1] == second[:-1]  # every frame
    assert first[-1][1]["result"] == second[-1][1]["result"]


def test_a_crashing_demo_ends_its_stream_with_an_error_event(executor, test_demos):
    with make_client(**executor) as client:
        events = read_stream(client, "/api/demos/test-crash/stream")
        assert events[-1][0] == "error" and "boom" in events[-1][1]["message"]
        assert client.get("/healthz").json()["jobs"]["running"] == 0


def test_time_budget_stops_a_job_and_says_so(executor, test_demos):
    with make_client(max_jobs=1, max_queue=0, job_seconds=0.3, **executor) as c:
        body = c.post("/api/demos/test-slow/run", json={"steps": 100000}).json()
        assert body["stopped"] == "time_budget"
        assert 0 < body["result"]["steps"] < 100000


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_that_gives_up_on_run_frees_its_slot(executor, test_demos):
    """POST /run has no stream to close; a client that times out must still stop its job,
    and a student closing a tab is not a server error in the teacher's log."""
    errors = Recorded()
    with LiveServer(max_jobs=1, max_queue=0, **executor) as server, httpx.Client(
            base_url=server.url, timeout=60) as http:
        logging.getLogger("uvicorn.error").addHandler(errors)  # after uvicorn set up logging
        body = {"steps": 100000, "delay": LEAVING_STEP_SECONDS}  # an hour and more
        before = slow_steps()
        payload = json.dumps(body).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(b"POST /api/demos/test-slow/run HTTP/1.1\r\nHost: test\r\n"
                        b"Content-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
            eventually(lambda: slow_steps() > before, "the job computes")
            left_at = slow_steps()
        # The client has gone, while its job was computing.
        eventually(lambda: not busy(http), "the job of an abandoned POST /run ended")
        stopped_at = slow_steps()
        assert stopped_at - left_at <= STEPS_AFTER_LEAVING
        assert http.get("/healthz").json()["jobs"] == {"running": 0, "queued": 0}
        # The freed slot takes the next run at once, and the abandoned run was not cached.
        again = http.post("/api/demos/test-slow/run", json={"steps": 3, "delay": 0})
        assert again.status_code == 200 and again.headers["x-cache"] == "miss"
    logging.getLogger("uvicorn.error").removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []


def test_api_docs_are_served_from_this_host(client):
    page = client.get("/docs").text
    assert "/static/vendor/swagger/swagger-ui-bundle.js" in page
    assert "cdn" not in page and "https://" not in page
    assert client.get("/openapi.json").json()["paths"]["/api/demos/{slug}/run"]


def test_static_assets_are_gzipped_once_and_cached_for_a_year(client):
    page = client.get("/lessons/kmeans")
    assert page.headers["content-encoding"] == "gzip"
    plotly = next(u for u in page.text.split('"') if "plotly-cartesian.min.js?v=" in u)
    response = client.get(plotly, headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(response.headers["content-length"]) < 600_000  # 1.4 MB on disk
    assert "max-age" not in client.get("/static/css/site.css").headers["cache-control"]
    stream = client.get("/api/demos/kmeans/stream", params={"k": 2},
                        headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in stream.headers  # never buffer a stream to compress it


def test_a_run_of_exactly_the_frame_limit_finishes_and_one_more_frame_is_cut(test_demos):
    with make_client(max_jobs=1, max_frames=4) as client:
        exact = client.post("/api/demos/test-slow/run", json={"steps": 3, "delay": 0}).json()
        assert exact["frames"] == 4 and exact["stopped"] is None  # frame 0, then 3 steps
        assert exact["result"] == {"steps": 3}
        over = client.post("/api/demos/test-slow/run", json={"steps": 4, "delay": 0}).json()
        assert over["frames"] == 4 and over["stopped"] == "frame_limit"
