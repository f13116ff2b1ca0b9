"""Your own data, in a real Chromium: a CSV file of points runs k-means and its elbow (and a
malformed one is refused with its reason under the field), a point typed as x and y is
placed as a click places it, a pasted paragraph runs the CRF tagger, and axe finds nothing
serious on the k-means lesson with all of it on the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.ml.ner_data import tokenize
from tests.browser.demo_page import wait_finished

pytestmark = pytest.mark.browser

LESSON = "/lessons/kmeans"
KMEANS = "#demo-kmeans"
ELBOW = "#demo-kmeans-elbow"

# 30 points in three loose groups, as a spreadsheet saves them: a header, CRLF line ends.
GROUPS = [(-2.8 + 0.3 * (i % 5), 2.2 - 0.5 * (i // 5)) for i in range(10)] + \
         [(1.6 + 0.35 * (i % 4), 2.6 - 0.4 * (i // 4)) for i in range(10)] + \
         [(0.4 * (i % 5) - 0.8, -1.8 - 0.5 * (i // 5)) for i in range(10)]
POINTS = [(round(x, 3), round(y, 3)) for x, y in GROUPS]
GOOD_CSV = "x,y\r\n" + "".join(f"{x:g},{y:g}\r\n" for x, y in POINTS)
BAD_CSV = "x,y\n1,2\n3,4\n5,6\n7,8\n9,10\nabc,1\n"
PARAGRAPH = (
    "Yesterday Noor Okonkwo flew from Buenos Aires to Lisbon to meet Helix Labs. "
    "On Monday she visited Maria Santos at Orbit Systems in Berlin, and the two talked for "
    "hours. Later that week Kenji Watanabe joined them in Paris to sign the contract with "
    "Nova Corp. They returned home to Toronto on Friday after a long trip across the "
    "Atlantic."
)

# The points the clusters chart draws, across its "cluster n" traces, sorted.
CHARTED = """(sel) => {
  const div = document.querySelector(sel).querySelector('.plot[data-chart="clusters"]');
  const traces = (div.data || []).filter(t => /^cluster \\d+$/.test(t.name || ""));
  return traces.flatMap(t => t.x.map((x, i) => [x, t.y[i]]))
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}"""


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("own-data")
    files = {"good": folder / "my points.csv", "bad": folder / "broken.csv"}
    files["good"].write_text(GOOD_CSV, newline="")
    files["bad"].write_text(BAD_CSV)
    return files


def charted(page: Page, sel: str) -> list[list[float]]:
    return page.evaluate(CHARTED, sel)


def load_csv(page: Page, sel: str, path: Path) -> None:
    demo = page.locator(sel)
    demo.locator('input[type="file"]').scroll_into_view_if_needed()
    demo.locator('input[type="file"]').set_input_files(str(path))


def api_result(server_url: str, slug: str, params: dict) -> dict:
    response = httpx.post(f"{server_url}/api/demos/{slug}/run", json=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.mark.parametrize(("sel", "slug"), [(KMEANS, "kmeans"), (ELBOW, "kmeans-elbow")])
def test_a_csv_file_of_points_runs_and_the_charts_show_those_points(
        page: Page, server_url: str, csv_files: dict, sel: str, slug: str) -> None:
    page.goto(LESSON)
    demo = page.locator(sel)
    load_csv(page, sel, csv_files["good"])
    # The box shows the file's text (what is sent), and loading it chose the custom dataset.
    expect(demo.locator('[name="points_csv"]')).to_have_value(GOOD_CSV.replace("\r\n", "\n"))
    expect(demo.locator('[name="dataset"]')).to_have_value("custom")
    sent = GOOD_CSV.replace("\r\n", "\n")  # a text area's value has LF line ends
    expect(demo.locator(".text-count")).to_have_text(
        f"31 lines · {len(sent)} / 100\u00a0000 characters")
    record = wait_finished(page, {"dataset": "custom"}, sel=sel)
    assert record["params"]["points_csv"] == sent  # what was sent: the file's text
    assert charted(page, sel) == sorted([list(p) for p in POINTS])
    # The numbers are the API's for the same parameters.
    expected = api_result(server_url, slug, record["params"])
    key = "inertia"
    assert record["result"][key] == expected[key]
    if slug == "kmeans":
        assert record["result"]["centroids"] == expected["centroids"]
        assert record["result"]["labels"] == expected["labels"]
    else:
        assert record["result"]["k"] == list(range(1, 11))


def test_a_malformed_csv_is_refused_with_its_reason_and_the_old_charts_dimmed(
        page: Page, csv_files: dict, shots: Callable) -> None:
    page.goto(LESSON)
    demo = page.locator(KMEANS)
    load_csv(page, KMEANS, csv_files["good"])
    wait_finished(page, {"dataset": "custom"}, sel=KMEANS)
    expect(demo).not_to_have_class("stale")

    load_csv(page, KMEANS, csv_files["bad"])
    field = demo.locator(".control-csv")
    expect(field.locator(".control-error")).to_have_text(
        "points_csv: row 7: 'abc' is not a number")
    expect(field.locator('[name="points_csv"]')).to_have_attribute("aria-invalid", "true")
    expect(demo.locator(".demo-status")).to_have_text(
        "Not run: points_csv: row 7: 'abc' is not a number. "
        "The dimmed charts are from the last run.")
    expect(demo).to_have_class("demo stale")
    assert float(demo.locator(".demo-charts").evaluate("e => getComputedStyle(e).opacity")) < 1
    # The charts still show the good file's points: nothing of the bad one was drawn.
    assert charted(page, KMEANS) == sorted([list(p) for p in POINTS])
    shots(page, "own-data-refused-1280-light", field)

    # Clear CSV empties the box: the error goes with it.
    demo.locator("[data-clear-csv]").click()
    expect(field.locator('[name="points_csv"]')).to_have_value("")
    expect(field.locator(".control-error")).to_have_count(0)
    # The custom dataset is now empty: the status says how to give it points, as a hint.
    expect(demo.locator(".demo-status")).to_have_text(
        "Add points: click the chart, type x and y, or load a CSV.")
    expect(demo.locator(".demo-status")).to_have_attribute("data-kind", "hint")


def test_typing_coordinates_places_a_point_as_a_click_does(page: Page) -> None:
    page.goto(LESSON)
    demo = page.locator(KMEANS)
    x, y = demo.get_by_label("x of the point to add"), demo.get_by_label("y of the point to add")
    expect(x).to_have_attribute("min", "-100")
    expect(y).to_have_attribute("max", "100")
    x.fill("1.23456")
    y.fill("-2")
    demo.get_by_role("button", name="Add point").click()
    expect(demo.locator(".points-count")).to_have_text("1 point")
    # Rounded to 0.001 as a click is, drawn on the chart, and dataset switched to custom.
    expect(demo.locator('[name="points"]')).to_have_value("[[1.235,-2]]")
    expect(demo.locator('[name="dataset"]')).to_have_value("custom")
    drawn = demo.locator('.plot[data-chart="clusters"]').evaluate(
        "el => { const t = el.data.find(t => t.name === 'your points'); return [t.x, t.y]; }")
    assert drawn == [[1.235], [-2]]
    k = int(demo.locator('[name="k"]').input_value())
    expect(demo.locator(".demo-status")).to_have_text(f"Add {k - 1} more points to run.")
    expect(x).to_be_focused()  # ready for the next point
    expect(x).to_have_value("")

    # Enter in a box adds the point too (rather than running the demo).
    x.fill("3")
    y.fill("3")
    y.press("Enter")
    expect(demo.locator(".points-count")).to_have_text("2 points")
    expect(demo.locator('[name="points"]')).to_have_value("[[1.235,-2],[3,3]]")

    # Out of bounds: not added, and the status says what x accepts.
    x.fill("250")
    y.fill("0")
    demo.get_by_role("button", name="Add point").click()
    expect(demo.locator(".demo-status")).to_have_text(
        "Not added: x must be a number from -100 to 100.")
    expect(x).to_have_attribute("aria-invalid", "")
    expect(demo.locator(".points-count")).to_have_text("2 points")


def test_a_pasted_paragraph_runs_the_crf_tagger_and_one_past_the_bound_is_refused(
        page: Page, shots: Callable) -> None:
    page.goto("/lessons/crf?crf-tagger.epochs=1")
    demo = page.locator("#demo-crf-tagger")
    box = demo.locator('textarea[name="sentence"]')
    box.scroll_into_view_if_needed()
    wait_finished(page, sel="#demo-crf-tagger", timeout=90_000)  # it ran once seen
    box.fill(PARAGRAPH)
    expect(demo.locator("#crf-tagger-sentence-count")).to_have_text(
        f"{len(PARAGRAPH)} / 500 characters")
    demo.locator('[data-action="run"]').click()
    record = wait_finished(page, {"sentence": PARAGRAPH}, sel="#demo-crf-tagger", timeout=90_000)
    words = tokenize(PARAGRAPH)
    assert len(words) > 60  # more than the old bound: four sentences
    assert record["result"]["tokens"] == words
    assert len(record["result"]["crf_tags"]) == len(words)
    ticks = demo.locator('.plot[data-chart="lattice"]').evaluate(
        "el => el.layout.xaxis.ticktext.length")
    assert ticks == len(words)
    shots(page, "own-data-crf-paragraph-1280-light", demo.locator(".control-text"))

    # Past the bound: the paste is whole (no maxlength cuts it short without a word), the
    # count says it is over, and the server's refusal names the field and its bound.
    box.fill(PARAGRAPH * 2)  # 672 characters
    expect(box).to_have_value(PARAGRAPH * 2)
    expect(demo.locator("#crf-tagger-sentence-count")).to_have_attribute("data-over", "true")
    demo.locator('[data-action="run"]').click()
    expect(demo.locator(".control-text .control-error")).to_have_text(
        "sentence: String should have at most 500 characters (accepts at most 500 characters)")


def test_a_link_carries_a_short_csv_and_says_when_one_is_too_long(
        new_page, csv_files: dict, tmp_path: Path) -> None:
    page = new_page(viewport={"width": 1280, "height": 900},
                    permissions=["clipboard-read", "clipboard-write"])
    page.goto(LESSON)
    load_csv(page, KMEANS, csv_files["good"])
    first = wait_finished(page, {"dataset": "custom"}, sel=KMEANS)
    page.locator(f'{KMEANS} [data-action="copy-link"]').click()
    link = page.evaluate("navigator.clipboard.readText()")
    # A short CSV travels in the link, and the link reproduces the run.
    shared = new_page(viewport={"width": 1280, "height": 900})
    shared.goto(link)
    expect(shared.locator(f'{KMEANS} [name="points_csv"]')).to_have_value(
        GOOD_CSV.replace("\r\n", "\n"))
    shared.locator(f"{KMEANS} .plot").first.scroll_into_view_if_needed()
    again = wait_finished(shared, {"dataset": "custom"}, sel=KMEANS)
    assert again["result"] == first["result"]

    # 300 rows (~3 000 characters) do not: the link says so in their place, Copy link says
    # the link is without them, and a page opened from it says what is missing.
    big = tmp_path / "big.csv"
    big.write_text("".join(f"{i % 20 - 10}.25,{i // 20 - 7}.5\n" for i in range(300)))
    load_csv(page, KMEANS, big)
    wait_finished(page, {"dataset": "custom"}, sel=KMEANS)
    button = page.locator(f'{KMEANS} [data-action="copy-link"]')
    button.click()
    expect(button).to_have_text("✓ Link copied, without points_csv (too long for a link)")
    link = page.evaluate("navigator.clipboard.readText()")
    assert "points_csv=%28too+long+for+a+link%3A+3%C2%A0" in link and len(link) < 500
    shared.goto(link)
    box = shared.locator(f"{KMEANS} .control-csv")
    expect(box.locator(".control-note")).to_have_text(re.compile(
        r"^This link could not carry the CSV \(3\u00a0\d{3} characters\): load the file "
        r"again to run what was shared\.$"))
    expect(box.locator('[name="points_csv"]')).to_have_value("")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_own_data_controls_look_right(new_page, csv_files: dict, shots: Callable,
                                      width: int, theme: str) -> None:
    page = new_page(viewport={"width": width, "height": 900}, color_scheme=theme)
    page.goto(LESSON)
    demo = page.locator(KMEANS)
    load_csv(page, KMEANS, csv_files["good"])
    wait_finished(page, {"dataset": "custom"}, sel=KMEANS)
    # Nothing of the own-data controls spills out of the demo.
    spill = demo.evaluate("""d => { const r = d.getBoundingClientRect();
      return [...d.querySelectorAll('.control-csv *, .control-points *')]
        .filter(e => e.getBoundingClientRect().right > r.right + 1)
        .map(e => e.outerHTML.slice(0, 80)); }""")
    assert spill == []
    shots(page, f"own-data-controls-{width}-{theme}", demo.locator(".control-csv"))
    shots(page, f"own-data-charts-{width}-{theme}", demo.locator(".demo-status"))


def test_no_serious_accessibility_violation_with_own_data(page: Page, csv_files: dict) -> None:
    page.goto(LESSON)
    load_csv(page, KMEANS, csv_files["good"])
    wait_finished(page, {"dataset": "custom"}, sel=KMEANS)
    page.locator(KMEANS).get_by_label("x of the point to add").fill("1")
    results = Axe().run(page)
    serious = [f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)
