"""The demo catalogue (/demos): every demo, its parameters, the lessons using it, and a
fence an author can paste into a lesson.

Labels and control kinds come from app/controls.py, bounds from app/params.py, as the
demo's own page and its 422 errors state them, so the catalogue never disagrees.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import yaml
from markupsafe import Markup

from app.controls import controls_for
from app.demos import registry
from app.demos.base import Demo
from app.i18n import N_, gettext, t
from app.lessons import Lesson
from app.markdown import highlight_code
from app.markdown_fences import render_listing
from app.params import describe_bounds, field_bounds

# The control kinds as the table names them (app/controls.py CONTROL_KINDS), for the catalogue.
KIND_WORDS = (N_("range"), N_("select"), N_("number"), N_("checkbox"), N_("text"),
              N_("points"), N_("csv"))

# A default longer than this is cut in the table (the fence keeps it whole).
SHOWN_DEFAULT = 60


@dataclass(frozen=True)
class Parameter:
    """One row of a demo's parameter table."""

    name: str
    label: str
    type: str  # the JSON Schema type: integer, number, string, boolean, array
    control: str  # the control the page shows: range, select, checkbox, text, ...
    bounds: str  # "between 1 and 12", "one of ...", "" when free
    default: str  # as written in a fence
    description: str


@dataclass(frozen=True)
class CatalogueEntry:
    slug: str
    title: str
    description: str
    parameters: list[Parameter]
    lessons: list[Lesson]  # those with a fence of this demo
    fence: str  # ```demo <slug> with every non-empty default, ready to paste
    listing: Markup  # the fence as a listing with a Copy button


def _resolved(prop: dict[str, Any]) -> dict[str, Any]:
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            return {**prop, **option}
    return prop


def _written(value: Any) -> str:
    """A value as a preset line writes it (YAML flow style, one line)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6,
                          allow_unicode=True).removesuffix("\n...\n").strip()


def parameters(demo: Demo) -> list[Parameter]:
    properties = demo.schema().get("properties", {})
    defaults = demo.defaults()
    rows = []
    for control in controls_for(demo, defaults):
        prop = _resolved(properties[control["name"]])
        default = _written(defaults[control["name"]])
        if len(default) > SHOWN_DEFAULT:
            default = default[: SHOWN_DEFAULT - 1] + "…"
        rows.append(Parameter(
            name=control["name"], label=control["label"], type=str(prop.get("type", "")),
            control=(t("{kind} (log scale)", kind=gettext(control["kind"]))
                     if control.get("scale") == "log" else gettext(control["kind"])),
            bounds=describe_bounds(field_bounds(prop)), default=default,
            description=control["help"]))
    return rows


def demo_fence(demo: Demo) -> str:
    """``demo <slug>`` with the demo's defaults as presets, empty ones left out; seed last."""
    values = demo.defaults()
    names = sorted(values, key=lambda name: name == "seed")
    lines = [f"{name}: {_written(values[name])}" for name in names
             if values[name] not in ("", [], None)]
    return "```demo {}\n{}\n```\n".format(demo.slug, "\n".join(lines))


def _highlighted(fence: str) -> str:
    """The fence's presets highlighted as YAML, its two ``` lines as they are."""
    opening, _, rest = fence.partition("\n")
    body = rest.removesuffix("```\n")
    return (f"{html.escape(opening)}\n{highlight_code(body, 'yaml') if body else ''}"
            "```\n")


def catalogue(lessons: list[Lesson]) -> list[CatalogueEntry]:
    """Every registered demo, by title."""
    entries = []
    for demo in registry().values():
        fence = demo_fence(demo)
        entries.append(CatalogueEntry(
            slug=demo.slug, title=gettext(demo.title), description=gettext(demo.description),
            parameters=parameters(demo),
            lessons=[lesson for lesson in lessons if demo.slug in lesson.demos],
            fence=fence,
            listing=Markup(render_listing(t("A fence for {demo}, with its defaults",
                                            demo=demo.slug),
                                          _highlighted(fence), 0, "markdown")),
        ))
    return sorted(entries, key=lambda entry: entry.title.lower())
