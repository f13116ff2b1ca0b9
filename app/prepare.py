"""``python -m app prepare [--url URL] [--lessons DIR]``: fill a running server's cache
before class.

For every lesson, every demo instance is run once on the server at ``URL``, with exactly
the values its page sends before a student touches anything (the ``data-presets`` the
page's demo block carries: the demo's defaults overridden by the fence's presets). The
runs go through ``POST /api/demos/{slug}/run`` like any client's, so the server's
classroom cache then replays them (``X-Cache: hit``) to the class.

The lessons are the server's own (``GET /api/lessons``, then each lesson page), or with
``--lessons DIR`` those of a folder, rendered here as the server renders them
(app/lessons.py). One line is printed per instance — lesson, instance id, demo, seconds,
``X-Cache`` (``miss`` computed now, ``hit`` already cached, ``shared`` joined a run in
progress) — then a summary: instances, total seconds, failures, and the server's cache
(entries, MB: the memory the prepared runs take, from ``GET /healthz``). A ``429`` is
waited out (its ``Retry-After``) and retried. A run the server stopped early (its time
budget or frame limit) counts as failed: the cache keeps only finished runs. The exit
status is 1 if any instance failed (its line says why), 2 if the server cannot be reached
or the folder does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO

import httpx

from app.lessons import parse_lesson
from app.markdown import LessonError, lesson_files

DEFAULT_URL = "http://127.0.0.1:8000"
RUN_TIMEOUT_SECONDS = 900.0  # one run: a queue's wait and the run's budget, generously
MAX_RETRIES = 20  # 429s in a row for one instance before giving up on it
LONGEST_WAIT_SECONDS = 60.0  # a Retry-After longer than this is waited this long


@dataclass
class Instance:
    """One demo block of a lesson page: what its Run button sends."""

    lesson: str  # the lesson's slug
    instance: str  # the block's id on the page (``data-instance``)
    demo: str  # the demo's slug
    values: dict[str, Any]  # the request body: the page's ``data-presets``


@dataclass
class Outcome:
    instance: Instance
    seconds: float  # wall-clock, waits for a 429 included
    cache: str  # X-Cache: miss, hit or shared; "failed" when it failed
    error: str = ""


class _DemoBlocks(HTMLParser):
    """The ``<section class="demo" data-demo data-instance data-presets>`` of a page
    (templates/_demo.html): the values the page's runtime starts from."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-demo") and found.get("data-presets"):
            self.found.append((str(found["data-demo"]), str(found.get("data-instance", "")),
                               json.loads(str(found["data-presets"]))))


def instances_in(lesson: str, html: str) -> list[Instance]:
    """Every demo instance of one lesson page's HTML, in page order."""
    parser = _DemoBlocks()
    parser.feed(html)
    return [Instance(lesson, instance, demo, values)
            for demo, instance, values in parser.found]


def server_lessons(http: httpx.Client) -> list[tuple[str, str]]:
    """(slug, page HTML) of every lesson the server lists (broken ones it leaves out)."""
    response = http.get("/api/lessons")
    response.raise_for_status()
    pages = []
    for lesson in response.json():
        page = http.get(f"/lessons/{lesson['slug']}")
        page.raise_for_status()
        pages.append((lesson["slug"], page.text))
    return pages


def folder_lessons(folder: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(slug, HTML) of every lesson of ``folder`` rendered as the server renders it, and
    (slug, first mistake) of those that cannot be rendered."""
    pages, broken = [], []
    for path in lesson_files(folder):
        try:
            pages.append((path.stem, str(parse_lesson(path).html)))
        except LessonError as exc:
            broken.append((path.stem, str(exc)))  # file:line: message, the first mistake
    return pages, broken


def run_once(http: httpx.Client, instance: Instance,
             sleep: Any = time.sleep) -> Outcome:
    """POST the instance's run and wait for its end; a 429 is waited out and retried."""
    started = time.monotonic()
    for _ in range(MAX_RETRIES):
        try:
            response = http.post(f"/api/demos/{instance.demo}/run", json=instance.values)
        except httpx.HTTPError as exc:
            return Outcome(instance, time.monotonic() - started, "failed",
                           f"no answer from the server: {exc}")
        if response.status_code == 429:
            try:
                wait = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            sleep(min(max(wait, 0.5), LONGEST_WAIT_SECONDS))
            continue
        seconds = time.monotonic() - started
        if response.status_code != 200:
            return Outcome(instance, seconds, "failed",
                           f"HTTP {response.status_code}: {_reason(response)}")
        stopped = response.json().get("stopped")
        if stopped:  # an unfinished run is not the answer: the cache does not keep it
            return Outcome(instance, seconds, "failed",
                           f"stopped early ({stopped}), so not kept in the cache: raise "
                           f"LIVEGRAD_JOB_SECONDS or LIVEGRAD_MAX_FRAMES, or lighten the fence")
        return Outcome(instance, seconds, response.headers.get("X-Cache", "?"))
    return Outcome(instance, time.monotonic() - started, "failed",
                   f"still refused (429) after {MAX_RETRIES} tries")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # a 422: one item per refused field
        return "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item)
                         for item in detail)
    return str(detail)[:300]


def prepare(url: str, folder: Path | None = None, out: TextIO | None = None,
            sleep: Any = time.sleep, http: httpx.Client | None = None) -> int:
    """Run every demo instance of every lesson once on the server at ``url``; print a
    line each and a summary to ``out`` (stdout). Exit status: 0 all ran, 1 some failed,
    2 the server or the folder cannot be read.

    ``sleep(seconds)`` waits out a 429; ``http`` is the client to use instead of one for
    ``url`` (tests pass an in-process one).
    """
    out = out or sys.stdout
    if folder is not None and not folder.is_dir():
        print(f"{folder}: no such folder", file=out)
        return 2
    client = nullcontext(http) if http else httpx.Client(
        base_url=url.rstrip("/"), timeout=httpx.Timeout(RUN_TIMEOUT_SECONDS, connect=10.0))
    with client as http:
        try:
            if folder is None:
                pages, broken = server_lessons(http), []
            else:
                pages, broken = folder_lessons(folder)
        except (httpx.HTTPError, ValueError) as exc:
            print(f"{url}: cannot read the lessons: {exc}", file=out)
            return 2
        outcomes: list[Outcome] = []
        for slug, mistake in broken:
            print(f"{slug}  FAILED  the lesson has a mistake ({mistake})", file=out)
        for slug, html in pages:
            for instance in instances_in(slug, html):
                outcome = run_once(http, instance, sleep)
                outcomes.append(outcome)
                line = (f"{slug}  {instance.instance}  {instance.demo}  "
                        f"{outcome.seconds:.2f} s  {outcome.cache}")
                print(line + (f"  {outcome.error}" if outcome.error else ""), file=out,
                      flush=True)
        failures = len(broken) + sum(outcome.cache == "failed" for outcome in outcomes)
        total = sum(outcome.seconds for outcome in outcomes)
        counts = {kind: sum(o.cache == kind for o in outcomes) for kind in ("miss", "hit",
                                                                           "shared")}
        print(f"{len(outcomes)} instances in {len(pages)} lessons, {total:.1f} s, "
              f"{failures} failed ({counts['miss']} computed, {counts['hit']} already "
              f"cached, {counts['shared']} shared)", file=out)
        try:
            cache = http.get("/healthz").json()["cache"]
            print(f"server cache: {cache['entries']} runs, "
                  f"{cache['bytes'] / 2**20:.1f} MB", file=out)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            print(f"server cache: unknown ({exc})", file=out)
    return 1 if failures else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL,
                        help=f"the running server to prepare (default {DEFAULT_URL})")
    parser.add_argument("--lessons", type=Path, default=None, metavar="DIR",
                        help="take the lessons from this folder, rendered here (default: "
                             "the server's own lessons)")


def main(args: argparse.Namespace) -> int:
    return prepare(args.url, args.lessons)
