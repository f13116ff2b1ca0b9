"""The README against the code (Datasette-style): settings and routes are documented."""

from __future__ import annotations

import re
import typing
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


def settings_table() -> dict[str, tuple[str, str]]:
    """The Configuration section's table: variable → (default, meaning)."""
    section = TEXT.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(LIVEGRAD_\w+)` \| (.*?) \| (.*) \|$", section, re.M)
    return {name: (default, meaning) for name, default, meaning in rows}


TABLE = settings_table()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name):
    variable = f"LIVEGRAD_{name.upper()}"
    assert variable in TABLE, f"README's Configuration table has no row for {variable}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_documented_defaults_are_the_real_ones(name):
    field = Settings.model_fields[name]
    if field.default_factory is not None or not isinstance(field.default, str | int | float):
        pytest.skip("computed default (cores, a path): described in words")
    documented = TABLE[f"LIVEGRAD_{name.upper()}"][0]
    if field.default == "":
        assert documented == "empty", f"{name}: documented default {documented!r}, real ''"
    elif isinstance(field.default, str):
        assert documented == f"`{field.default}`", f"{name}: {documented!r} ≠ {field.default!r}"
    else:
        number = float(documented.strip("`"))
        assert number == field.default, f"{name}: documented {number}, real {field.default}"


def test_every_choice_of_a_setting_is_documented():
    for name, field in Settings.model_fields.items():
        if typing.get_origin(field.annotation) is typing.Literal:
            _, meaning = TABLE[f"LIVEGRAD_{name.upper()}"]
            for choice in typing.get_args(field.annotation):
                assert f"`{choice}`" in meaning, f"LIVEGRAD_{name.upper()}: `{choice}` undocumented"


def test_the_table_lists_only_real_settings():
    assert len(TABLE) >= 10, "the Configuration table was not found"
    for variable in TABLE:
        assert variable.removeprefix("LIVEGRAD_").lower() in Settings.model_fields, (
            f"README documents {variable}, which is not a setting")


def test_the_class_section_names_the_cluster_settings():
    section = TEXT.split("## Running it for a class", 1)[1].split("\n## ", 1)[0]
    for name in ("LIVEGRAD_RAY_ADDRESS", "LIVEGRAD_RAY_NAMESPACE", "LIVEGRAD_MAX_JOBS",
                 "LIVEGRAD_EXECUTOR", "RAY_AUTH_TOKEN", "--scale ray-worker="):
        assert name in section, f"the class section does not mention {name}"


def test_routes_were_found():
    # Guards the walk above: a FastAPI upgrade must not make the next test vacuous.
    paths = {path for _, path in ROUTES}
    assert {"/healthz", "/api/demos/{slug}/run", "/api/demos/{slug}/stream"} <= paths


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_api_route_is_documented(method, path):
    assert f"{method} {path}" in TEXT, f"README lacks `{method} {path}`"
