"""Fixtures: an app with small limits, test-only demos, a temporary lessons folder.

Helpers live in tests/helpers.py (one module object for every test); the names are
re-exported here for tests that import them from conftest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import Settings, torch_threads_per_job
from app.demos import registry
from tests.helpers import (  # noqa: F401  (re-exported)
    LESSONS,
    SLOW_PROGRESS,
    TEST_DEMOS,
    LiveServer,
    free_port,
    make_client,
    read_stream,
    sse_events,
)


@pytest.fixture(autouse=True)
def torch_threads_like_the_server() -> Iterator[None]:
    """Every test computes with the threads a server job gets (cores // max_jobs).

    Set before each test, because starting an app sets it too: tiny tensors run several
    times faster on one thread than with two fighting over a shared 2-core machine.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(torch_threads_per_job(Settings()))
    yield
    torch.set_num_threads(before)


@pytest.fixture
def test_demos() -> Iterator[None]:
    for demo in TEST_DEMOS:
        registry()[demo.slug] = demo
    yield
    for demo in TEST_DEMOS:
        registry().pop(demo.slug, None)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client(max_jobs=2, max_queue=4, job_seconds=30) as c:
        yield c


@pytest.fixture
def lessons_dir(tmp_path: Path) -> Path:
    return tmp_path
