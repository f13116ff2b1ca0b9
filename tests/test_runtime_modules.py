"""The page runtime is ES modules (static/js/runtime/) that import each other by bare
specifiers; the lesson page's import map gives each its content-hashed URL, and the
Content-Security-Policy allows that one inline script by its hash."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from fastapi.testclient import TestClient

from app.assets import RUNTIME_PREFIX, asset_url, import_map_json
from app.main import create_app
from tests.runtime_source import RUNTIME_DIR, js_imports

MODULES = sorted(path.name for path in RUNTIME_DIR.glob("*.js"))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())  # pages and static files: no jobs, so no lifespan


def test_the_import_map_names_every_runtime_module_by_its_hashed_url():
    imports = json.loads(import_map_json())["imports"]
    assert "main.js" in MODULES and "ops.js" in MODULES and "controls.js" in MODULES
    assert imports == {f"livegrad/{name}": asset_url(f"js/runtime/{name}") for name in MODULES}
    assert all(re.fullmatch(r"/static/js/runtime/\w+\.js\?v=[0-9a-f]{10}", url)
               for url in imports.values())


@pytest.mark.parametrize("module", MODULES)
def test_modules_import_only_runtime_modules_by_their_specifiers(module):
    for specifier in js_imports(module):
        assert specifier.startswith(RUNTIME_PREFIX), (module, specifier)
        assert specifier.removeprefix(RUNTIME_PREFIX) in MODULES, (module, specifier)


def test_a_lesson_page_maps_the_modules_and_its_policy_allows_only_that_inline_script(client):
    response = client.get("/lessons/kmeans")
    page = response.text
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", page, re.S)
    assert [attributes for attributes, _ in inline] == [' type="importmap"']
    text = inline[0][1]
    assert json.loads(text)["imports"]["livegrad/ops.js"].startswith("/static/js/runtime/ops.js?v=")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]*)", response.headers["content-security-policy"])
    assert script_src.group(1) == f"'self' 'sha256-{digest}'"
    main = re.search(r'<script type="module" src="([^"]+)"></script>', page).group(1)
    assert main == asset_url("js/runtime/main.js")
    module = client.get(main)
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert module.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_responses_other_than_pages_allow_no_inline_script_at_all(client):
    for path in ("/api/lessons", "/api/demos", "/static/css/site.css", "/openapi.json"):
        policy = client.get(path).headers["content-security-policy"]
        assert re.search(r"script-src ([^;]*)", policy).group(1) == "'self'", path
