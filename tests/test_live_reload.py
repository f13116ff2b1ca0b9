"""Issue 18: in development mode (LIVEGRAD_DEV=1) a lesson page hears that its Markdown
file changed, over a small event stream, and reloads; off by default."""

from __future__ import annotations

import asyncio
import os
import re

from app.lessons import LessonLibrary, change_events
from tests.helpers import in_own_loop, make_client

FRONT = "---\ntitle: Live\nsummary: Edited while open.\n---\n\n"


def bump(path, text):
    """Write and move the modification time on, as an editor's save does."""
    stat = path.stat()
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_off_by_default_no_reload_tag_and_no_stream(lessons_dir):
    (lessons_dir / "live.md").write_text(FRONT + "Text.\n")
    with make_client(lessons_dir=lessons_dir, executor="threads", max_jobs=1) as client:
        assert "livegrad-reload" not in client.get("/lessons/live").text
        assert client.get("/lessons/live/changes", params={"since": "x"}).status_code == 404


def test_dev_page_names_its_stream_which_reports_a_change(lessons_dir):
    path = lessons_dir / "live.md"
    path.write_text(FRONT + "Old text.\n")
    with make_client(lessons_dir=lessons_dir, executor="threads", max_jobs=1,
                     dev=True) as client:
        url = re.search(r'<meta name="livegrad-reload" content="([^"]+)">',
                        client.get("/lessons/live").text).group(1).replace("&amp;", "&")
        bump(path, FRONT + "New text.\n")
        response = client.get(url)
        assert response.headers["content-type"].startswith("text/event-stream")
        version = LessonLibrary(lessons_dir).version("live")
        assert response.text == f"retry: 1000\n\nevent: changed\ndata: {version}\n\n"
        # A broken lesson's error page reloads too: that is where the author waits.
        bump(path, FRONT + "::: nte\nx\n:::\n")
        assert "livegrad-reload" in client.get("/lessons/live").text


def test_the_stream_waits_while_the_file_stays_the_same_and_speaks_when_it_changes(lessons_dir):
    path = lessons_dir / "live.md"
    path.write_text(FRONT + "Text.\n")
    library = LessonLibrary(lessons_dir)

    async def scenario() -> tuple[bool, str]:
        events = change_events(library, "live", library.version("live"), poll=0.01, wait=600)
        assert await anext(events) == "retry: 1000\n\n"
        waiting = asyncio.ensure_future(anext(events))
        for _ in range(20):  # twenty polls of an unchanged file: nothing to say
            await asyncio.sleep(0.01)
        quiet = not waiting.done()
        bump(path, FRONT + "Edited.\n")
        return quiet, await asyncio.wait_for(waiting, 60)

    quiet, event = in_own_loop(scenario())
    assert quiet
    assert event == f"event: changed\ndata: {library.version('live')}\n\n"


def test_a_deleted_lesson_counts_as_changed(lessons_dir):
    path = lessons_dir / "live.md"
    path.write_text(FRONT + "Text.\n")
    library = LessonLibrary(lessons_dir)
    before = library.version("live")
    path.unlink()

    async def first_event() -> str:
        events = change_events(library, "live", before, poll=0.01, wait=1)
        await anext(events)
        return await anext(events)

    assert in_own_loop(first_event()) == "event: changed\ndata: gone\n\n"
