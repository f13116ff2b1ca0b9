"""The claim tests keep their form: one file per lesson, each test quoting its sentence.

An author who edits a sentence in a lesson finds the test that checks it because that
test's first call is ``lesson_says(slug, sentence)``; a claim test that quotes nothing
could drift from the lesson without anyone noticing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.config import ROOT

CLAIMS = ROOT / "tests" / "lesson_claims"
LESSON_SLUGS = sorted(p.stem for p in (ROOT / "lessons").glob("*.md"))


def claim_tests(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def module_constants(path: Path) -> dict[str, object]:
    """Module-level ``NAME = "literal"`` assignments (a test may quote ``SLUG``)."""
    constants = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def first_call(test: ast.FunctionDef) -> ast.Call | None:
    body = list(test.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Call):
        return body[0].value
    return None


@pytest.mark.parametrize("slug", LESSON_SLUGS)
def test_every_lesson_has_claim_tests(slug: str) -> None:
    path = CLAIMS / f"test_{slug}.py"
    assert path.is_file(), f"lessons/{slug}.md has no claim tests in {path.relative_to(ROOT)}"
    assert claim_tests(path), f"{path.relative_to(ROOT)} defines no test"


@pytest.mark.parametrize("path", sorted(CLAIMS.glob("test_*.py")), ids=lambda p: p.name)
def test_each_claim_test_first_quotes_its_sentence(path: Path) -> None:
    slug = path.stem.removeprefix("test_")
    constants = module_constants(path)
    for test in claim_tests(path):
        call = first_call(test)
        assert call is not None and getattr(call.func, "id", "") == "lesson_says", (
            f"{path.name}::{test.name} must start with lesson_says({slug!r}, '<the sentence>')"
        )
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Name):
            quoted_slug = constants.get(first.id)
        else:
            quoted_slug = first.value if isinstance(first, ast.Constant) else None
        assert quoted_slug == slug, (
            f"{path.name}::{test.name} quotes another lesson than {slug!r}"
        )
