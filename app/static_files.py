"""Static files that load fast in a classroom: gzipped once, cached for a year.

Asset URLs carry a content hash (``?v=…``, see app/assets.py), so a browser may keep
them forever; a changed file gets a new URL. Text assets are gzipped once and kept in
memory — compressing the Plotly bundle per request would stall the event loop.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "text/javascript")
YEAR = "public, max-age=31536000, immutable"


@lru_cache(maxsize=64)
def _gzipped(path: str, mtime: float, size: int) -> bytes:
    with open(path, "rb") as file:
        return gzip.compress(file.read(), compresslevel=9, mtime=0)


class ClassroomStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        hashed = b"v=" in scope.get("query_string", b"")
        response.headers["cache-control"] = YEAR if hashed else "no-cache"
        if response.status_code != 200 or not isinstance(response, FileResponse):
            return response
        media_type = response.media_type or ""
        accepts = Headers(scope=scope).get("accept-encoding", "")
        if "gzip" not in accepts or not media_type.startswith(COMPRESSIBLE):
            return response
        stat = response.stat_result or os.stat(response.path)
        body = _gzipped(str(response.path), stat.st_mtime, stat.st_size)
        headers = {
            "cache-control": response.headers["cache-control"],
            "content-encoding": "gzip",
            "vary": "Accept-Encoding",
            "etag": response.headers.get("etag", ""),
            "last-modified": response.headers.get("last-modified", ""),
        }
        return Response(body, media_type=response.media_type,
                        headers={k: v for k, v in headers.items() if v})
