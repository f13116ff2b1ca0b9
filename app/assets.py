"""Static asset URLs with a content hash, so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from app.config import ROOT

STATIC = ROOT / "static"


@lru_cache(maxsize=256)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]


def asset_url(path: str) -> str:
    """``css/site.css`` → ``/static/css/site.css?v=<hash of its bytes>``."""
    file = STATIC / path
    return f"/static/{path}?v={_digest(path, file.stat().st_mtime)}"
