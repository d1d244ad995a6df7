"""The course around the grades, through the real service (`python -m api serve`, SQLite, one local worker)
grading the fixture course's ``tiny`` (a copy whose manifest the tests edit, as an instructor would).

A refused archive explains itself to the student once, at the top; per-test visibility from the manifest;
due dates, late penalties, extensions, the quota and the hard deadline; regrades with their history; manual
scores of inline questions; the exports (Canvas CSV, per-question CSV, the submissions zip, duplicates).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zipfile

import pytest

from support.archives import zip_bytes as zip_of
from support.course import make_course
from support.servers import PostgresServer, Service, make_zips, postgres_bindir, upload, wait_for_status

pytestmark = pytest.mark.slow
A = "tiny"


def post(client, content: bytes, assignment: str = A, name: str = "sub.zip"):
    return client.post("/api/v1/submissions", data={"assignment": assignment},
                       files={"file": (name, content, "application/zip")})


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = make_course(tmp_path_factory.mktemp("course"))
        mp.setenv("GRADER_COURSE_DIRS", str(root))
        yield root


@pytest.fixture(scope="module")
def zips(tmp_path_factory, course):
    return make_zips(tmp_path_factory.mktemp("zips"), A, env={"GRADER_COURSE_DIRS": course})


@pytest.fixture(scope="module")
def svc(tmp_path_factory, course):
    service = Service(tmp_path_factory.mktemp("course-svc"), workers=1,
                      env={"GRADER_COURSE_DIRS": course, "GRADER_SECRET": "course-tests-secret-0123456789",
                           "GRADER_COURSE_TIMEZONE": "America/New_York", "GRADER_MAX_IN_FLIGHT": 20}).start()
    service.tokens = {}
    yield service
    service.stop()


def student(svc, name: str):
    """A client of student ``name`` (created on first use)."""
    if name not in svc.tokens:
        svc.tokens[name] = svc.add_user(name, "student")
    return svc.client(svc.tokens[name])


# ------------------------------------------------------------------------ a refused archive, explained once

def test_refused_archive_is_explained_to_the_student_once_at_the_top(svc):
    evil = zip_of({"cs231n/ops.py": "def scale(x, a):\n    return x * a\n", "../escape.py": "x = 1\n"})
    with student(svc, "mallory") as c:
        r = post(c, evil)
        assert r.status_code == 202, r.text
        sub = wait_for_status(c, r.json()["id"])
    assert sub["status"] == "graded" and sub["score"] == 0
    # the reason reaches the student, at the top of the result (it is about their own archive)
    assert sub["output"] is not None and "could not be unpacked" in sub["output"]
    assert "'..'" in sub["output"] and "../escape.py" in sub["output"]
    # the tests point to it instead of repeating (or hiding) it
    assert sub["tests"], sub
    for t in sub["tests"]:
        assert t["status"] == "failed" and "at the top of the result" in t["output"], t
        assert "escape" not in t["output"]


# ------------------------------------------------------------------------------------- the course's rules

MANIFEST_TEXT: dict = {}


def manifest(course):
    return course / "grader" / "assignments" / A / "manifest.toml"


def edit_manifest(svc, course, change, seen: bool = False) -> None:
    """Rewrite tiny's manifest with ``change(text)``; ``seen``: the change shows in ``GET /assignments/tiny``
    (points, inline questions), so wait until the service's catalogue has read it (every 2 s)."""
    path = manifest(course)
    original = MANIFEST_TEXT.setdefault(A, path.read_text())
    with svc.client() as c:
        before = c.get(f"/api/v1/assignments/{A}").json()
        path.write_text(change(original))
        deadline = time.monotonic() + 15
        while seen and c.get(f"/api/v1/assignments/{A}").json() == before:
            assert time.monotonic() < deadline, "the catalogue did not read the changed manifest"
            time.sleep(0.2)


def restore_manifest(course) -> None:
    if A in MANIFEST_TEXT:
        manifest(course).write_text(MANIFEST_TEXT[A])


def set_policy(svc, **policy) -> dict:
    with svc.client(svc.instructor_token) as t:
        r = t.put(f"/api/v1/assignments/{A}/policy", json=policy)
    assert r.status_code == 200, r.text
    return r.json()


def graded_upload(client, path) -> dict:
    r = upload(client, path, assignment=A)
    assert r.status_code == 202, r.text
    sub = wait_for_status(client, r.json()["id"])
    assert sub["status"] == "graded", sub.get("error")
    return sub


def gradebook(svc, **params) -> dict[str, dict]:
    with svc.client(svc.instructor_token) as t:
        r = t.get("/api/v1/gradebook.csv", params={"assignment": A, **params})
    assert r.status_code == 200, r.text
    return {row["student"]: row for row in csv.DictReader(io.StringIO(r.text))}


def test_a_test_hidden_until_the_due_date_is_shown_once_it_has_passed(svc, course, zips):
    edit_manifest(svc, course, lambda text: text.replace('suite = "q1_ops.py"\n',
                                                         'suite = "q1_ops.py"\nvisibility = "after_due_date"\n')
                  + '[questions.test_visibility]\ntest_row_sums = "hidden"\n')
    try:
        set_policy(svc, due_at=iso(now() + dt.timedelta(days=1)))
        with student(svc, "vera") as c:
            sub = graded_upload(c, zips["solutions"])
            assert sub["score"] == 5 and sub["tests"] == [] and sub["hidden_tests"] == 2
            with svc.client(svc.instructor_token) as t:
                full = t.get(f"/api/v1/submissions/{sub['id']}").json()
            assert {x["name"].rsplit(": ", 1)[-1]: x["visibility"] for x in full["tests"]} == \
                {"test_scale": "after_due_date", "test_row_sums": "hidden"}
            set_policy(svc, due_at=iso(now() - dt.timedelta(minutes=1)))
            after = c.get(f"/api/v1/submissions/{sub['id']}").json()
        assert [x["name"].rsplit(": ", 1)[-1] for x in after["tests"]] == ["test_scale"]
        assert after["tests"][0]["visibility"] == "after_due_date" and after["hidden_tests"] == 1
        assert "row_sums" not in str(after["tests"])
    finally:
        restore_manifest(course)
        set_policy(svc)


def test_late_submission_penalised_extension_honoured_deadline_and_quota_enforced(svc, zips):
    with svc.client() as c:
        assert c.get("/api/v1/course").json() == {"timezone": "America/New_York"}
    # a time without an offset is one of the course's time zone
    p = set_policy(svc, due_at="2030-01-15T12:00:00")
    assert p["due_at"].startswith("2030-01-15T17:00:00")
    due = now() - dt.timedelta(hours=2, minutes=30)
    set_policy(svc, due_at=iso(due), penalty_percent=10, penalty_unit="hour", penalty_cap_percent=50)
    with svc.client(svc.instructor_token) as t:
        student(svc, "ella").close()
        r = t.put(f"/api/v1/assignments/{A}/extensions/ella", json={"due_at": iso(now() + dt.timedelta(hours=1))})
        assert r.status_code == 200 and r.json()["student"] == "ella", r.text
        assert t.put(f"/api/v1/assignments/{A}/extensions/nobody", json={"due_at": iso(now())}).status_code == 404
    with student(svc, "lena") as lena, student(svc, "ella") as ella:
        late = graded_upload(lena, zips["solutions"])
        assert 9000 <= late["late_seconds"] < 9300 and late["penalty_percent"] == 30      # 3 started hours
        assert late["score"] == 5 and late["final_score"] == 3.5
        ok = graded_upload(ella, zips["solutions"])
        assert ok["late_seconds"] == 0 and ok["penalty_percent"] == 0 and ok["final_score"] == 5
        mine = {d["assignment"]: d for d in ella.get("/api/v1/me/deadlines").json()}[A]
        assert mine["extended"] is True and dt.datetime.fromisoformat(mine["due_at"]) > now()
        assert mine["submissions"] == 1
        assert {d["assignment"]: d for d in lena.get("/api/v1/me/deadlines").json()}[A]["extended"] is False
        book = gradebook(svc)
        assert (book["lena"]["score"], book["lena"]["autograded"], book["lena"]["penalty_percent"]) == ("3.5", "5", "30")
        assert book["ella"]["score"] == "5"

        # a hard deadline an hour ago: closed for lena; ella's extension moves hers by as much as her due date
        set_policy(svc, due_at=iso(due), hard_deadline_at=iso(now() - dt.timedelta(hours=1)), penalty_percent=10,
                   penalty_unit="hour", max_submissions=2)
        r = upload(lena, zips["solutions"], assignment=A)
        assert r.status_code == 403 and r.json()["code"] == "past_deadline", r.text
        assert upload(ella, zips["starter"], assignment=A).status_code == 202
        r = upload(ella, zips["starter"], assignment=A)                       # her third: over the quota
        assert r.status_code == 429 and r.json()["code"] == "quota_exhausted", r.text
        with svc.client(svc.instructor_token) as t:               # instructors' own uploads are not refused
            assert upload(t, zips["starter"], assignment=A).status_code == 202
    set_policy(svc)


# ------------------------------------------------------------------------------- regrades, manual scores

def test_regrade_unchanged_gives_the_same_score_then_a_manifest_fix_changes_it_with_history(svc, course, zips):
    with student(svc, "rita") as rita, svc.client(svc.instructor_token) as t:
        sub = graded_upload(rita, zips["solutions"])
        assert sub["score"] == 5
        first = t.get(f"/api/v1/submissions/{sub['id']}").json()
        r = t.post("/api/v1/regrades", json={"submission_id": sub["id"], "reason": "check"})
        assert r.status_code == 202 and r.json() == {"queued": [sub["id"]], "skipped": []}, r.text
        again = wait_for_status(t, sub["id"])
        assert again["status"] == "graded" and again["score"] == 5 and again["finished_at"] > first["finished_at"]
        assert again["tests"] == first["tests"] and again["questions"] == first["questions"]

        edit_manifest(svc, course, lambda text: text.replace("test_scale = 2", "test_scale = 3"), seen=True)
        try:
            r = t.post("/api/v1/regrades", json={"assignment": A, "student": "rita", "reason": "test_scale fixed"})
            assert r.status_code == 202 and r.json()["queued"] == [sub["id"]], r.text
            fixed = wait_for_status(t, sub["id"])
        finally:
            restore_manifest(course)
        assert fixed["score"] == 6 and fixed["max_score"] == 6
        history = [(h["requested_by"], h["reason"], h["old_score"], h["new_score"], h["outcome"])
                   for h in fixed["regrades"]]
        assert history == [("instructor", "check", 5, 5, "graded"), ("instructor", "test_scale fixed", 5, 6, "graded")]
        assert all(h["finished_at"] >= h["requested_at"] for h in fixed["regrades"])
        assert rita.get(f"/api/v1/submissions/{sub['id']}").json()["regrades"] is None     # instructors only
        assert t.post("/api/v1/regrades", json={}).status_code == 422
        assert t.post("/api/v1/regrades", json={"submission_id": 10**6}).status_code == 404
        assert rita.post("/api/v1/regrades", json={"submission_id": sub["id"]}).status_code == 403


def test_manual_score_of_an_inline_question_in_the_gradebook(svc, course, zips):
    inline = '\n[[inline_questions]]\nid = "IQ1"\ntitle = "Why scale"\npoints = 2\nnotebook = "tiny"\nnumber = 1\n'
    edit_manifest(svc, course, lambda text: text.replace('[[questions]]', inline + '\n[[questions]]', 1), seen=True)
    try:
        with student(svc, "ivan") as ivan, svc.client(svc.instructor_token) as t:
            assert t.get(f"/api/v1/assignments/{A}").json()["inline_questions"] == \
                [{"id": "IQ1", "title": "Why scale", "points": 2.0}]
            sub = graded_upload(ivan, zips["solutions"])
            url = f"/api/v1/submissions/{sub['id']}/manual/IQ1"
            assert t.put(url, json={"score": 3}).status_code == 422                 # over its points
            assert t.put(f"/api/v1/submissions/{sub['id']}/manual/IQ9", json={"score": 1}).status_code == 404
            assert ivan.put(url, json={"score": 2}).status_code == 403
            r = t.put(url, json={"score": 1.5, "comment": "half right"})
            assert r.status_code == 200 and r.json()["graded_by"] == "instructor", r.text
            view = t.get(f"/api/v1/submissions/{sub['id']}").json()
            assert [(m["question"], m["score"], m["comment"]) for m in view["manual"]] == [("IQ1", 1.5, "half right")]
            assert view["final_score"] == 6.5
            book = gradebook(svc)
            assert book["ivan"]["IQ1 (Why scale) /2"] == "1.5" and book["ivan"]["score"] == "6.5"
            assert book["ivan"]["max_score"] == "7" and book["ivan"]["autograded"] == "5"
            # the student sees the manual score once the grades are published
            assert ivan.get(f"/api/v1/submissions/{sub['id']}").json()["manual"][0]["score"] is None
            set_policy(svc, published=True)
            mine = ivan.get(f"/api/v1/submissions/{sub['id']}").json()
            assert mine["manual"][0]["score"] == 1.5 and mine["manual"][0]["comment"] == "half right"
            assert mine["manual"][0]["answer"] is None and mine["final_score"] == 6.5
            canvas = t.get("/api/v1/gradebook/canvas.csv", params={"assignment": A})
        set_policy(svc)
    finally:
        restore_manifest(course)
    assert canvas.status_code == 200 and canvas.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(canvas.text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Tiny: scaling and summing arrays (tiny)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "7"]
    by_name = {r[0]: r for r in rows[2:]}
    assert by_name["ivan"] == ["ivan", "", "ivan", "ivan", "", "6.5"]
    assert by_name["lena"][-1] == "3.5" and by_name["rita"][-1] == "6"
    assert by_name["demo-student"][-1] == ""                               # nothing that counts: left empty


# ----------------------------------------------------------------------------------------------- exports

def test_submissions_zip_and_duplicate_graded_files(svc, zips):
    with svc.client(svc.instructor_token) as t:
        dup = t.get("/api/v1/duplicates", params={"assignment": A})
        assert dup.status_code == 200, dup.text
        groups = dup.json()["groups"]
        r = t.get(f"/api/v1/assignments/{A}/submissions.zip", params={"policy": "latest"})
        rita_latest = t.get("/api/v1/submissions", params={"student": "rita", "assignment": A}).json()["items"][0]
    # everyone who uploaded the solutions holds the same graded files: one group, flagged
    assert len(groups) == 1 and {"vera", "lena", "ella", "rita", "ivan"} <= set(groups[0]["students"])
    assert "mallory" not in groups[0]["students"]          # her archive was never unpacked
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode())))
        assert zf.read(f"rita/{rita_latest['id']}-solutions.zip") == zips["solutions"].read_bytes()
    students = [row["student"] for row in index]
    assert len(students) == len(set(students))              # latest: one per student
    assert len(names) == len(index) + 1
    rows = {row["student"]: row for row in index}
    assert rows["rita"]["same_graded_files_as"] and rows["mallory"]["same_graded_files_as"] == ""
    with svc.client(svc.tokens["rita"]) as rita:
        assert rita.get("/api/v1/duplicates", params={"assignment": A}).status_code == 403
        assert rita.get(f"/api/v1/assignments/{A}/submissions.zip").status_code == 403


# ------------------------------------------------------------------------------------------ on PostgreSQL

@pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL binaries not installed")
def test_course_rules_on_postgresql(tmp_path, course, zips):
    """The same rules with the database on PostgreSQL: the quota counted in the insert's transaction, the
    penalty recorded at upload, a regrade's history, a manual score's row, the exports."""
    pg = PostgresServer().start()
    service = Service(tmp_path / "data", workers=1,
                      env={"DATABASE_URL": pg.url, "GRADER_COURSE_DIRS": course,
                           "GRADER_SECRET": "course-tests-secret-0123456789"})
    try:
        service.start()
        service.tokens = {}
        set_policy(service, due_at=iso(now() - dt.timedelta(minutes=90)), penalty_percent=20, penalty_unit="day",
                   max_submissions=1)
        with student(service, "pia") as pia, service.client(service.instructor_token) as t:
            sub = graded_upload(pia, zips["solutions"])
            assert sub["penalty_percent"] == 20 and sub["final_score"] == 4
            r = upload(pia, zips["solutions"], assignment=A)
            assert r.status_code == 429 and r.json()["code"] == "quota_exhausted", r.text
            assert t.post("/api/v1/regrades", json={"assignment": A}).json()["queued"] == [sub["id"]]
            again = wait_for_status(t, sub["id"])
            assert again["score"] == 5 and [(h["old_score"], h["new_score"]) for h in again["regrades"]] == [(5, 5)]
            book = gradebook(service)
            assert book["pia"]["score"] == "4" and book["pia"]["penalty_percent"] == "20"
            assert t.get(f"/api/v1/assignments/{A}/submissions.zip").status_code == 200
            assert t.get("/api/v1/duplicates", params={"assignment": A}).json()["groups"] == []
    finally:
        service.stop()
        pg.stop()
