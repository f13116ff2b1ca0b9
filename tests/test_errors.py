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
    with make_client(max_jobs=1, max_queue=0, max_body_bytes=2048) as client:
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
    _, schema = served
    with make_client(rate_per_minute=1) as client:
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


def test_a_demo_that_fails_while_running_is_a_documented_500_in_the_shape(served, test_demos):
    client, schema = served
    response = client.post("/api/demos/test-crash/run", json={})
    assert response.status_code == 500 and "boom" in response.json()["detail"][0]["message"]
    schema["/api/demos/{slug}/run"]["POST"].validate_response(response)


def test_an_unknown_lesson_names_its_slug(served):
    client, _ = served
    item = client.get("/lessons/nope", headers={"accept": "application/json"}).json()
    assert item["detail"][0]["field"] == "slug" and item["detail"][0]["loc"] == ["path", "slug"]


def test_clicked_points_are_documented_as_json_text_in_the_query(served):
    client, _ = served
    document = client.get("/openapi.json").json()
    parameters = document["paths"][STREAM]["get"]["parameters"]
    points = next(p for p in parameters if p["name"] == "points")
    assert points["content"]["application/json"]["schema"]["type"] == "array"
    response = client.get(STREAM, params={"dataset": "custom", "k": 2, "seed": 77,
                                          "points": "[[0, 0], [1, 1], [5, 5]]"})
    assert response.status_code == 200


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


# ---- hostile shapes of valid JSON: each was a 500, a misleading item or a huge reply ----


def test_deep_nesting_is_a_422_naming_the_parameter_not_a_500(served):
    client, schema = served
    deep = "[" * 951 + "]" * 951  # json.loads reads it; re-encoding it used to recurse out
    response = client.post("/api/demos/norms/run", content=f'{{"seed": {deep}}}'.encode(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["field"] == "seed" and "nested more than 16 levels" in item["message"]
    points = "[" * 990 + "]" * 990  # in a query string too (the clicked-points list)
    response = client.get(f"{STREAM}?dataset=custom&k=2&points={points}")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "points"


def test_a_lone_surrogate_is_named_as_the_field_it_is_in(served):
    client, _ = served
    response = client.post("/api/demos/attention/run",
                           content=b'{"text": "cat \\ud83d"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["field"] == "text" and "surrogate" in item["message"]


def test_a_bad_value_inside_a_list_states_its_own_bounds(served):
    client, _ = served
    response = client.post(RUN, json={"dataset": "custom", "k": 1, "points": [[101, 1]]})
    item = response.json()["detail"][0]
    assert item["loc"] == ["body", "points", "0", "0"]
    assert item["bounds"] == {"minimum": -100, "maximum": 100}
    assert "between -100 and 100" in item["message"]


def test_a_boolean_says_what_it_accepts(served):
    client, _ = served
    item = client.get("/api/demos/attention/stream?causal=yes").json()["detail"][0]
    assert item["field"] == "causal" and item["bounds"] == {"enum": [True, False]}
    assert "one of true, false" in item["message"]


def test_thousands_of_mistakes_get_a_short_answer(served):
    client, schema = served
    body = {f"unknown_{i}": i for i in range(100)}  # under the fixture's 2 kB body limit
    response = client.post(RUN, json=body)
    items = response.json()["detail"]
    assert response.status_code == 422 and len(items) == 10
    assert "91 more" in items[-1]["message"]
    assert len(response.content) < 10_000
    schema[RUN]["POST"].validate_response(response)


def test_a_parameter_given_twice_in_the_query_is_refused_by_name(served):
    client, _ = served
    for query in ("k=2&k=99", "k=99&k=2"):  # neither order silently wins
        response = client.get(f"{STREAM}?{query}")
        assert response.status_code == 422
        item = response.json()["detail"][0]
        assert item["field"] == "k" and "given 2 times" in item["message"]
        assert item["loc"] == ["query", "k"]


@pytest.mark.parametrize("text", ["1_0", "\u0663", "\uff13", "0x3", "3.0", "NaN", "%2B3"])
def test_query_numbers_are_read_as_json_writes_them(served, text):
    """The query accepts what a JSON body accepts for an integer, and nothing else."""
    client, _ = served
    response = client.get(f"{STREAM}?k={text}")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "k"
