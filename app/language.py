"""Which language a request is in: the URL for pages, Accept-Language for the API.

Pages: ``/zh/...`` is Chinese and the unprefixed path English, so a link says its
language. ``?lang=zh`` or ``?lang=en`` on any page is a choice: it is remembered in a
cookie and the browser goes to that language's address. An unprefixed page follows the
remembered choice, else (a first visit) the browser's Accept-Language, by redirecting a
Chinese reader to ``/zh/...``. The API (``/api/...``) answers in the language its
Accept-Language names (the page's runtime sends its own), English by default.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import COOKIE, DEFAULT_LANGUAGE, LANGUAGES, lang_path, negotiate, strip_prefix

# Paths that are never pages: no prefix, no redirect (their language is Accept-Language).
NOT_PAGES = ("/api", "/static", "/openapi.json", "/healthz", "/favicon")
COOKIE_SECONDS = 365 * 24 * 3600


def request_language(request: Request) -> str:
    """The language this request is answered in."""
    lang = request.scope.get("state", {}).get("lang")
    if lang:
        return lang
    return negotiate(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE


def _remember(lang: str) -> tuple[bytes, bytes]:
    cookie = f"{COOKIE}={lang}; Max-Age={COOKIE_SECONDS}; Path=/; SameSite=Lax"
    return b"set-cookie", cookie.encode()


class LanguageRouting:
    """Pure ASGI middleware: strips ``/zh`` from the path and records the language in
    ``scope["state"]["lang"]``; redirects unprefixed pages as the module docstring says."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_PAGES):
            await self.app(scope, receive, send)
            return
        prefix, bare = strip_prefix(scope["path"])
        while prefix == DEFAULT_LANGUAGE and strip_prefix(bare)[0] == DEFAULT_LANGUAGE:
            prefix, bare = strip_prefix(bare)
        raw_query = scope.get("query_string", b"").decode("utf-8", "replace")
        query = parse_qsl(raw_query, keep_blank_values=True)
        # ?lang=zh, ?lang=ZH, ?lang=zh-CN: a language tag, read as Accept-Language reads one.
        chosen = next((negotiate(v) for k, v in query if k == "lang" and negotiate(v)), None)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        # Starlette's parser, as a browser sends cookies: one malformed cookie of another
        # app on this host does not hide ours.
        remembered = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        reading = scope["method"] in ("GET", "HEAD")

        if chosen and reading:  # a choice: remember it, and go to that language's address
            rest = urlencode([(k, v) for k, v in query if k != "lang"])
            target = lang_path(bare, chosen) + (f"?{rest}" if rest else "")
            await _redirect(send, target, remember=chosen)
            return
        if prefix == DEFAULT_LANGUAGE and reading:  # /en/... is the unprefixed address
            target = bare + (f"?{raw_query}" if raw_query else "")
            await _redirect(send, target, remember=DEFAULT_LANGUAGE)
            return
        if prefix is None and reading and "text/html" in headers.get("accept", "text/html"):
            wanted = remembered if remembered in LANGUAGES else negotiate(
                headers.get("accept-language", ""))
            if wanted and wanted != DEFAULT_LANGUAGE:
                target = lang_path(bare, wanted) + (f"?{raw_query}" if raw_query else "")
                await _redirect(send, target)
                return
        lang = prefix or DEFAULT_LANGUAGE
        scope = dict(scope)
        scope["path"] = bare
        scope["raw_path"] = bare.encode()
        scope["state"] = {**scope.get("state", {}), "lang": lang}
        remember = prefix is not None and remembered != lang
        extra = [_remember(lang)] if remember else []
        if prefix is None:  # the same address answers by cookie and Accept-Language
            extra.append((b"vary", b"Cookie, Accept-Language"))

        async def send_remembering(message: Message) -> None:
            if extra and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_remembering)


def _same_site(target: str) -> str:
    """A Location on this site: "//evil.example" or "/\\evil.example" (another host, to a
    browser) becomes "/evil.example", and the path is percent-encoded (no CR/LF, no
    non-ASCII in a header)."""
    path, mark, query = target.partition("?")
    path = "/" + path.lstrip("/\\")
    return (quote(path, safe="/:@!$&'()*+,;=-._~%") + mark
            + quote(query, safe="/:@!$&'()*+,;=-._~%?"))


async def _redirect(send: Send, target: str, remember: str | None = None) -> None:
    headers = [(b"location", _same_site(target).encode("latin-1", "replace")),
               (b"vary", b"Cookie, Accept-Language"),
               (b"cache-control", b"no-store"), (b"content-length", b"0")]
    if remember:
        headers.append(_remember(remember))
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
