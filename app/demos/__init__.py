"""The demo registry: every module in this package that defines ``demo`` is a demo.

Adding a demo means adding one file here; nothing else needs to know about it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from app.demos.base import Demo

_NOT_DEMOS = {"base"}


@lru_cache
def registry() -> dict[str, Demo]:
    """All demos by slug, discovered by importing this package's modules."""
    demos: dict[str, Demo] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name in _NOT_DEMOS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        demo = getattr(module, "demo", None)
        if not isinstance(demo, Demo):
            continue
        if demo.slug in demos:
            raise RuntimeError(f"two demos share the slug {demo.slug!r}")
        demos[demo.slug] = demo
    return demos


def get_demo(slug: str) -> Demo | None:
    return registry().get(slug)
