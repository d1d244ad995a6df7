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
import re
import zipfile

import pytest

from support.course import make_course
from support.servers import Service, make_zips, upload, wait_for_status

pytestmark = pytest.mark.slow
A = "tiny"


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


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
