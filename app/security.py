"""Security headers on every response: no inline script (but the runtime's import map),
no sniffing, no referrer leaks."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.assets import import_map_csp_source
from app.errors import error_body


def content_security_policy(extra_script_source: str = "") -> str:
    """The policy; ``extra_script_source`` is the hash of the one inline script a page may
    hold, the runtime's import map (app/assets.py)."""
    # Plotly and KaTeX set inline style attributes, hence 'unsafe-inline' for styles only.
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {extra_script_source}".strip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


OTHER_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
HEADERS = [(b"content-security-policy", content_security_policy().encode()), *OTHER_HEADERS]


def _headers_for(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """HTML pages may run their import map, and only that inline script; nothing else may."""
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if not content_type.startswith(b"text/html"):
        return HEADERS
    policy = content_security_policy(import_map_csp_source())
    return [(b"content-security-policy", policy.encode()), *OTHER_HEADERS]


class SecurityHeaders:
    """Pure ASGI middleware, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                message["headers"] = headers + _headers_for(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed.

    The body is read here first (it is small by then), so the app never sees a
    half-read request; afterwards ``receive`` passes through, so a streaming
    response still learns when its client disconnects.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before finishing its request
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        body_sent = False

        async def replay() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_body(413, f"request body over {self.max_bytes} bytes")).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ] + HEADERS})
        await send({"type": "http.response.body", "body": body})
