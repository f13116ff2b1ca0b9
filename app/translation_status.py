"""``python -m app translations``: which lesson translations are missing or out of date.

For each language and each English lesson: ``ok``, ``missing``, or ``stale`` with the
``source_hash`` to write into the translation's front matter once it says again what the
English says (``git log -p lessons/<slug>.md`` shows what changed since). The exit status
is 1 while any is missing or stale, so a CI job can insist on complete translations."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.config import get_settings
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES
from app.markdown import lesson_files
from app.translations import source_hash, translation_path


def translation_states(folder: Path, lang: str) -> list[tuple[str, str, str]]:
    """(slug, "ok" | "missing" | "stale", the English file's hash now) per lesson."""
    import yaml

    states = []
    for path in lesson_files(folder):
        now = source_hash(path)
        translated = translation_path(folder, path.stem, lang)
        if not translated.is_file():
            states.append((path.stem, "missing", now))
            continue
        front = translated.read_text(encoding="utf-8").split("---", 2)
        meta = yaml.safe_load(front[1]) if len(front) == 3 else {}
        written = str((meta or {}).get("source_hash", ""))
        states.append((path.stem, "ok" if written == now else "stale", now))
    return states


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="folder of lesson .md files (default: LIVEGRAD_LESSONS_DIR, "
                             "else lessons/)")


def main(args: argparse.Namespace) -> int:
    folder = args.folder or get_settings().lessons_dir
    behind = 0
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        for slug, state, now in translation_states(folder, lang):
            hint = f"  (source_hash: {now})" if state != "ok" else ""
            print(f"{lang}/{slug}.md: {state}{hint}")
            behind += state != "ok"
    return 1 if behind else 0
