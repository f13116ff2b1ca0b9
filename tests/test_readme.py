"""The README against the code (Datasette-style): settings and routes are documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.main import create_app

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, including routers FastAPI wraps on include."""
    for route in routes:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is not None and methods:
            for method in sorted(methods - {"HEAD"}):
                yield method, prefix + path
        inner = getattr(route, "original_router", None)  # FastAPI ≥ 0.16x: included router
        if inner is not None:
            extra = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from api_routes(inner.routes, prefix + extra)


ROUTES = sorted(
    {(m, p) for m, p in api_routes(create_app().routes) if p.startswith("/api") or p == "/healthz"}
)


def test_readme_opens_with_the_two_commands():
    head = "\n".join(TEXT.splitlines()[:10])
    assert "make run" in head
    assert "make test" in head


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name):
    assert f"LIVEGRAD_{name.upper()}" in TEXT, f"README lacks LIVEGRAD_{name.upper()}"


def test_routes_were_found():
    # Guards the walk above: a FastAPI upgrade must not make the next test vacuous.
    paths = {path for _, path in ROUTES}
    assert {"/healthz", "/api/demos/{slug}/run", "/api/demos/{slug}/stream"} <= paths


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_api_route_is_documented(method, path):
    assert f"{method} {path}" in TEXT, f"README lacks `{method} {path}`"
