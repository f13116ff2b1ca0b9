"""The README against the code (Datasette-style): settings and routes are documented."""

from __future__ import annotations

import re
import sys
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


def test_the_complete_demo_example_runs_under_the_contract(tmp_path: Path, monkeypatch) -> None:
    """The README's `line-fit` example is real code: it imports, passes the contract's
    checks on a demo, and fits the line it promises (w ≈ 2, b ≈ 0.5)."""
    import importlib.util

    from tests.helpers import run_to_done
    from tests.test_contract import (
        test_defaults_and_extremes_run_to_done_with_finite_json_frames as runs_to_done,
    )
    from tests.test_contract import test_params_are_bounded_described_and_closed as closed

    section = TEXT[TEXT.index("### A complete example"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "line_fit.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("line_fit", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "line_fit", module)  # pydantic resolves annotations there
    spec.loader.exec_module(module)
    closed(module.demo)
    for which in ("defaults", "min", "max"):
        runs_to_done(module.demo, which)
    frames, result = run_to_done(module.demo, {"steps": 400, "noise": 0.0, "lr": 0.5})
    assert abs(result["w"] - 2) < 0.05 and abs(result["b"] - 0.5) < 0.05
    loss = [f["charts"]["loss"] for f in frames]
    assert all(op["op"] == "extend" for op in loss)  # frames extend the declared line
