"""Static asset URLs with a content hash, so browsers may cache them for a year.

The demo runtime is a set of ES modules (static/js/runtime/) that import each other by
bare specifiers (``livegrad/ops.js``); the page's import map turns each into its hashed
URL, so a changed module gets a new URL even though the modules importing it do not
change. The map is inline, hence its hash in the Content-Security-Policy (app/security.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache

from app.config import ROOT

STATIC = ROOT / "static"
RUNTIME = "js/runtime"  # under STATIC: the demo runtime's modules
RUNTIME_PREFIX = "livegrad/"  # their bare specifiers: livegrad/<file name>


@lru_cache(maxsize=256)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]


def asset_url(path: str) -> str:
    """``css/site.css`` → ``/static/css/site.css?v=<hash of its bytes>``."""
    file = STATIC / path
    return f"/static/{path}?v={_digest(path, file.stat().st_mtime)}"


def import_map_json() -> str:
    """The page's import map: ``livegrad/<module>.js`` → its hashed URL, for every module
    in static/js/runtime/, as the exact text of the ``<script type="importmap">``."""
    modules = sorted(path.name for path in (STATIC / RUNTIME).glob("*.js"))
    imports = {RUNTIME_PREFIX + name: asset_url(f"{RUNTIME}/{name}") for name in modules}
    # "<" escaped: the text sits inside a <script> element.
    return json.dumps({"imports": imports}, indent=1).replace("<", "\\u003c")


def import_map_csp_source() -> str:
    """The CSP source that allows exactly this import map: ``'sha256-<base64 digest>'``."""
    digest = hashlib.sha256(import_map_json().encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
