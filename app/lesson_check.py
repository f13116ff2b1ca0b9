"""``python -m app check [DIR]``: render every lesson of a folder and its translations,
print each mistake as ``file:line: message`` (the form editors jump to), exit 1 if there
is any.

It renders exactly as the server does (app/lessons.py), in seconds, without starting it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from app.config import get_settings
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, use_language
from app.lessons import parse_lesson
from app.markdown import LessonError, lesson_files
from app.translations import translation_path


def problems_in(folder: Path) -> tuple[int, list[LessonError]]:
    """(how many lessons the folder has, every mistake of every one, by file and line).

    Translations (lessons/<lang>/<slug>.md) count as lessons, rendered as their pages are;
    one of a broken English lesson is not tried (its source has to be fixed first)."""
    files = lesson_files(folder)
    found: list[LessonError] = []
    count = len(files)
    for path in files:
        try:
            english = parse_lesson(path)
        except LessonError as exc:
            found.extend(exc.problems)
            continue
        for lang in LANGUAGES:
            translated = translation_path(folder, path.stem, lang)
            if lang == DEFAULT_LANGUAGE or not translated.is_file():
                continue
            count += 1
            try:
                with use_language(lang):
                    parse_lesson(translated, english)
            except LessonError as exc:
                found.extend(exc.problems)
    return count, found


def check(folder: Path, out: TextIO | None = None) -> int:
    """Print the mistakes of the lessons in ``folder`` (to stdout); the exit status:
    0 none, 1 some, 2 no such folder."""
    out = out or sys.stdout
    if not folder.is_dir():
        print(f"{folder}: no such folder", file=out)
        return 2
    count, found = problems_in(folder)
    for problem in found:
        where = folder / problem.file if problem.file else folder
        print(f"{where}:{problem.line or 1}: {problem.message}", file=out)
    broken = len({problem.file for problem in found})
    summary = (f"{len(found)} mistake{'s' * (len(found) != 1)} in {broken} of {count} lessons"
               if found else f"{count} lesson{'s' * (count != 1)}, no mistakes")
    print(summary, file=out)
    return 1 if found else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="folder of lesson .md files (default: LIVEGRAD_LESSONS_DIR, "
                             "else lessons/)")


def main(args: argparse.Namespace) -> int:
    return check(args.folder or get_settings().lessons_dir)
