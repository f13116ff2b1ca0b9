"""Issue 18: every mistake of the lesson dialect fails loudly, on its line, with the
nearest valid name when there is one; a broken lesson stays listed and its page shows
the mistake with the lines around it.

Each lesson below starts with five lines of front matter and a blank line, so its body
starts on line 7 of the file.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from app.lessons import parse_lesson
from app.markdown import LessonError
from tests.helpers import make_client

FRONT = "---\ntitle: Broken\nsummary: A lesson with a mistake.\norder: 1\n---\n\n"
BODY_LINE = 7  # the first line after FRONT


def write(folder: Path, body: str, slug: str = "broken") -> Path:
    path = folder / f"{slug}.md"
    path.write_text(FRONT + textwrap.dedent(body), encoding="utf-8")
    return path


def mistakes(folder: Path, body: str) -> list[LessonError]:
    with pytest.raises(LessonError) as caught:
        parse_lesson(write(folder, body))
    return caught.value.problems


# (what the author wrote, the line of the mistake counted from the body's first line,
#  words the message must hold)
MISTAKES = {
    "unknown callout kind": (
        "Intro.\n\n::: nte Careful\nSquares.\n:::\n",
        2, ["unknown callout kind `nte`", "did you mean `note`?"]),
    "callout kind in capitals": (
        "::: Warning\nHot.\n:::\n", 0, ["unknown callout kind `Warning`", "`warning`"]),
    "a closing line that closes nothing": (
        "::: tip\nShort.\n:::\n:::\n", 3, ["a `:::` line that closes nothing"]),
    "solution outside an exercise": (
        "Text.\n\n::: solution\nThe answer.\n:::\n",
        2, ["`::: solution` belongs inside an exercise"]),
    "solution inside a callout": (
        ":::: note\n::: solution\nNo.\n:::\n::::\n", 1, ["belongs inside an exercise"]),
    "a callout nested in one with as many colons": (
        "::: note\n::: tip\nNo.\n:::\n:::\n", 0,
        ["the note opened with 3 colons holds a tip", "`:::: note`"]),
    "exercise never closed": (
        ":::: exercise Count\nHow many?\n\n## The next section\n\nSwallowed.\n",
        0, ["`:::: exercise` is never closed", "runs to the end of the lesson", "`::::`"]),
    "callout never closed": (
        "Intro.\n\n::: warning\nHot.\n\nThe rest of the lesson.\n",
        2, ["`::: warning` is never closed"]),
    "solution never closed inside its exercise": (
        ":::: exercise\nQ\n\n::: solution\nA\n::::\n",
        3, ["`::: solution` is never closed before the `:::: exercise` it stands in ends "
            "on line 12"]),
    "exercise with three colons around a solution": (
        "::: exercise\nQ\n\n::: solution\nA\n:::\n:::\n",
        0, ["exercise opened with 3 colons holds a solution", "`:::: exercise`"]),
    "unknown fence option": (
        "```demo kmeans\n:titel: Blobs\nk: 2\n```\n", 1,
        ["unknown option :titel:", "did you mean `:title:`?"]),
    "option after a preset": (
        "```demo kmeans\nk: 2\n:title: Blobs\n```\n", 2,
        ["the option :title: Blobs comes after a preset"]),
    "bad :autorun:": (
        "```demo kmeans\n:autorun: yes\n```\n", 1, [":autorun: is true or false"]),
    "unknown :hide: name": (
        "```demo kmeans\n:id: blobs\n:hide: n_point\n```\n", 2,
        [":hide: names no control n_point", "did you mean `n_points`?"]),
    "repeated :id:": (
        "```demo kmeans\n:id: same\n```\n\n```demo attention\n:id: same\n```\n", 5,
        ["the instance id 'same' is already taken"]),
    "unknown demo": (
        "Words.\n\n```demo kmeans-elbw\nk_max: 6\n```\n", 2,
        ["unknown demo 'kmeans-elbw'", "did you mean `kmeans-elbow`?"]),
    "a demo fence without a slug": (
        "```demo\nk: 2\n```\n", 0, ["a demo fence names no demo: write ```demo <slug>"]),
    "unknown parameter": (
        "```demo kmeans\ndataset: moons\nn_point: 200\n```\n", 2,
        ["n_point: unknown parameter", "did you mean `n_points`?"]),
    "value out of bounds": (
        "```demo kmeans\ndataset: moons\nk: 99\n```\n", 2, ["k:", "between 1 and 12", "99"]),
    "value of the wrong type": (
        '```demo kmeans\nk: "2"\n```\n', 1, ["k:", "valid integer"]),
    "misspelt choice": (
        "```demo kmeans\n\ndataset: moon\n```\n", 2,
        ['got "moon"', "did you mean `moons`?"]),
    "presets that are not YAML": (
        "```demo kmeans\nk: 2\n  n_points: [1,\n```\n", None, ["presets are not valid YAML"]),
    "source file missing": (
        "```source app/ml/kmean.py\n```\n", 0,
        ["'app/ml/kmean.py' is not a Python file under app/", "did you mean `app/ml/kmeans.py`?"]),
    "source function missing": (
        "Text.\n\n```source app/ml/kmeans.py:lloyd_step\n```\n", 2,
        ["has no top-level function or class 'lloyd_step'", "did you mean `lloyd_steps`?"]),
    "source fence with a body": (
        "```source app/ml/kmeans.py:lloyd_steps\n:caption: Lloyd\n```\n", 1,
        ["its body is ignored"]),
    "a demo fence's kind in capitals": (
        "```Demo kmeans\nk: 2\n```\n", 0, ["a fence of kind `Demo` is shown as code",
                                            "did you mean `demo`?"]),
    "a gallery holding text": (
        "::: gallery\nSome words.\n\n```demo kmeans\n```\n:::\n", 1,
        ["a ::: gallery holds demo fences only"]),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_fails_with_its_line_and_the_nearest_name(lessons_dir, name):
    body, line, words = MISTAKES[name]
    first = mistakes(lessons_dir, body)[0]
    if line is not None:
        assert first.line == BODY_LINE + line, str(first)
    else:
        assert first.line is not None
    assert str(first).startswith(f"broken.md:{first.line}: ")
    for word in words:
        assert word in first.message, first.message
    # The offending line is quoted, with its number, among the lines around it.
    quoted = dict(first.excerpt)
    assert quoted[first.line] == (FRONT + textwrap.dedent(body)).splitlines()[first.line - 1]


def test_yaml_mistake_points_at_the_line_yaml_stopped_on(lessons_dir):
    (first,) = mistakes(lessons_dir, "```demo kmeans\nk: 2\nn_points: [1,\n```\n")
    assert first.line == BODY_LINE + 2  # the unclosed list, not the fence's first line


def test_every_mistake_of_a_file_is_reported_in_line_order(lessons_dir):
    found = mistakes(lessons_dir, """\
        ```demo kmeans
        dataset: moon
        ```

        ::: nte
        x
        :::

        ```demo kmens
        ```

        ::: solution
        y
        :::
        """)
    assert [(p.line, p.message.split(":")[0]) for p in found] == [
        (BODY_LINE + 1, "demo kmeans"),
        (BODY_LINE + 4, "unknown callout kind `nte` in `"),
        (BODY_LINE + 8, "demo fence names an unknown demo 'kmens' (did you mean `kmeans`?); "
                        "the demos are listed at /demos"),
        (BODY_LINE + 11, "a `"),
    ]


def test_front_matter_mistakes_have_lines_too(lessons_dir):
    path = lessons_dir / "meta.md"
    path.write_text("---\ntitle: T\nsummary: [unclosed\n---\n\nText.\n", encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        parse_lesson(path)
    assert caught.value.line == 3 and "front matter is not valid YAML" in caught.value.message
    path.write_text("# No front matter\n", encoding="utf-8")
    with pytest.raises(LessonError, match=r"^meta\.md:1: missing YAML front matter"):
        parse_lesson(path)


@pytest.mark.parametrize(("front", "line", "words"), [
    ("title: T\nsummary: S\norder: first\n", 4, "order is a whole number, not 'first'"),
    ("title: T\nsummary: S\nminutes: 1.5\n", 4, "minutes is a whole number, not 1.5"),
    ("title: T\ntags: nlp\nsummary: S\n", 3, "tags is a list, like tags: [nlp]"),
])
def test_front_matter_values_of_the_wrong_kind_are_mistakes_not_a_crash(lessons_dir, front,
                                                                          line, words):
    path = lessons_dir / "meta.md"
    path.write_text(f"---\n{front}---\n\nText.\n", encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        parse_lesson(path)
    assert caught.value.line == line and words in caught.value.message


def test_a_file_that_is_not_utf8_is_a_mistake_on_its_line(lessons_dir):
    path = lessons_dir / "latin.md"
    path.write_bytes(FRONT.encode() + "Caf\xe9 au lait.\n".encode("latin-1"))
    with pytest.raises(LessonError,
                       match=r"^latin\.md:7: the file is not UTF-8 text \(byte 0xe9\)"):
        parse_lesson(path)


def test_well_formed_containers_raise_nothing(lessons_dir):
    lesson = parse_lesson(write(lessons_dir, """\
        ::: note A note
        Text with a `:::` in code.
        :::

        :::: exercise Nested
        ::: tip
        A hint.
        :::

        ::: solution
        ```
        :::
        ```
        :::
        ::::
        """))
    assert lesson.exercises == 1


def test_a_broken_lesson_is_listed_marked_and_its_page_shows_the_mistake(lessons_dir):
    write(lessons_dir, "## Fine\n\nAll good.\n", slug="good")
    write(lessons_dir, "Intro.\n\n```demo kmeans-elbw\nk_max: 6\n```\n", slug="broken")
    with make_client(lessons_dir=lessons_dir, executor="threads", max_jobs=1) as client:
        index = client.get("/").text
        listed = re.search(r'<li class="broken-lesson" data-broken-lesson="broken">(.*?)</li>',
                           index, re.S)
        assert listed, "the broken lesson is not on the index"
        assert "broken.md</strong> line 9" in listed.group(1)
        assert "did you mean `kmeans-elbow`?" in listed.group(1)
        assert 'href="/lessons/good"' in index
        # The API lists lessons a student can open; the broken one is on the index only.
        assert [lesson["slug"] for lesson in client.get("/api/lessons").json()] == ["good"]
        page = client.get("/lessons/broken")
        assert page.status_code == 500 and page.headers["cache-control"] == "no-store"
        assert "<title>Error in lesson broken.md line 9 · LiveGrad</title>" in page.text
        assert "did you mean <code>kmeans-elbow</code>?" in page.text  # names set as code
        offending = re.search(r'<span class="excerpt-line offending">(.*?)\n</span>',
                              page.text, re.S).group(1)
        assert ">9</span><mark>```demo kmeans-elbw</mark>" in offending
        assert "Traceback" not in page.text
        assert client.get("/lessons/good").status_code == 200
        assert client.get("/lessons/missing").status_code == 404
