"""A demo's words in the page's language: what it declares and what its frames draw.

A demo is written in English once. Its declared words (title, description, control
labels and help, choices, chart titles, axis titles, trace names, summaries) and the
words its frames carry (trace names, axis and annotation text, metric names) are
translated on the way to the page through the catalogue (app/i18n.py), so a demo
author never writes a second language; ``python -m app i18n`` collects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.demos.base import X_LABEL, Demo
from app.i18n import DEFAULT_LANGUAGE, current_language, gettext, t, translate_text

# Plotly keys whose string value is a word a student reads. A list of strings (a trace's
# per-point ``text``, an axis's ``ticktext``) is data: tokens, sentences, a model's output.
TEXT_KEYS = frozenset({"text", "name", "title"})
# Keys never entered: numbers, ids, styles, colours, templates shown only on hover.
SKIP_KEYS = frozenset({"x", "y", "z", "customdata", "ids", "hovertemplate", "marker",
                       "line", "colorscale", "font", "meta", "uid"})


def plotly_texts(obj: Any, key: str | None = None, ticks: bool = False) -> Iterator[str]:
    """Every string a student reads in a Plotly figure, layout, trace or frame op (and
    with ``ticks``, the axes' tick words, which may be data)."""
    if isinstance(obj, dict):
        for k, value in obj.items():
            if k not in SKIP_KEYS or k == "marker":  # a marker's colour bar has a title
                yield from plotly_texts(value, k, ticks)
    elif isinstance(obj, list):
        for value in obj:
            if isinstance(value, dict | list):
                yield from plotly_texts(value, key, ticks)
            elif ticks and key == "ticktext" and isinstance(value, str):
                yield value
    elif isinstance(obj, str) and key in TEXT_KEYS:
        yield obj


def translate_plotly(obj: Any, key: str | None = None) -> Any:
    """A copy of a Plotly structure with its words (plotly_texts) translated. Tick words
    stay: they are tokens, dates, a sentence the reader typed ("Run" there is not 运行)."""
    if isinstance(obj, dict):
        return {k: (translate_plotly(v, k) if k not in SKIP_KEYS or k == "marker" else v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [translate_plotly(v, key) if isinstance(v, dict | list) else v for v in obj]
    if isinstance(obj, str) and key in TEXT_KEYS:
        return translate_text(obj)
    return obj


def metric_words(key: str, labels: dict[str, str]) -> str:
    """How the page names a metric: its declared label, or its key with spaces."""
    return labels.get(key, key.replace("_", " "))


def translate_frame(frame: dict[str, Any], demo: Demo) -> dict[str, Any]:
    """A frame in the current language: chart words, and ``metric_labels`` naming each
    metric in it (the page prefers them to its English labels). English: the frame."""
    if current_language() == DEFAULT_LANGUAGE or not isinstance(frame, dict):
        return frame
    out = dict(frame)
    if isinstance(frame.get("charts"), dict):
        out["charts"] = {chart: translate_plotly(op) for chart, op in frame["charts"].items()}
    metrics = frame.get("metrics")
    if isinstance(metrics, dict):
        out["metrics"] = {k: translate_text(v) if isinstance(v, str) else v
                          for k, v in metrics.items()}
        out["metric_labels"] = {k: translate_text(metric_words(k, demo.metric_labels))
                                for k in metrics}
    return out


def names_itself(label: str, name: str) -> bool:
    """Does the label already show the field's name ("平滑参数 k" for k, "β" is not "beta")?"""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", label) is not None


def control_label(name: str, prop: dict[str, Any]) -> str:
    """The English words of a control's label (app/controls.py shows their translation)."""
    return prop.get(X_LABEL, name.replace("_", " "))


def declared_texts(demo: Demo) -> Iterator[tuple[str, str]]:
    """(English text, where it shows) for every word a demo declares."""
    yield demo.title, "demo title"
    yield demo.description, "demo description"
    properties = demo.schema().get("properties", {})
    defs = demo.schema().get("$defs", {})
    for name, prop in properties.items():
        yield control_label(name, prop), f"control label ({name})"
        if prop.get("description"):
            yield prop["description"], f"control help ({name})"
        for option in _choices(prop, defs):
            yield option, f"choice of {name}"
    for chart in demo.charts:
        yield chart.title, f"chart title ({chart.id})"
        if chart.summary:
            yield chart.summary, f"chart summary for screen readers ({chart.id})"
        for text in plotly_texts({"layout": chart.layout, "data": chart.traces}):
            yield text, f"chart words ({chart.id})"
    for label in demo.metric_labels.values():
        yield label, "metric"


def _choices(prop: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """The string choices of a select control (its enum), as the page lists them."""
    options = [prop, *prop.get("anyOf", [])]
    for option in list(options):
        ref = option.get("$ref", "").rsplit("/", 1)[-1]
        if ref in defs:
            options.append(defs[ref])
    return [v for o in options for v in o.get("enum", []) if isinstance(v, str)]


def localised_error(item: dict[str, Any], demo: Demo) -> dict[str, Any]:
    """A 422 item (app/params.py) in the current language: the control's label and its
    name, what it accepts, what came. ``msg`` (FastAPI's, for tools and the runtime's
    hints) stays English. English: the item unchanged."""
    if current_language() == DEFAULT_LANGUAGE:
        return item
    from app.params import describe_bounds

    field = item.get("field", "")
    prop = demo.schema().get("properties", {}).get(field)
    english = item.get("message", "")
    got = re.search(r"; got (.{1,80})$", english)
    if item.get("type") == "extra_forbidden":
        known = ", ".join(sorted(demo.schema().get("properties", {})))
        message = t("{field}: not a parameter of this demo; its parameters: {known}",
                    field=field, known=known)
    elif prop is None:
        message = translate_text(english)
    else:
        label = gettext(control_label(field, prop))
        accepts = describe_bounds(item.get("bounds") or {})
        if accepts and item.get("type") != "value_error":
            reason = t("must be {accepts}", accepts=accepts)
        else:  # a validator's own sentence, after "field: "
            reason = translate_text(english.split(": ", 1)[-1].split("; got ")[0])
        message = (t("{field}: {reason}", field=field, reason=reason)
                   if label == field else t("{label}: {reason}", label=label, reason=reason)
                   if names_itself(label, field) else
                   t("{label} ({field}): {reason}", label=label, field=field, reason=reason))
        if got:
            message += t("; got {value}", value=got.group(1))
    return {**item, "message": message}
