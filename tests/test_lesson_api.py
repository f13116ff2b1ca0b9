"""GET /api/lessons/{slug}: a lesson's demo instances and exercises, for teachers' scripts.

The instances are the ones the page renders (recorded while the lesson is parsed), with
the values the page sends and a share link in the page's own form; the links are read
back with the rules the page and the query string share (app/params.py from_query), and
one in a real browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.demos import registry
from app.params import from_query, parse_params
from tests.helpers import LESSONS, make_client

LESSON = """---
title: Clusters, twice
summary: Two k-means demos and two exercises.
---

## Moons

```demo kmeans
:id: two-moons
:title: Two *moons*
:caption: k-means cuts each moon in two.
:hide: n_points, init
:autorun: false
dataset: moons
k: 2
points: [[1.5, -2], [0, 0.25]]
```

```demo kmeans
:id: plain
```

```demo attention
text: the cat sat & the mat
causal: true
```

:::: exercise Count the *steps*
Do it by hand.
::: solution
Three.
:::
::::

:::: exercise
No solution here.
::::
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "clusters.md").write_text(LESSON)
    broken = "---\ntitle: Broken\nsummary: x\n---\n\n```demo nope\n```\n"
    (tmp_path / "broken.md").write_text(broken)
    with make_client(lessons_dir=tmp_path, executor="threads") as c:
        yield c


def read_back(share_url: str, instance: str, demo: str) -> dict:
    """The values a share link gives its instance: its ``<instance>.<param>`` keys, parsed
    as the page and GET /stream parse them, over the demo's defaults."""
    parts = urlsplit(share_url)
    query = {key.removeprefix(f"{instance}."): value for key, value in parse_qsl(parts.query)
             if key.startswith(f"{instance}.")}
    assert len(query) == len(parse_qsl(parts.query)), "keys of another instance"
    return parse_params(registry()[demo], from_query(registry()[demo], query)).model_dump(
        mode="json")


def test_instances_in_page_order_with_presets_hidden_controls_and_autorun(client):
    response = client.get("/api/lessons/clusters")
    assert response.status_code == 200
    lesson = response.json()
    assert lesson["title"] == "Clusters, twice" and lesson["url"] == "/lessons/clusters"
    moons, plain, attention = lesson["instances"]
    defaults = registry()["kmeans"].defaults()
    assert moons["id"] == "two-moons" and moons["demo"] == "kmeans"
    assert moons["title"] == "Two moons"  # inline Markdown as plain text
    assert moons["caption"] == "k-means cuts each moon in two."
    assert moons["presets"] == {**defaults, "dataset": "moons", "k": 2,
                                "points": [[1.5, -2.0], [0.0, 0.25]]}
    assert moons["hide"] == ["n_points", "init"] and moons["autorun"] is False
    assert plain["presets"] == defaults and plain["hide"] == [] and plain["autorun"] is True
    assert plain["title"] == registry()["kmeans"].title and plain["caption"] is None
    assert plain["share_url"] == "/lessons/clusters#demo-plain"  # nothing differs
    assert attention["id"] == "attention"  # a demo used once: its slug
    assert attention["presets"]["text"] == "the cat sat & the mat"


def test_share_urls_read_back_to_the_instance_presets(client):
    for instance in client.get("/api/lessons/clusters").json()["instances"]:
        url = instance["share_url"]
        assert url.startswith("/lessons/clusters") and url.endswith(f"#demo-{instance['id']}")
        assert read_back(url, instance["id"], instance["demo"]) == instance["presets"]
    moons = client.get("/api/lessons/clusters").json()["instances"][0]
    # Only what differs from the demo's defaults; lists as JSON text, as Copy link writes.
    assert dict(parse_qsl(urlsplit(moons["share_url"]).query)) == {
        "two-moons.dataset": "moons", "two-moons.k": "2",
        "two-moons.points": "[[1.5,-2.0],[0.0,0.25]]"}


def test_share_urls_of_every_shipped_lesson_read_back(client):
    with make_client(lessons_dir=LESSONS, executor="threads") as shipped:
        for summary in shipped.get("/api/lessons").json():
            lesson = shipped.get(f"/api/lessons/{summary['slug']}").json()
            assert [i["demo"] for i in lesson["instances"]][:1] == summary["demos"][:1]
            for instance in lesson["instances"]:
                assert read_back(instance["share_url"], instance["id"],
                                 instance["demo"]) == instance["presets"], instance["id"]


def test_exercises_are_numbered_with_title_and_whether_a_solution_is_given(client):
    exercises = client.get("/api/lessons/clusters").json()["exercises"]
    assert exercises == [{"number": 1, "title": "Count the *steps*", "has_solution": True},
                         {"number": 2, "title": "", "has_solution": False}]


@pytest.mark.parametrize("slug", ["nope", "broken", "Not-A-Slug"])
def test_an_unknown_or_broken_lesson_is_a_404_in_the_one_error_shape(client, slug):
    response = client.get(f"/api/lessons/{slug}")
    assert response.status_code == 404
    (item,) = response.json()["detail"]
    assert item["field"] == "slug" and item["loc"] == ["path", "slug"]
    assert item["type"] == "not_found"
    assert ("has a mistake" in item["message"]) == (slug == "broken")
