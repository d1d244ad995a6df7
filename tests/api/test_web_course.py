"""The course's page in a real browser (headless Debian Chromium, Playwright) against the real service grading
the fixture course's ``tiny`` (a copy with one inline question added to its manifest).

The student: a refusal shown on the upload bar, a new upload in "my submissions" at once, the result grouped
by question with failed tests first and the passed ones collapsed, a refused archive's reason once at the
top. The instructor: the deadline and an extension set on the page (course time zone), a student's history,
a regrade with its history, a manual score, the Canvas CSV.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from support.archives import zip_bytes as zip_of
from support.browser import chromium, chromium_missing
from support.course import make_course
from support.servers import Service

pytestmark = [pytest.mark.slow, pytest.mark.skipif(chromium_missing(), reason="Debian chromium not installed")]
A = "tiny"
INLINE = '[[inline_questions]]\nid = "IQ1"\ntitle = "Why scale"\npoints = 2\nnotebook = "tiny"\nnumber = 1\n\n'


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = make_course(tmp_path_factory.mktemp("course"))
        path = root / "grader" / "assignments" / A / "manifest.toml"
        path.write_text(path.read_text().replace("[[questions]]", INLINE + "[[questions]]", 1))
        mp.setenv("GRADER_COURSE_DIRS", str(root))
        yield root


@pytest.fixture(scope="module")
def service(tmp_path_factory, course):
    svc = Service(tmp_path_factory.mktemp("web-course"), workers=1,
                  env={"GRADER_COURSE_DIRS": course, "GRADER_COURSE_TIMEZONE": "Asia/Tokyo"}).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def ops_source(course: Path) -> str:
    return (course / "solutions" / A / "cs231n" / "ops.py").read_text()


def signed_in(browser, service, token):
    page = browser.new_page(viewport={"width": 1100, "height": 1600}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(service.url)
    page.fill("#token", token)
    page.click("#token-save")
    page.wait_for_selector("#whoami:has-text('signed in')")
    return page, errors


def upload_file(page, path: Path):
    page.select_option("#assignment", A)
    page.set_input_files("#file", str(path))
    page.click("#upload")


def wait_finished(page):
    page.wait_for_selector("#result-section:not([hidden])")
    page.wait_for_selector("#status[data-status='graded'], #status[data-status='error']", timeout=120_000)
    assert page.inner_text("#status") == "graded", page.inner_text("#grading-error")


def test_student_view_refusals_and_grouped_feedback(service, browser, course, tmp_path):
    page, errors = signed_in(browser, service, service.student_token)

    # a refusal: the bar does not stay at 100 %
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip archive at all" * 10)
    upload_file(page, junk)
    page.wait_for_selector("#upload-progress[data-state='refused']")
    assert page.inner_text("#upload-percent") == "refused"
    assert "not a zip" in page.inner_text("#upload-error")
    assert page.locator("#upload-progress").get_attribute("value") == "0"

    # half right: Q1 has one failed test shown first, the passed one collapsed; the upload is listed at once
    half = tmp_path / "half.zip"
    half.write_bytes(zip_of({"cs231n/ops.py": ops_source(course).replace("axis=1", "axis=0")}))
    upload_file(page, half)
    page.wait_for_selector("#mine tbody tr")
    assert page.locator("#mine tbody tr").count() == 1
    wait_finished(page)
    assert page.locator("#tests tr.group").count() == 1
    rows = page.locator("#tests tr.test")
    assert rows.count() == 2
    assert "failed" in rows.nth(0).get_attribute("class") and rows.nth(0).is_visible()
    assert "passed" in rows.nth(1).get_attribute("class") and rows.nth(1).is_hidden()
    page.click("#tests tr.group button.toggle-passed")
    assert rows.nth(1).is_visible()
    assert float(page.inner_text("#score")) == 2.0

    # a refused archive: its reason once, at the top; the tests point to it without repeating it
    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_of({"cs231n/ops.py": ops_source(course), "../escape.py": "x = 1\n"}))
    upload_file(page, evil)
    page.wait_for_function("document.querySelectorAll('#mine tbody tr').length === 2")
    page.wait_for_selector("#output:has-text('could not be unpacked')", timeout=120_000)
    wait_finished(page)
    assert "../escape.py" in page.inner_text("#output")
    assert page.locator("#tests pre").count() == 1                 # one message for every test
    assert page.locator("#tests td.same").count() == page.locator("#tests tr.test").count() - 1
    assert errors == []


def test_instructor_deadline_extension_history_regrade_manual_score_and_canvas(service, browser, course, tmp_path):
    student = service.add_user("nora", "student")
    with service.client(student) as c:
        r = c.post("/api/v1/submissions", data={"assignment": A},
                   files={"file": ("full.zip", zip_of({"cs231n/ops.py": ops_source(course)}), "application/zip")})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
    page, errors = signed_in(browser, service, service.instructor_token)
    page.wait_for_selector("#instructor-section:not([hidden])")

    # the deadline, in the course's time zone (Tokyo, UTC+9)
    page.select_option("#policy-assignment", A)
    page.fill("#policy-due", "2031-03-01T18:00")
    page.fill("#policy-penalty", "10")
    page.select_option("#policy-unit", "hour")
    page.click("#policy-save")
    page.wait_for_selector("#policy-message:has-text('saved')")
    with service.client() as c:
        policy = c.get(f"/api/v1/assignments/{A}").json()["policy"]
    assert policy["due_at"].startswith("2031-03-01T09:00:00") and policy["penalty_unit"] == "hour"
    page.fill("#ext-student", "nora")
    page.fill("#ext-due", "2031-03-03T18:00")
    page.click("#ext-save")
    page.wait_for_selector("#extensions tbody tr:has-text('nora')")

    # a student's history: click the name
    page.click("#refresh")
    page.wait_for_selector(f"#all-submissions tbody tr[data-id='{sid}']")
    page.locator(f"#all-submissions tbody tr[data-id='{sid}'] td").nth(1).click()
    page.wait_for_function("[...document.querySelectorAll('#all-submissions tbody tr')]"
                           ".every(r => r.children[1].textContent === 'nora')")
    page.locator(f"#all-submissions tbody tr[data-id='{sid}']").click()
    wait_finished(page)

    # a regrade, with its history
    page.fill("#regrade-reason", "checking")
    page.click("#regrade-one")
    page.wait_for_selector("#regrade-message:has-text('1 submission(s) queued')")
    page.wait_for_selector("#regrade-history tbody tr:has-text('checking')")
    page.wait_for_function("document.querySelector('#regrade-history tbody tr td:last-child').textContent === '5'",
                           timeout=120_000)
    assert page.locator("#regrade-history tbody tr td").all_inner_texts()[1:] == ["instructor", "checking", "5", "5"]

    # a manual score of the inline question
    item = page.locator("#manual-grading .manual-item[data-question='IQ1']")
    item.locator("input.manual-score").fill("1.5")
    item.locator("textarea.manual-comment").fill("good start")
    item.locator("button.manual-save").click()
    page.wait_for_selector("#manual-grading .manual-message:has-text('saved'), #final-line:has-text('6.5')")
    page.wait_for_selector("#final-line:has-text('6.5')")

    page.select_option("#gradebook-assignment", A)
    with page.expect_download() as download:
        page.click("#canvas-download")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "7"
    assert {r[0]: r[-1] for r in rows[2:]}["nora"] == "6.5"
    assert errors == []
