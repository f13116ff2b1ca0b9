"""Lesson Markdown: the dialect renders, authoring mistakes are caught, raw HTML is inert."""

from __future__ import annotations

import html
import inspect
import os
import re
import textwrap

import pytest

from app.lessons import LessonLibrary, parse_lesson
from app.markdown import LessonError
from app.ml import kmeans as kmeans_module
from tests.helpers import make_client


def write(folder, slug, body, **meta):
    front = {"title": slug.title(), "summary": f"About {slug}.", "order": 1, "tags": "[t]"}
    front.update(meta)
    head = "\n".join(f"{k}: {v}" for k, v in front.items())
    path = folder / f"{slug}.md"
    path.write_text(f"---\n{head}\n---\n\n{textwrap.dedent(body)}", encoding="utf-8")
    return path


def test_dialect_math_callouts_exercises_code_and_toc(lessons_dir):
    lesson = parse_lesson(write(lessons_dir, "demo-lesson", """
        ## First part

        Inline $a^2$ and display:

        $$
        b = \\frac{1}{2}
        $$

        ::: tip Remember this
        Squares are positive.
        :::

        ### A detail

        :::: exercise Square it
        What is $3^2$?

        ::: solution
        Nine.
        :::
        ::::

        ```python
        def f(x):
            return x
        ```
        """))
    page = str(lesson.html)
    assert '<span class="math inline">a^2</span>' in page
    assert '<div class="math block">' in page
    assert 'class="callout callout-tip"' in page and "Remember this" in page
    assert "Exercise 1: Square it" in page and "<details class=\"solution\">" in page
    assert '<span class="k">def</span>' in page  # Pygments highlighted the keyword
    assert [(t["level"], t["text"]) for t in lesson.toc] == [(2, "First part"), (3, "A detail")]
    assert lesson.exercises == 1


def test_source_fence_shows_the_function_from_the_file(lessons_dir):
    lesson = parse_lesson(write(lessons_dir, "src", """
        ```source app/ml/kmeans.py:assign_to_nearest
        ```
        """))
    code = re.search(r"<code>(.*)</code>", str(lesson.html), re.DOTALL).group(1)
    shown = html.unescape(re.sub(r"<[^>]+>", "", code))
    assert shown == inspect.getsource(kmeans_module.assign_to_nearest)
    assert "app/ml/kmeans.py · assign_to_nearest" in str(lesson.html)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("```demo no-such-demo\n```\n", ["no-such-demo"]),
        ("```demo kmeans\nkk: 3\n```\n", ["kk", "unknown"]),
        ("```demo kmeans\nk: 99\n```\n", ["k", "12"]),
        ("```demo kmeans\n- not a mapping\n```\n", ["key: value"]),
        ("```source app/ml/kmeans.py:no_such_function\n```\n", ["no_such_function"]),
        ("```source ../../etc/passwd\n```\n", ["not a Python file under app/"]),
    ],
)
def test_authoring_mistakes_fail_loudly(lessons_dir, body, words):
    with pytest.raises(LessonError) as error:
        parse_lesson(write(lessons_dir, "bad", body))
    for word in words:
        assert word in str(error.value)


def test_missing_front_matter_is_an_error(lessons_dir):
    (lessons_dir / "plain.md").write_text("# no front matter\n")
    with pytest.raises(LessonError, match="front matter"):
        parse_lesson(lessons_dir / "plain.md")


def test_raw_html_and_script_links_render_inert(lessons_dir):
    lesson = parse_lesson(write(lessons_dir, "evil", """
        <script>alert(1)</script>

        <img src=x onerror=alert(1)>

        [click](javascript:alert(1)) and $\\href{javascript:alert(1)}{x}$
        """))
    page = str(lesson.html)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript:' not in page


def test_lessons_dir_setting_serves_another_folder_with_order_and_neighbours(lessons_dir):
    write(lessons_dir, "second", "## Two\n\nBananas grow here.\n", order=2, tags="[fruit]")
    write(lessons_dir, "first", "## One\n\nApples.\n", order=1)
    write(lessons_dir, "third", "## Three\n\nCherries.\n", order=3)
    with make_client(lessons_dir=lessons_dir) as client:
        slugs = [lesson["slug"] for lesson in client.get("/api/lessons").json()]
        assert slugs == ["first", "second", "third"]
        page = client.get("/lessons/second").text
        assert 'href="/lessons/first" rel="prev"' in page
        assert 'href="/lessons/third" rel="next"' in page
        assert client.get("/lessons/kmeans").status_code == 404  # not in this folder
        index = client.get("/", params={"q": "bananas"}).text
        assert "/lessons/second" in index and "/lessons/first" not in index
        assert "<mark>Bananas</mark>" in index
        tagged = client.get("/", params={"tag": "fruit"}).text
        assert "/lessons/second" in tagged and "/lessons/third" not in tagged


def test_library_rereads_a_lesson_when_its_file_changes(lessons_dir):
    path = write(lessons_dir, "live", "## Old heading\n")
    library = LessonLibrary(lessons_dir)
    assert library.get("live").toc[0]["text"] == "Old heading"
    path.write_text(path.read_text().replace("Old heading", "New heading"))
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert library.get("live").toc[0]["text"] == "New heading"


def test_kmeans_lesson_page_has_everything_the_issue_asks_for():
    with make_client() as client:
        response = client.get("/lessons/kmeans")
    assert response.status_code == 200
    page = response.text
    assert page.count('data-demo="kmeans"') >= 1 and 'data-demo="kmeans-elbow"' in page
    assert page.count('class="exercise"') >= 3
    assert 'class="toc"' in page and 'class="math' in page and 'class="highlight"' in page
    assert "/static/vendor/katex/katex.min.js" in page
    assert "https://" not in page.split("<main")[0]  # nothing from another host in <head>
    for action in ("run", "stop", "reset", "export"):
        assert f'data-action="{action}"' in page
    for name in ("dataset", "n_points", "k", "init", "max_iter", "n_init", "seed"):
        assert f'name="{name}"' in page
    assert "content-security-policy" in response.headers


def test_a_broken_lesson_shows_its_mistake_and_the_rest_of_the_site_works(lessons_dir):
    write(lessons_dir, "good", "## Fine\n\nAll good.\n")
    write(lessons_dir, "broken", "```demo no-such-demo\n```\n")
    with make_client(lessons_dir=lessons_dir) as client:
        assert [lesson["slug"] for lesson in client.get("/api/lessons").json()] == ["good"]
        assert client.get("/").status_code == 200
        assert client.get("/lessons/good").status_code == 200
        page = client.get("/lessons/broken")
        assert page.status_code == 500 and "no-such-demo" in page.text


def test_search_snippets_are_plain_words_and_tags_are_one_case(lessons_dir):
    write(lessons_dir, "mathy", "The **inertia** $J = \\sum x$ is `small`.\n", tags="[NLP, nlp]")
    with make_client(lessons_dir=lessons_dir) as client:
        page = client.get("/", params={"q": "inertia"}).text
        assert "<mark>inertia</mark> is small" in page
        assert "**" not in page and "\\sum" not in page
        assert client.get("/api/lessons").json()[0]["tags"] == ["nlp"]


def test_search_matches_where_words_start_and_tags_in_any_case(lessons_dir):
    write(lessons_dir, "rl", "## PPO\n\nWe clip the ratio.\n", tags="[NLP]")
    write(lessons_dir, "other", "## Suppose\n\nSuppose a gradient, opposite.\n")
    with make_client(lessons_dir=lessons_dir) as client:
        def found(**params):
            return [lesson["slug"] for lesson in client.get("/api/lessons", params=params).json()]
        assert found(q="ppo") == ["rl"]  # not "suppose" or "opposite"
        assert found(q="grad") == ["other"]  # the start of a word is enough
        assert found(tag="NLP") == found(tag="nlp") == ["rl"]
        assert "<mark>PPO</mark>" not in client.get("/", params={"q": "suppose"}).text
        assert "<mark>Suppose</mark> a gradient" in client.get("/", params={"q": "suppose"}).text


def test_an_index_card_counts_the_demos_a_student_will_find_on_the_page():
    """Each demo box on the page counts (the CRF lesson has three boxes of one demo)."""
    import re

    from tests.helpers import make_client

    with make_client() as client:
        index = client.get("/").text
        for slug in ("crf", "kmeans"):
            boxes = client.get(f"/lessons/{slug}").text.count('<section class="demo')
            card = index.split(f'data-lesson="{slug}"', 1)[1].split("</article>", 1)[0]
            shown = re.search(r"(\d+) live demos?", card)
            assert shown and int(shown.group(1)) == boxes > 1, (slug, boxes, card[:300])
