"""Every 4xx has one shape, and /openapi.json documents exactly what is served.

Each request below provokes one kind of error; the answer must carry the status a
client expects, the project's error items, and pass schemathesis's response checks
(status code documented, content type, body schema) against the served document.
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.helpers import make_client

ITEM_KEYS = {"field", "message", "bounds", "loc", "msg", "type"}
RUN = "/api/demos/kmeans/run"
STREAM = "/api/demos/kmeans/stream"


@pytest.fixture(scope="module")
def served():
    with make_client(max_jobs=1, max_queue=0, max_body_bytes=2048, rate_per_minute=1) as client:
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
        yield client, schema


CASES = [
    # (what, method, url, request kwargs, status, field blamed, words in the message)
    ("malformed JSON", "POST", RUN,
     {"content": b'{"k": 3,', "headers": {"content-type": "application/json"}},
     400, "", "not valid JSON"),
    ("a JSON list", "POST", RUN, {"json": [1, 2]}, 422, "", "JSON object"),
    ("plain text", "POST", RUN, {"content": b"k=3", "headers": {"content-type": "text/plain"}},
     422, "", "JSON object"),
    ("out of bounds", "POST", RUN, {"json": {"k": 99}}, 422, "k", "between 1 and 12"),
    ("unknown parameter", "POST", RUN, {"json": {"kk": 3}}, 422, "kk", "unknown parameter"),
    ("text in a number's query field", "GET", f"{STREAM}?k=abc", {}, 422, "k", "integer"),
    ("unknown demo", "POST", "/api/demos/nope/run", {"json": {}}, 404, "slug", "no demo named"),
    ("unknown demo, stream", "GET", "/api/demos/nope/stream", {}, 404, "slug", "no demo named"),
    ("body too large", "POST", RUN, {"json": {"points": [[1.5, 2.5]] * 400}}, 413, "", "2048"),
]


@pytest.mark.parametrize("what, method, url, kwargs, status, field, words", CASES,
                         ids=[case[0] for case in CASES])
def test_every_4xx_has_the_one_documented_shape(served, what, method, url, kwargs, status,
                                                field, words):
    client, schema = served
    response = client.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    items = response.json()["detail"]
    assert items and all(set(item) == ITEM_KEYS for item in items)
    assert items[0]["field"] == field and words in items[0]["message"]
    assert items[0]["msg"] == items[0]["message"]
    documented = "/api/demos/kmeans/" + url.split("/")[-1].split("?")[0]
    schema[documented][method].validate_response(response)


def test_a_429_has_the_shape_and_a_retry_after(served):
    client, schema = served
    first = client.post(RUN, json={"k": 2, "n_points": 20, "seed": 101})
    assert first.status_code == 200  # the one run this client may start this minute
    second = client.post(RUN, json={"k": 2, "n_points": 20, "seed": 102})
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
    assert second.json()["detail"][0]["type"] == "too_many_requests"
    schema[RUN]["POST"].validate_response(second)


def test_each_item_says_where_the_bad_value_came_from(served):
    client, _ = served
    query = client.get(f"{STREAM}?k=abc").json()["detail"][0]
    body = client.post(STREAM, json={"k": "abc"}).json()["detail"][0]
    path = client.get("/api/demos/nope/stream").json()["detail"][0]
    assert (query["loc"], body["loc"], path["loc"]) == (
        ["query", "k"], ["body", "k"], ["path", "slug"])


def test_an_unknown_api_path_answers_json_in_the_shape(served):
    client, _ = served
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["detail"][0]["type"] == "not_found"


def test_the_document_names_no_other_error_shape(served):
    client, _ = served
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)
