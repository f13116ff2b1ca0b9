"""Issue 18: ``python -m app check [DIR]`` prints every lesson mistake as file:line: message
and exits 1; on a good folder it exits 0."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

from app.__main__ import COMMANDS
from app.__main__ import main as app_main
from app.config import ROOT
from app.lesson_check import check
from tests.helpers import LESSONS

FRONT = "---\ntitle: T\nsummary: S.\n---\n\n"


def test_the_shipped_lessons_have_no_mistake():
    out = io.StringIO()
    assert check(LESSONS, out) == 0
    files = len(list(LESSONS.glob("*.md"))) + len(list(LESSONS.glob("*/*.md")))  # + translations
    assert out.getvalue() == f"{files} lessons, no mistakes\n"


def test_a_broken_translation_is_reported_on_its_line(tmp_path):
    (tmp_path / "zh").mkdir()
    (tmp_path / "one.md").write_text(FRONT + "## Part\n\nText.\n", encoding="utf-8")
    (tmp_path / "zh" / "one.md").write_text(
        "---\ntitle: 一\nsummary: 一。\nsource_hash: 0123456789ab\n---\n\n## 部分 {#part}\n\n"
        "::: tipp 提示\n内容\n:::\n", encoding="utf-8")
    out = io.StringIO()
    assert check(tmp_path, out) == 1
    first = out.getvalue().splitlines()[0]
    assert first.startswith(f"{tmp_path / 'zh' / 'one.md'}:9: ") and "tipp" in first


def test_a_broken_folder_lists_every_mistake_as_file_line_message(tmp_path):
    shutil.copy(LESSONS / "kmeans.md", tmp_path / "kmeans.md")
    (tmp_path / "callout.md").write_text(
        FRONT + "Intro.\n\n::: nte\nx\n:::\n\n```demo kmens\n```\n")
    (tmp_path / "Bad Name.md").write_text(FRONT + "Fine.\n")
    out = io.StringIO()
    assert check(tmp_path, out) == 1
    assert out.getvalue().splitlines() == [
        f"{tmp_path}/Bad Name.md:1: file names must be lowercase letters, digits and -, "
        "like bad-name.md",
        f"{tmp_path}/callout.md:8: unknown callout kind `nte` in `::: nte`: the kinds are "
        "note, tip, warning; also exercise, solution and gallery (did you mean `note`?)",
        f"{tmp_path}/callout.md:12: demo fence names an unknown demo 'kmens' "
        "(did you mean `kmeans`?); the demos are listed at /demos",
        "3 mistakes in 2 of 3 lessons",
    ]


def test_python_m_app_check_exits_1_on_a_broken_folder_and_0_on_a_good_one(tmp_path):
    (tmp_path / "open.md").write_text(FRONT + ":::: exercise\nNever closed.\n")
    broken = subprocess.run([sys.executable, "-m", "app", "check", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert broken.stdout.startswith(f"{tmp_path}/open.md:6: `:::: exercise` is never closed")
    (tmp_path / "open.md").write_text(FRONT + ":::: exercise\nClosed.\n::::\n")
    assert app_main(["check", str(tmp_path)]) == 0


def test_a_missing_folder_is_its_own_error_and_commands_are_one_entry_each(tmp_path, capsys):
    assert app_main(["check", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().out
    assert set(COMMANDS) >= {"check"}
    assert all(len(command) == 3 for command in COMMANDS.values())
