"""The Chinese edition through HTTP: which language a request gets, and what it reads.

The page's language is in its address (/zh/...); a choice (?lang=) is remembered; a first
visit follows Accept-Language; the API answers in the language Accept-Language names.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from app.i18n import negotiate, shape_of, translate_text, use_language
from tests.helpers import make_client, sse_events

HTML = {"accept": "text/html,application/xhtml+xml"}
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def web():
    with make_client(max_jobs=2, max_queue=4, job_seconds=30) as client:
        yield client


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh-TW", "zh"), ("zh-Hans-CN", "zh"),
    ("en-US,en;q=0.9", "en"), ("fr-FR,zh;q=0.5", "zh"), ("fr,de", None),
    ("en;q=0.2,zh;q=0.8", "zh"), ("zh;q=0,en", "en"), ("", None), ("*", "en"),
    (";;;,q=,zh-", None),
])
def test_accept_language_is_negotiated(header, lang):
    assert negotiate(header) == lang


def test_numbers_in_a_demo_string_keep_their_translation():
    assert shape_of("restart 3 of 12, lr 1e-05") == ("restart {0} of {1}, lr {2}",
                                                   ["3", "12", "1e-05"])
    with use_language("zh"):
        said = translate_text("restart 3")
    assert "3" in said and HAN.search(said) and "restart" not in said
    assert translate_text("restart 3") == "restart 3"  # English, outside the block


def test_chinese_page_says_its_language_and_is_remembered(web):
    web.cookies.clear()
    page = web.get("/zh/lessons/kmeans")
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    assert "livegrad_lang=zh" in page.headers["set-cookie"]
    # The switch to English is a choice the server remembers, on every page.
    assert 'href="/lessons/kmeans?lang=en"' in page.text
    # Remembered: the unprefixed address now leads a browser to the Chinese one.
    again = web.get("/lessons/kmeans", headers=HTML, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (302, "/zh/lessons/kmeans")
    # Choosing English sticks, whatever the browser prefers.
    chosen = web.get("/lessons/kmeans?lang=en", headers=HTML, follow_redirects=False)
    assert (chosen.status_code, chosen.headers["location"]) == (302, "/lessons/kmeans")
    assert "livegrad_lang=en" in chosen.headers["set-cookie"]
    english = web.get("/lessons/kmeans", headers={**HTML, "accept-language": "zh-CN"},
                      follow_redirects=False)
    assert english.status_code == 200 and '<html lang="en">' in english.text
    web.cookies.clear()


def test_first_visit_follows_accept_language(web):
    web.cookies.clear()
    chinese = web.get("/demos?x=1", headers={**HTML, "accept-language": "zh-CN,zh;q=0.9"},
                      follow_redirects=False)
    assert (chinese.status_code, chinese.headers["location"]) == (302, "/zh/demos?x=1")
    english = web.get("/demos", headers={**HTML, "accept-language": "en-GB"},
                      follow_redirects=False)
    assert english.status_code == 200
    # Not a page: the API never redirects, and answers JSON in English by default.
    api = web.get("/api/lessons", headers={"accept-language": "zh"}, follow_redirects=False)
    assert api.status_code == 200 and isinstance(api.json(), list)
    assert web.get("/en/demos", follow_redirects=False).headers["location"] == "/demos"


@pytest.mark.parametrize("path", ["/zh/", "/zh/demos", "/zh/lessons/rnn", "/zh/status",
                                  "/zh/no-such-page"])
def test_every_chinese_page_is_chinese_and_offers_english(web, path):
    page = web.get(path, headers=HTML)
    assert page.status_code in (200, 404)
    assert '<html lang="zh-Hans">' in page.text
    assert re.search(r'class="language-switch" href="[^"]*lang=en"', page.text)
    nav = re.search(r'<nav class="site-nav".*?</nav>', page.text, re.S).group(0)
    assert HAN.search(nav) and "Lessons" not in nav
    # Links stay in Chinese: the lesson links and the home link carry the prefix.
    assert not re.search(r'href="/lessons/[^"?]*"', page.text)


def test_lesson_chrome_is_translated(web):
    page = web.get("/zh/lessons/kmeans").text
    for english in ("Show solution", "Exercise 1", "On this page", "Live demo", ">▶ Run<",
                    "min read"):
        assert english not in page, english
    assert 'id="the-objective-within-cluster-sum-of-squares"' in page  # the English anchors


def write_lesson(folder, slug, translated=None):
    (folder / f"{slug}.md").write_text(textwrap.dedent(f"""\
        ---
        title: About {slug}
        summary: A lesson about {slug}.
        order: 1
        ---

        ## First part

        Words about gradients.
        """), encoding="utf-8")
    if translated is not None:
        (folder / "zh").mkdir(exist_ok=True)
        (folder / "zh" / f"{slug}.md").write_text(translated, encoding="utf-8")


def test_missing_and_stale_translations_say_so(tmp_path):
    from app.translations import source_hash

    write_lesson(tmp_path, "plain")
    write_lesson(tmp_path, "old", "---\ntitle: 旧的\nsummary: 旧的一课。\nsource_hash: "
                 "000000000000\n---\n\n## 第一部分 {#first-part}\n\n关于梯度。\n")
    write_lesson(tmp_path, "fresh")
    (tmp_path / "zh" / "fresh.md").write_text(
        f"---\ntitle: 新的\nsummary: 新的一课。\nsource_hash: {source_hash(tmp_path / 'fresh.md')}"
        "\n---\n\n## 第一部分 {#first-part}\n\n关于梯度。\n", encoding="utf-8")
    with make_client(lessons_dir=tmp_path) as client:
        plain = client.get("/zh/lessons/plain").text
        assert 'data-translation="missing"' in plain and 'lang="en"' in plain
        assert "Words about gradients." in plain
        old = client.get("/zh/lessons/old").text
        assert 'data-translation="stale"' in old and "关于梯度" in old
        assert 'href="/lessons/old?lang=en"' in old
        fresh = client.get("/zh/lessons/fresh").text
        assert "data-translation" not in fresh and 'id="first-part"' in fresh
        # A translation's front matter takes only its own words and the hash.
        (tmp_path / "zh" / "fresh.md").write_text(
            "---\ntitle: 新的\nsummary: 新\nsource_hash: abc\norder: 3\n---\n\n正文\n",
            encoding="utf-8")
        broken = client.get("/zh/lessons/fresh")
        assert broken.status_code == 500 and "order comes from the English lesson" in broken.text


def test_refusals_name_the_field_in_the_page_language(web):
    english = web.post("/api/demos/kmeans/run", json={"k": 99}).json()["detail"][0]
    assert english["field"] == "k" and "between 1 and 12" in english["message"]
    chinese = web.post("/api/demos/kmeans/run", json={"k": 99},
                       headers={"accept-language": "zh-CN"}).json()["detail"][0]
    assert chinese["field"] == "k" and chinese["bounds"] == english["bounds"]
    message = chinese["message"]
    assert HAN.search(message) and message.startswith("k：")  # its label is its name
    assert "1" in message and "12" in message and "99" in message
    labelled = web.post("/api/demos/rnn-memory/run", json={"lr": 5},
                        headers={"accept-language": "zh-CN"}).json()["detail"][0]["message"]
    assert labelled.startswith("学习率（lr）：") and "0.05" in labelled
    assert "between" not in message and "Input should" not in message
    unknown = web.post("/api/demos/kmeans/run", json={"kk": 1},
                       headers={"accept-language": "zh"}).json()["detail"][0]
    assert HAN.search(unknown["message"]) and "kk" in unknown["message"]


def test_frames_come_in_the_page_language(web):
    body = {"n_init": 2, "max_iter": 3, "n_points": 60}
    with web.stream("POST", "/api/demos/kmeans/stream?pace=none", json=body,
                    headers={"accept-language": "zh"}) as response:
        events = list(sse_events(response.iter_lines()))
    frames = [data for event, data in events if event == "frame"]
    names = [trace.get("name", "") for frame in frames
             for op in frame["charts"].values() for trace in op.get("data", [])]
    assert any(HAN.search(name) and "1" in name for name in names)
    assert not any(name.startswith("restart") for name in names)
    labels = frames[-1]["metric_labels"]
    assert set(labels) == set(frames[-1]["metrics"]) and all(HAN.search(v) for v in labels.values())
    # The same run in English is unchanged, with no labels added.
    with web.stream("POST", "/api/demos/kmeans/stream?pace=none", json=body) as response:
        english = [d for e, d in sse_events(response.iter_lines()) if e == "frame"]
    assert "metric_labels" not in english[-1]


@pytest.mark.parametrize(("query", "found", "absent"), [
    ("梯度", "autograd", None),         # a Chinese word inside a longer one
    ("注意力", "transformer", "kmeans"),
    ("attention", "transformer", "kmeans"),  # the English title is searched too
    ("束搜索", "transformer", "kmeans"),
    ("这个词不在任何一课里", None, "kmeans"),
])
def test_search_in_chinese(web, query, found, absent):
    page = web.get("/zh/", params={"q": query}).text
    lessons = set(re.findall(r'<article class="card" data-lesson="([\w-]+)"', page))
    if found:
        assert found in lessons
    if absent:
        assert absent not in lessons
    if not found:
        assert not lessons


@pytest.mark.parametrize("path", ["//evil.example/lessons?lang=en", "/%5Cevil.example?lang=en",
                                  "/en//evil.example", "/lessons/%0D%0AX-Evil:%201?lang=zh"])
def test_a_language_redirect_stays_on_this_site(web, path):
    response = web.get(path, headers=HTML, follow_redirects=False)
    location = response.headers.get("location", "/")
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "\r" not in location and "\n" not in location and "x-evil" not in response.headers


def test_a_notebook_asked_from_a_chinese_page_links_the_chinese_lesson(web):
    import json as json_module

    notebook = web.get("/api/demos/ngram/notebook", headers={"accept-language": "zh"})
    intro = "".join(json_module.loads(notebook.text)["cells"][0]["source"])
    assert "/zh/lessons/embeddings" in intro and HAN.search(intro)
    refused = web.get("/api/demos/ngram/notebook?k=9", headers={"accept-language": "zh"})
    assert refused.status_code == 422 and HAN.search(refused.json()["detail"][0]["message"])


def test_translation_status_says_what_is_behind(tmp_path, capsys):
    from app.translation_status import main

    write_lesson(tmp_path, "plain")
    write_lesson(tmp_path, "old", "---\ntitle: 旧\nsummary: 旧。\nsource_hash: 000000000000\n"
                 "---\n\n## 第一部分 {#first-part}\n\n关于梯度。\n")

    class Args:
        folder = tmp_path

    assert main(Args()) == 1
    said = capsys.readouterr().out
    assert "zh/plain.md: missing" in said and "zh/old.md: stale  (source_hash: " in said
