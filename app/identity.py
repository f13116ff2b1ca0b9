"""Who a client is, for rate limits: a browser, by a signed cookie, not an IP address.

A class behind one school router shares one address; counting runs per address made
ten students one client. So every HTML page gives its visitor a random browser id in a
cookie, signed with the server's secret (HMAC-SHA256, the standard library's ``hmac``)
so nobody can take another browser's id. Requests without a valid cookie (a script,
curl) still count by their address (:class:`app.limits.ClientKeys`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.limits import ClientKeys

COOKIE = "livegrad_browser"
MAX_AGE = 365 * 24 * 3600  # seconds: a browser stays itself for the school year
ID = re.compile(r"[A-Za-z0-9_-]{16}")


class BrowserIds:
    """Mints and checks signed browser ids (``<id>.<mac>``)."""

    def __init__(self, secret: str = "") -> None:
        # No secret configured: a random one, so ids last as long as this server runs.
        self.key = (secret or secrets.token_hex(32)).encode()

    def _mac(self, browser: str) -> str:
        return hmac.new(self.key, browser.encode(), hashlib.sha256).hexdigest()[:32]

    def new_token(self) -> str:
        browser = secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]
        return f"{browser}.{self._mac(browser)}"

    def verify(self, token: str | None) -> str | None:
        """The browser id a cookie value carries, or None if it is missing or forged."""
        browser, _, mac = (token or "").partition(".")
        if not ID.fullmatch(browser) or not hmac.compare_digest(mac, self._mac(browser)):
            return None
        return browser


class ClientIdentity:
    """The key a client's runs are counted under: its browser, else its address."""

    def __init__(self, ids: BrowserIds, addresses: ClientKeys) -> None:
        self.ids = ids
        self.addresses = addresses

    def of(self, request: Request) -> str:
        browser = self.ids.verify(request.cookies.get(COOKIE))
        return f"browser {browser}" if browser else f"address {self.addresses.of(request)}"


class BrowserCookie:
    """ASGI middleware: an HTML page sent to a visitor without a valid browser id sets one."""

    def __init__(self, app: ASGIApp, ids: BrowserIds) -> None:
        self.app = app
        self.ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.ids.verify(_cookie(scope)):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    value = (f"{COOKIE}={self.ids.new_token()}; Path=/; Max-Age={MAX_AGE}; "
                             "HttpOnly; SameSite=Lax")
                    headers.append((b"set-cookie", value.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str | None:
    raw = b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie").decode("latin-1")
    morsel = SimpleCookie(raw).get(COOKIE) if raw else None
    return morsel.value if morsel else None
