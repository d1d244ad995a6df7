"""The web page in a real browser: headless Debian Chromium driven by Playwright, against the real service.

A student pastes their token, uploads solutions.zip (progress bar), watches the status change and reads
the per-question scores off the page; an instructor sees the submission in the list and downloads the
gradebook. The service runs with two HTTP processes (`serve --http-workers 2`), so the page's requests
are spread over both. One screenshot is saved (``API_SCREENSHOT_DIR`` if set, else the test's tmp dir).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from support.browser import chromium, chromium_missing
from support.servers import Service, make_zips

pytestmark = pytest.mark.skipif(chromium_missing(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service as deployed for load: 2 HTTP processes under a supervisor, 1 local grading worker."""
    svc = Service(tmp_path_factory.mktemp("web"), workers=1, extra_args=("--http-workers", "2")).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_student_uploads_and_reads_scores_then_instructor_downloads_gradebook(service, browser, tmp_path):
    zips = make_zips(tmp_path / "zips")
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(service.url)
    assert page.title() == "CS231n grading service"
    page.fill("#token", service.student_token)
    page.click("#token-save")
    page.wait_for_selector("#whoami:has-text('demo-student (student)')")
    assert page.locator("#instructor-section").is_hidden()
    page.select_option("#assignment", "assignment2")
    page.set_input_files("#file", str(zips["solutions"]))
    page.click("#upload")
    page.wait_for_selector("#result-section:not([hidden])")
    page.wait_for_selector("#status[data-status='graded'], #status[data-status='error']", timeout=240_000)
    assert page.inner_text("#status") == "graded", page.inner_text("#grading-error")
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    assert page.inner_text("#upload-percent") == "100%"

    sid = int(page.inner_text("#sub-id"))
    with service.client(service.student_token) as c:
        api_view = c.get(f"/api/v1/submissions/{sid}").json()
    assert float(page.inner_text("#score")) == pytest.approx(api_view["score"])
    assert float(page.inner_text("#max-score")) == pytest.approx(api_view["max_score"]) and api_view["max_score"] > 0
    assert api_view["score"] == pytest.approx(api_view["max_score"])
    rows = page.locator("#questions tbody tr")
    assert rows.count() == len(api_view["questions"]) > 0
    for i, q in enumerate(api_view["questions"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == q["id"] and float(cells[2]) == pytest.approx(q["score"])
    assert page.locator("#tests tr.test").count() == len(api_view["tests"])
    assert page.locator("#tests tr.test.passed").count() == len(api_view["tests"])
    assert page.locator("#mine tbody tr").count() == 1
    shots = Path(os.environ.get("API_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "api_web_student.png"), full_page=True)

    health = service.client().get("/healthz").json()           # answered by an HTTP process, pool in the
    assert health["status"] == "ok" and health["workers_alive"] == 1   # supervisor (status file)

    # the instructor's view of the same service
    teacher = browser.new_page(accept_downloads=True)
    teacher.goto(service.url)
    teacher.fill("#token", service.instructor_token)
    teacher.click("#token-save")
    teacher.wait_for_selector("#instructor-section:not([hidden])")
    teacher.wait_for_selector(f"#all-submissions tbody tr[data-id='{sid}']")
    row = teacher.locator(f"#all-submissions tbody tr[data-id='{sid}'] td").all_inner_texts()
    assert row[1] == "demo-student" and row[5] == "graded"
    teacher.select_option("#gradebook-assignment", "assignment2")
    with teacher.expect_download() as download:
        teacher.click("#gradebook-download")
    text = Path(download.value.path()).read_text()
    book = {r["student"]: r for r in csv.DictReader(io.StringIO(text))}
    assert float(book["demo-student"]["score"]) == pytest.approx(api_view["score"])
    assert download.value.suggested_filename == "gradebook-assignment2-best.csv"

    # a bad token is explained on the page, not a blank screen
    other = browser.new_page()
    other.goto(service.url)
    other.fill("#token", "wrong")
    other.click("#token-save")
    other.wait_for_selector("#token-error:has-text('unknown or revoked token')")
    assert errors == []
