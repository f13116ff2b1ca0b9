"""The classroom cache on disk: finished runs kept across a restart (``LIVEGRAD_CACHE_FILE``).

A teacher fills the cache before class (``python -m app prepare``) and may restart the
server afterwards; with a cache file the server reads its finished runs back at start and
writes them out again when it stops. Only the in-process cache (app/cache.py
:class:`InProcessCache`) is kept so: a Ray cluster's shared store is an actor that outlives
any one replica already.

The file is JSON lines, never pickle, so a file on disk cannot run code: a header
``{"format": "livegrad-cache", "version": 1, "fingerprint": "<hex>"}``, then one run per
line ``{"key": str, "events": [[name, payload], …], "offsets": [seconds, …]}``, least
recently used first. Runs are replayed only if they were made by the same code: the
fingerprint hashes the sources under app/demos and app/ml, the frame encoding
(app/executors/job.py) and the torch version; a file with another fingerprint, or one that
cannot be read, is ignored with one log line (the server then starts with an empty cache).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from app.cache import Event, RunCache, event_size

log = logging.getLogger("livegrad.cache")

FORMAT, VERSION = "livegrad-cache", 1
APP = Path(__file__).resolve().parent
# What the frames of a run depend on: the demos, the algorithms, how frames are encoded.
SOURCES = (APP / "demos", APP / "ml", APP / "executors" / "job.py")


class BadCacheFile(ValueError):
    """The file is not a cache file this code can read (what is wrong, in words)."""


def fingerprint(sources: tuple[Path, ...] = SOURCES) -> str:
    """A hex digest (64 characters) of every ``.py`` file under ``sources`` (paths and
    contents) and of the installed torch version: it changes whenever a run could."""
    digest = hashlib.sha256()
    try:
        digest.update(f"torch {metadata.version('torch')}\n".encode())
    except metadata.PackageNotFoundError:
        digest.update(b"torch none\n")
    for source in sources:
        for path in [source] if source.is_file() else sorted(source.rglob("*.py")):
            digest.update(str(path.relative_to(source.parent)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def save(runs: RunCache, path: Path, code: str | None = None) -> int:
    """Write every run of ``runs`` to ``path`` atomically (a temporary file in the same
    folder, then ``os.replace``): a crash mid-write leaves the old file whole.

    ``code`` is the fingerprint to stamp (default: :func:`fingerprint`). Returns how many
    runs were written; raises OSError if the folder cannot be written.
    """
    code = code or fingerprint()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps({"format": FORMAT, "version": VERSION,
                                  "fingerprint": code}) + "\n")
            entries = runs.entries()
            for key, recording in entries:
                out.write(json.dumps({"key": key, "events": recording.events,
                                      "offsets": recording.offsets},
                                     separators=(",", ":"), allow_nan=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(entries)


def _run(line: str, number: int) -> tuple[str, list[Event], list[float]]:
    """One run line, checked: (key, events, offsets); raises BadCacheFile."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadCacheFile(f"line {number} is not JSON: {exc}") from None
    key, events, offsets = (item.get(name) if isinstance(item, dict) else None
                            for name in ("key", "events", "offsets"))
    if not (isinstance(key, str) and isinstance(events, list) and isinstance(offsets, list)
            and len(events) == len(offsets)
            and all(isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)
                    and isinstance(e[1], (str, dict)) for e in events)
            and all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in offsets)):
        raise BadCacheFile(f"line {number} is not a run (key, events, offsets)")
    return key, [(name, payload) for name, payload in events], [float(o) for o in offsets]


def load(runs: RunCache, path: Path, code: str | None = None) -> int:
    """Put the runs of the cache file ``path`` into ``runs``; how many were put.

    ``runs`` bounds them as it bounds any run (its ``max_bytes``; the most recently used
    are kept). Nothing is put, with one log line, if the file is missing, unreadable,
    malformed, or was made by other code (``code``, default :func:`fingerprint`): never
    raises for the file's sake.
    """
    if not path.is_file():
        log.info("cache file %s does not exist yet: starting with an empty cache", path)
        return 0
    code = code or fingerprint()
    try:
        with path.open(encoding="utf-8") as lines:
            header = _header(next(lines, ""))
            if header.get("fingerprint") != code:
                log.warning("cache file %s ignored: its runs were made by other code (the "
                            "demos, algorithms or torch changed since)", path)
                return 0
            loaded = [_run(line, number) for number, line in enumerate(lines, start=2)
                      if line.strip()]
    except (OSError, UnicodeDecodeError, BadCacheFile) as exc:
        log.warning("cache file %s ignored: %s", path, exc)
        return 0
    for key, events, offsets in loaded:
        runs.put(key, events, sum(event_size(event) for event in events), offsets)
    return sum(key in runs for key, _, _ in loaded)


def _header(line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not (isinstance(header, dict) and header.get("format") == FORMAT):
        raise BadCacheFile("it is not a LiveGrad cache file (no header line)")
    if header.get("version") != VERSION:
        raise BadCacheFile(f"version {header.get('version')!r}, this server reads {VERSION}")
    return header
