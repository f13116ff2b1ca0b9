"""'Open as notebook' on the page (issue 17): the button downloads a valid notebook whose
parameters cell holds the run's values, seed included, on three different demos. That
such a notebook executes to the API's result is tests/test_notebook.py's job."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from playwright.sync_api import Page

from tests.browser.demo_page import wait_finished

pytestmark = pytest.mark.browser


def notebook_values(notebook: nbformat.NotebookNode) -> dict:
    """The dict literal after ``values = `` in the parameters cell (read, not run)."""
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and "\nvalues = " in c.source]
    literal = cell.source.split("\nvalues = ", 1)[1].split("\nparams = ", 1)[0]
    return ast.literal_eval(literal)


@pytest.mark.parametrize(("lesson", "instance", "name", "value"), [
    ("kmeans", "kmeans", "seed", 7),
    ("autograd", "gradient-flow", "depth", 6),
    ("ppo", "gae", "lam", 0.5),
])
def test_open_as_notebook_downloads_the_run_with_its_values(page: Page, lesson, instance,
                                                            name, value):
    page.goto(f"/lessons/{lesson}?{instance}.{name}={value}")  # a link with one change
    sel = f"#demo-{instance}"
    demo = page.locator(sel)
    demo.evaluate("el => el.scrollIntoView({block: 'center'})")
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, {name: value}, sel=sel, timeout=60_000)
    with page.expect_download() as download:
        demo.locator('[data-action="notebook"]').click()
    assert download.value.suggested_filename == f"livegrad-{instance}.ipynb"
    notebook = nbformat.reads(open(download.value.path(), encoding="utf-8").read(), as_version=4)
    nbformat.validate(notebook)
    values = notebook_values(notebook)
    assert values == json.loads(json.dumps(record["params"]))  # exactly what the run sent
    assert values[name] == value
