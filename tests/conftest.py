"""Fixtures: an app with small limits, test-only demos, a temporary lessons folder.

Helpers live in tests/helpers.py (one module object for every test): import them from
there, not from here.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import ROOT, Settings, torch_threads_per_job
from app.demos import registry
from tests.helpers import TEST_DEMOS, eventually, free_port, make_client


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
def in_process_client() -> Iterator[TestClient]:
    """A client whose jobs run in threads of this process (LIVEGRAD_EXECUTOR=threads), for
    the few tests that patch a demo or fill its model cache here: worker processes would
    not see what the test changed."""
    with make_client(max_jobs=2, max_queue=4, job_seconds=30, executor="threads") as c:
        yield c


@pytest.fixture
def lessons_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Ray cluster on 127.0.0.1 (``ray start --head --block``), for the session.

    Its workers import ``app`` and ``tests`` from this checkout, and find the slow demo's
    progress file through the environment, like the pool's workers. It has a temp dir of
    its own and is stopped by ending its ``ray start`` process, so another Ray on this
    machine is left alone (``ray stop`` would stop them all).
    """
    ray_command = str(Path(sys.executable).with_name("ray"))
    port = free_port()
    # No token: the cluster listens on loopback only, for this test session.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [ray_command, "start", "--head", "--block", f"--port={port}",
         "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={tmp_path_factory.mktemp('ray')}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    address = f"127.0.0.1:{port}"
    try:
        eventually(lambda: head.poll() is not None or subprocess.run(
            [ray_command, "status", f"--address={address}"], env=env,
            capture_output=True).returncode == 0, "the Ray head answers")
        assert head.poll() is None, "ray start --head exited"
        yield address
    finally:
        import ray

        ray.shutdown()
        head.terminate()  # --block: ending it stops every process of this cluster
        head.wait(timeout=60)


_namespaces = itertools.count(1)


@pytest.fixture(params=["processes", "ray"])
def executor(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for each executor a server can use: the local worker pool, then Ray.

    Each Ray app gets a namespace of its own, so one test's cached runs are not another's.
    """
    if request.param == "processes":
        return {}
    address = request.getfixturevalue("ray_cluster")
    return {"ray_address": address, "ray_namespace": f"test-{next(_namespaces)}"}
