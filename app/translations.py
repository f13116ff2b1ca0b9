"""Lesson translations: ``lessons/<lang>/<slug>.md`` beside ``lessons/<slug>.md``.

A translation carries only what is its own in its front matter (``title``, ``summary``)
and ``source_hash``: the first 12 hex digits of the SHA-256 of the English file it was
translated from. Everything else (order, tags, level, minutes) is the English lesson's,
so an author changes it once. When the English file's hash no longer matches, the page
says the translation may be out of date; ``python -m app translations`` lists each
lesson's state and the hash to write after an update.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from app.markdown_fences import LessonError

TRANSLATION_KEYS = ("title", "summary", "source_hash")
HASH_LENGTH = 12
_HASH = re.compile(rf"^[0-9a-f]{{{HASH_LENGTH}}}$")


def source_hash(path: Path) -> str:
    """The first 12 hex digits of the SHA-256 of the file's bytes (``sha256sum | cut -c1-12``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]


def translation_path(folder: Path, slug: str, lang: str) -> Path:
    return folder / lang / f"{slug}.md"


def check_translation_meta(meta: dict[str, Any], source: str) -> str:
    """A translation's front matter: title, summary and source_hash, nothing else; its
    source_hash as written (YAML would read 012345678901 as a number)."""

    def line_of(key: str) -> int:
        found = re.search(rf"^{re.escape(key)}\s*:", source, re.M)
        return source[: found.start()].count("\n") + 1 if found else 1

    extra = [key for key in meta if key not in TRANSLATION_KEYS]
    if extra:
        raise LessonError(f"front matter: a translation takes only {', '.join(TRANSLATION_KEYS)}"
                          f"; {extra[0]} comes from the English lesson", line_of(str(extra[0])))
    written = re.search(r"^source_hash\s*:\s*[\"']?([^\s\"']*)", source, re.M)
    given = written.group(1) if written else ""
    if not _HASH.match(given):
        raise LessonError("front matter: source_hash is the first 12 hex digits of the "
                          "English file's SHA-256 (sha256sum lessons/<slug>.md | cut -c1-12), "
                          f"not {given!r}", line_of("source_hash"))
    return given
