"""Swagger's "Try it out" works unedited: every demo's documented example is a valid run.

/docs builds its request from the OpenAPI document; for a list of (x, y) pairs its own
guess is ``[[null, null]]``, a 422. Each demo's request body and each query parameter
carry the demo's defaults as their ``example`` (app/openapi.py), and these tests send
exactly what the document says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.demos import registry
from tests.helpers import make_client

SLUGS = sorted(registry())


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # A short budget: a run stops within a step of it and still answers 200 with its
    # result, so the sweep of every demo stays cheap (the examples are each demo's
    # defaults, which the lessons run anyway).
    with make_client(max_jobs=1, max_queue=4, job_seconds=2, cache_mb=0) as c:
        yield c


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def query_of(parameters: list[dict[str, Any]]) -> dict[str, str]:
    """The query string Swagger sends from the parameters' examples (JSON text for lists)."""
    query = {}
    for parameter in parameters:
        if "content" in parameter:
            query[parameter["name"]] = json.dumps(parameter["content"]["application/json"]
                                                  ["example"])
        else:
            example = parameter["example"]
            query[parameter["name"]] = example if isinstance(example, str) else json.dumps(example)
    return query


def test_the_points_example_is_an_empty_list_not_pairs_of_nulls(document):
    body = document["paths"]["/api/demos/kmeans/run"]["post"]["requestBody"]
    example = body["content"]["application/json"]["example"]
    assert example["points"] == [] and example["k"] == registry()["kmeans"].defaults()["k"]
    stream = document["paths"]["/api/demos/kmeans/stream"]["get"]["parameters"]
    points = next(p for p in stream if p["name"] == "points")
    assert points["content"]["application/json"]["example"] == []
    schema = document["components"]["schemas"]["Params_kmeans"]
    assert schema["examples"] == [registry()["kmeans"].defaults()]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_demo_runs_its_documented_example_body(slug, client, document):
    body = document["paths"][f"/api/demos/{slug}/run"]["post"]["requestBody"]
    example = body["content"]["application/json"]["example"]
    response = client.post(f"/api/demos/{slug}/run", json=example)
    # 200, not a 422: the example is admitted (the short budget may stop the run early).
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["result"], dict)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_demo_notebook_path_takes_its_documented_query_examples(slug, client, document):
    operation = document["paths"][f"/api/demos/{slug}/notebook"]["get"]
    assert {p["name"] for p in operation["parameters"]} == set(registry()[slug].defaults())
    response = client.get(f"/api/demos/{slug}/notebook", params=query_of(operation["parameters"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ipynb+json")
    assert json.loads(response.text)["nbformat"] == 4
