"""What tests read from the page runtime's source (static/js/runtime/): its tables' names
and its imports, so that Python and JavaScript are checked to agree."""

from __future__ import annotations

import re

from app.assets import RUNTIME, STATIC

RUNTIME_DIR = STATIC / RUNTIME


def js_table_names(module: str, table: str) -> list[str]:
    """The keys of ``export const <table> = { ... };`` in static/js/runtime/<module>: its
    entries are the lines indented by two spaces that open with ``name:`` or ``"name":``."""
    source = (RUNTIME_DIR / module).read_text(encoding="utf-8")
    body = re.search(rf"^export const {table} = \{{\n(.*?)^\}};", source, re.M | re.S)
    assert body, f"{module} has no table {table}"
    return re.findall(r'^  "?([\w-]+)"?:', body.group(1), re.M)


def js_imports(module: str) -> list[str]:
    """The specifiers ``module`` imports from (``livegrad/ops.js``, ...)."""
    source = (RUNTIME_DIR / module).read_text(encoding="utf-8")
    return re.findall(r'^import .*? from "([^"]+)";', source, re.M | re.S)
