"""``python -m app check [DIR]``: render every lesson of a folder, print each mistake as
``file:line: message`` (the form editors jump to), exit 1 if there is any.

It renders exactly as the server does (app/lessons.py), in seconds, without starting it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from app.config import get_settings
from app.lessons import parse_lesson
from app.markdown import LessonError, lesson_files


def problems_in(folder: Path) -> tuple[int, list[LessonError]]:
    """(how many lessons the folder has, every mistake of every one, by file and line)."""
    files = lesson_files(folder)
    found: list[LessonError] = []
    for path in files:
        try:
            parse_lesson(path)
        except LessonError as exc:
            found.extend(exc.problems)
    return len(files), found


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
