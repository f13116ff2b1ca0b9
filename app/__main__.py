"""``python -m app <command>``: small tools around the server.

Each command is one entry of COMMANDS: a name → (help, add_arguments, main), where
``add_arguments(parser)`` declares its arguments and ``main(args)`` returns the exit
status. ``check`` (app/lesson_check.py) lists the mistakes of every lesson;
``prepare`` (app/prepare.py) fills a running server's cache before class; ``i18n``
(app/i18n_extract.py) collects the interface's strings into the catalogues;
``translations`` (app/translation_status.py) says which lesson translations need work.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NamedTuple

from app import i18n_extract, lesson_check, prepare, translation_status


class Command(NamedTuple):
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    main: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "check": Command("render every lesson and print each mistake as file:line: message",
                     lesson_check.add_arguments, lesson_check.main),
    "prepare": Command("run every lesson's demo instances once on a running server, to fill "
                       "its cache before class", prepare.add_arguments, prepare.main),
    "i18n": Command("collect every interface string into app/locale/*.po (then translate "
                    "the empty msgstr entries)", i18n_extract.add_arguments, i18n_extract.main),
    "translations": Command("list each lesson's translations: up to date, out of date (with "
                            "the source_hash to write after updating) or missing",
                            translation_status.add_arguments, translation_status.main),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Tools for LiveGrad.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, command in COMMANDS.items():
        command.add_arguments(commands.add_parser(name, help=command.help,
                                                  description=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].main(args)


if __name__ == "__main__":
    sys.exit(main())
