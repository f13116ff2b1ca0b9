"""The Jinja2 environment shared by pages and lesson rendering (autoescape on).

Templates write English and mark it for translation, ``{{ _("Lessons") }}`` or
``{% trans %}…{% endtrans %}`` (Jinja's i18n extension, new-style gettext: ``%`` never
needs escaping and ``_("{n} lessons", n=3)`` fills names); the words come out in the
language of app.i18n.use_language around the render.
"""

import re
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app import i18n
from app.assets import asset_url, import_map_json
from app.config import ROOT
from app.language import request_language

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True,
    extensions=["jinja2.ext.i18n"]))
templates.env.globals["asset"] = asset_url
templates.env.globals["import_map_json"] = import_map_json
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
templates.env.globals["translate"] = i18n.translate_text
# 'one of "blobs", "moons"', 'one of true, false': the JSON values a field accepts are code.
templates.env.filters["json_values_as_code"] = lambda text: Markup("").join(
    Markup("<code>{}</code>").format(piece) if i % 2 else piece
    for i, piece in enumerate(re.split(r'("[^"]*"|\btrue\b|\bfalse\b|\bnull\b)', text)))


def page_context(request: Request, lang: str) -> dict[str, Any]:
    """What base.html needs to speak the page's language and offer the others."""
    path = request.url.path
    query = request.url.query
    return {
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "url": lambda target: i18n.lang_path(target, lang),
        # ?lang= is a choice the server remembers (app/language.py), so it wins over the
        # cookie and Accept-Language; the address then loses it.
        "languages": [{"lang": other, "name": i18n.LANGUAGE_NAMES[other],
                       "title": i18n.SWITCH_TITLES[other],
                       "html_lang": i18n.HTML_LANG[other],
                       "href": _switch_href(path, query, other)}
                      for other in i18n.LANGUAGES if other != lang],
        "js_messages": i18n.js_messages(lang),
    }


def _switch_href(path: str, query: str, lang: str) -> str:
    """This page in ``lang``: on this site ("//evil.example" is a path here, not a host)."""
    path = "/" + path.lstrip("/\\")
    return i18n.lang_path(path, lang) + "?" + (f"{query}&" if query else "") + f"lang={lang}"


def render_page(request: Request, name: str, context: dict[str, Any],
                status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page in the request's language (app/language.py)."""
    lang = request_language(request)
    with i18n.use_language(lang):
        return templates.TemplateResponse(request, name, {**page_context(request, lang),
                                                          **context},
                                          status_code=status_code, headers=headers)
