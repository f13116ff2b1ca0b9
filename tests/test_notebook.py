"""'Open as notebook': GET /api/demos/{slug}/notebook and the notebook it answers.

Every demo's notebook, downloaded through the route, is executed by a real Jupyter kernel
(nbclient + ipykernel) in a folder of its own, and its ``result`` must equal, exactly, the
result ``POST /api/demos/{slug}/run`` answers for the same parameters. One kernel serves
every demo (torch is imported once): before each notebook the kernel moves to a fresh
empty folder and forgets every ``app`` module, and after it the test checks that each
``app`` module it imported came from that folder — the notebook's own ``%%writefile``
cells, not the LiveGrad installed in this venv.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import nbformat
import pytest
from fastapi.testclient import TestClient
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from app.demos import registry
from app.notebook import imported_modules, needed_modules
from tests.helpers import make_client, result_of

DEMOS = sorted(registry())

# The smallest budgets each demo allows, so that a run takes a second or less (the same
# small CRF as tests/test_crf_api.py); a demo not listed runs with its defaults.
# k-means clusters clicked points, so a list parameter travels as JSON text in the query.
SMALL: dict[str, dict[str, Any]] = {
    "beam-search": {"train_steps": 20, "seed": 3},
    "crf-tagger": {"embedding": 8, "hidden": 8, "epochs": 1, "seed": 11},
    "kmeans": {"dataset": "custom", "k": 2, "seed": 5,
               "points": [[0.5, 0.25], [1, 1.5], [4, 4], [4.5, 3.75], [0, 1], [5, 5]]},
    "kmeans-elbow": {"n_points": 60, "k_max": 4, "n_init": 2},
    "ppo-cartpole": {"total_steps": 10_000, "n_envs": 8, "n_steps": 128, "seed": 2},
    "rnn-exploding": {"steps": 10, "T": 10, "seed": 1},
    "rnn-memory": {"steps": 10, "T": 5, "hidden": 8, "seed": 1},
    "seq2seq": {"steps": 20, "source": "1999-01-05", "seed": 1},
    "transformer-train": {"steps": 10, "batch": 16, "seed": 4},
    "word2vec": {"epochs": 1, "dim": 10, "word": "dog", "seed": 1},
}
CELL_SECONDS = 300  # a hung cell fails the test instead of hanging the suite


def query(values: dict[str, Any]) -> dict[str, str]:
    """Parameters as the page puts them in a link: lists as JSON text."""
    return {name: json.dumps(value) if isinstance(value, list | dict | bool) else str(value)
            for name, value in values.items()}


def without_timings(result: dict[str, Any]) -> dict[str, Any]:
    """The result with each wall-clock measure (a key ending in ``_seconds``: how long
    this machine took, e.g. crf-tagger's train_seconds) replaced by whether it was
    measured; every other number must be equal to the last digit."""
    timings = {key: value is not None for key, value in result.items()
               if key.endswith("_seconds")}
    for key in timings:
        assert result[key] is None or result[key] >= 0, (key, result[key])
    return {**result, **timings}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(max_jobs=2, max_queue=4, job_seconds=120) as c:
        yield c


def kernel_cell(code: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(code))


@pytest.fixture(scope="module")
def run_notebook(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Callable[[nbformat.NotebookNode, str], tuple[dict, list]]]:
    """``run_notebook(nb, name)`` executes ``nb`` in one long-lived kernel, in a fresh
    folder, and answers the kernel's ``result`` (through JSON, as the API sends it) and the
    notebook's executed cells. The kernel starts with torch's own thread count (the
    machine's cores): the notebook itself must set the count the server's jobs use."""
    root = tmp_path_factory.mktemp("notebooks")
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    runner = NotebookClient(nbformat.v4.new_notebook(), timeout=CELL_SECONDS,
                            kernel_name="python3")

    def execute(notebook: nbformat.NotebookNode, name: str) -> tuple[dict, list]:
        folder = root / name
        folder.mkdir()
        before = kernel_cell(f"""
            import importlib, os, sys
            os.chdir({str(folder)!r})
            for module in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
                del sys.modules[module]
            importlib.invalidate_caches()
            """)
        after = kernel_cell(f"""
            import json
            from pathlib import Path
            here = Path({str(folder)!r}).resolve()
            outside = [m.__file__ for name, m in sys.modules.items()
                       if (name == "app" or name.startswith("app."))
                       and not Path(m.__file__).resolve().is_relative_to(here)]
            print(json.dumps({{"outside": outside, "result": result}}))
            """)
        runner.nb = nbformat.v4.new_notebook(cells=[before, *notebook.cells, after])
        runner.reset_execution_trackers()
        for index, cell in enumerate(runner.nb.cells):
            runner.execute_cell(cell, index)
        report = json.loads("".join(output["text"] for output in after.outputs
                                    if output.get("name") == "stdout"))
        assert report["outside"] == [], "the notebook imported LiveGrad's own files"
        return report["result"], runner.nb.cells[1:-1]

    with runner.setup_kernel(env=env, cwd=str(root)):
        yield execute


@pytest.mark.parametrize("slug", DEMOS)
def test_notebook_reproduces_the_api_result(slug: str, client: TestClient,
                                            run_notebook: Callable) -> None:
    values = SMALL.get(slug, {})
    response = client.get(f"/api/demos/{slug}/notebook", params=query(values))
    assert response.status_code == 200, response.text
    notebook = nbformat.reads(response.text, as_version=4)

    result, cells = run_notebook(notebook, slug)

    expected = result_of(client, slug, values)
    assert without_timings(result) == without_timings(expected)
    outputs = [output for cell in cells if cell.cell_type == "code" for output in cell.outputs]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plot drawn"


def test_downloaded_as_a_valid_notebook_file(client: TestClient) -> None:
    response = client.get("/api/demos/kmeans/notebook", params=query(SMALL["kmeans"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ipynb+json"
    assert response.headers["content-disposition"] == \
        'attachment; filename="livegrad-kmeans.ipynb"'
    notebook = nbformat.reads(response.text, as_version=4)
    nbformat.validate(notebook)  # raises if not a valid nbformat 4 notebook
    assert notebook.metadata["livegrad"]["params"]["points"] == SMALL["kmeans"]["points"]

    written = {cell.source.split("\n", 1)[0].removeprefix("%%writefile "): cell
               for cell in notebook.cells if cell.source.startswith("%%writefile ")}
    # The algorithm the lesson teaches is shown, the demo's plumbing folded away.
    assert "source_hidden" not in written["app/ml/kmeans.py"].metadata.get("jupyter", {})
    assert written["app/demos/base.py"].metadata["jupyter"]["source_hidden"] is True
    assert written["app/demos/kmeans.py"].metadata["jupyter"]["source_hidden"] is True
    # Only what the demo imports: no server modules.
    assert not {"app/main.py", "app/config.py", "app/jobs.py", "app/routes/api.py"} & set(written)
    # The lesson that shows the demo is linked from the first cell.
    assert "(http://testserver/lessons/kmeans)" in notebook.cells[0].source


def test_unknown_demo_and_bad_parameters_are_refused_as_the_stream_does(
        client: TestClient) -> None:
    missing = client.get("/api/demos/no-such-demo/notebook")
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["field"] == "slug"

    bad = client.get("/api/demos/kmeans/notebook", params={"k": "0"})
    assert bad.status_code == 422
    (error,) = bad.json()["detail"]
    assert error["field"] == "k" and error["loc"] == ["query", "k"]
    assert "between 1 and" in error["message"]
    assert bad.json() == client.get("/api/demos/kmeans/stream", params={"k": "0"}).json()

    unknown = client.get("/api/demos/kmeans/notebook", params={"kk": "3"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "kk"
    repeated = client.get("/api/demos/kmeans/notebook?k=2&k=3")
    assert repeated.status_code == 422 and repeated.json()["detail"][0]["field"] == "k"


def test_imports_are_followed_inside_functions_and_relative_ones() -> None:
    source = textwrap.dedent("""
        import torch
        from . import charts
        from ..ml.kmeans import Restarts
        def later():
            from app.ml import kmeans_init
        """)
    found = imported_modules("app.demos.kmeans", source)
    assert {"torch", "app.demos.charts", "app.ml.kmeans", "app.ml.kmeans_init"} <= found
    modules = needed_modules("app.demos.kmeans")
    assert modules.index("app.ml.kmeans_init") < modules.index("app.ml.kmeans")
    assert modules[-1] == "app.demos.kmeans" and "app.config" not in modules
