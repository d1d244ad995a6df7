"""The grading service over real HTTP: `python -m api serve` on a loopback port, SQLite, local workers.

Two servers per module: an *idle* one (no workers, 1 MiB upload limit, 2 jobs in flight per student) for
every kind of bad input, and a *grading* one (2 local workers, the real `python -m grader grade`) that
grades starter.zip and solutions.zip built by `python -m grader make-zips`. Both also know the fixture
course (tests/fixtures/course, through `GRADER_COURSE_DIRS`): its assignments, added only as files, are
offered beside the repository's, and the grading server grades one of them.
"""
from __future__ import annotations

import io
import select
import socket
import subprocess
import sys
import zipfile

import httpx
import pytest

from api.catalog import Catalog
from api.settings import REPO_ROOT
from support.course import make_course
from support.servers import Service, make_zips, upload, wait_for_status

ASSIGNMENT = "assignment2"
LIMIT = 1 << 20


def small_zip(text: str = "print('hi')\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cs231n/layers.py", text)
    return buf.getvalue()


def post(client: httpx.Client, content: bytes, assignment: str | None = ASSIGNMENT, name: str = "sub.zip"):
    data = {"assignment": assignment} if assignment is not None else {}
    return client.post("/api/v1/submissions", data=data, files={"file": (name, content, "application/zip")})


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# ---------------------------------------------------------------------------------------------- servers

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the fixture course (assignments ``tiny`` and ``tiny2``), known to the servers and, for the
    expectations, to this process (``GRADER_COURSE_DIRS``)."""
    root = make_course(tmp_path_factory.mktemp("course"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADER_COURSE_DIRS", str(root))
        yield root


@pytest.fixture(scope="module")
def idle(tmp_path_factory, course):
    svc = Service(tmp_path_factory.mktemp("idle"), workers=0,
                  env={"GRADER_MAX_UPLOAD_BYTES": LIMIT, "GRADER_MAX_IN_FLIGHT": 2,
                       "GRADER_COURSE_DIRS": course}).start()
    svc.other_token = svc.add_user("other-student", "student")
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return make_zips(tmp_path_factory.mktemp("zips"))


@pytest.fixture(scope="module")
def grading(tmp_path_factory, zips, course):
    """A grading server; alice uploads solutions then starter, bob uploads starter, dora the solutions of the
    fixture course's ``tiny`` (4 grades, 2 workers)."""
    tiny = make_zips(tmp_path_factory.mktemp("tiny-zips"), "tiny", env={"GRADER_COURSE_DIRS": course})
    svc = Service(tmp_path_factory.mktemp("grading"), workers=2, env={"GRADER_COURSE_DIRS": course}).start()
    roster = svc.data_dir / "roster.csv"
    roster.write_text("name,role\nalice,student\nbob,student\ncarol,student\ndora,student\n")
    lines = svc.cli("import-roster", str(roster)).stdout.strip().splitlines()[1:]
    tokens = {line.split(",")[0]: line.split(",")[2] for line in lines}
    svc.tokens = tokens
    with svc.client(tokens["alice"]) as alice, svc.client(tokens["bob"]) as bob, \
            svc.client(tokens["dora"]) as dora:
        r1 = upload(alice, zips["solutions"])
        r2 = upload(bob, zips["starter"])
        r4 = upload(dora, tiny["solutions"], assignment="tiny")
        assert r1.status_code == 202 and r2.status_code == 202 and r4.status_code == 202, (r1.text, r2.text, r4.text)
        svc.alice_full = wait_for_status(alice, r1.json()["id"])
        svc.bob_zero = wait_for_status(bob, r2.json()["id"])
        svc.dora_tiny = wait_for_status(dora, r4.json()["id"])
        r3 = upload(alice, zips["starter"])
        assert r3.status_code == 202, r3.text
        svc.alice_zero = wait_for_status(alice, r3.json()["id"])
    yield svc
    svc.stop()


# ---------------------------------------------------------------------------------------------- basics

def test_health_docs_and_page(idle):
    with idle.client() as c:
        h = c.get("/healthz")
        assert h.status_code == 200 and h.json()["status"] == "ok" and h.json()["database"] is True
        docs = c.get("/docs")
        assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
        assert "cdn." not in docs.text   # the docs page works offline
        assert c.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
        spec = c.get("/openapi.json").json()
        assert "/api/v1/submissions" in spec["paths"] and "/api/v1/gradebook.csv" in spec["paths"]
        assert "multipart/form-data" in spec["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"]
        page = c.get("/")
        assert page.status_code == 200 and "upload-progress" in page.text
        assert c.get("/static/app.js").status_code == 200


def test_assignments_come_from_the_grader_manifests(idle):
    expected = Catalog(notebooks=False).all()          # test services grade code only
    assert {ASSIGNMENT, "tiny", "tiny2"} <= set(expected)   # the repository's and the fixture course's
    with idle.client() as c:
        listed = c.get("/api/v1/assignments").json()["items"]
        items = {a["id"]: a for a in listed}
        assert [a["id"] for a in listed] == sorted(expected)
        for name, a in items.items():
            assert [(q["id"], q["points"]) for q in a["questions"]] == [(q.id, q.points) for q in expected[name].questions]
            assert a["title"] == expected[name].title
            assert a["max_score"] == pytest.approx(sum(q["points"] for q in a["questions"])) and a["max_score"] > 0
        assert c.get("/api/v1/assignments/tiny").json() == items["tiny"]
        assert_error(c.get("/api/v1/assignments/nope"), 404, "not_found")


def test_an_upload_names_one_of_the_assignments(idle):
    token = idle.add_user("chooser", "student")
    with idle.client(token) as c:
        r = post(c, small_zip(), assignment="tiny")
        assert r.status_code == 202 and r.json()["assignment"] == "tiny", r.text
        assert c.get(r.json()["url"]).json()["questions"] == [
            {"id": "Q1", "title": "Array operations", "score": None, "max_score": 5.0}]
        unknown = assert_error(post(c, small_zip(), assignment="tiny3"), 422, "unknown_assignment")
        missing = assert_error(post(c, small_zip(), assignment=None), 422, "missing_assignment")
        for body in (unknown, missing):
            assert all(name in body["detail"] for name in (ASSIGNMENT, "tiny", "tiny2"))
        assert c.get("/api/v1/submissions").json()["total"] == 1


# ---------------------------------------------------------------------------------------------- bad input

def test_tokens_are_required_and_checked(idle):
    with idle.client() as anon:
        body = assert_error(post(anon, small_zip()), 401, "missing_token")
        assert "Bearer" in body["detail"]
        assert_error(anon.get("/api/v1/submissions"), 401, "missing_token")
    with idle.client("not-a-real-token") as wrong:
        assert_error(post(wrong, small_zip()), 401, "invalid_token")
        assert_error(wrong.get("/api/v1/submissions/1"), 401, "invalid_token")
    with idle.client() as odd:
        odd.headers["Authorization"] = f"Token {idle.student_token}"
        assert_error(odd.get("/api/v1/me"), 401, "invalid_token")
    with idle.client(idle.student_token) as student:
        assert student.get("/api/v1/me").json() == {"name": "demo-student", "role": "student"}
        assert_error(student.get("/api/v1/gradebook.csv"), 403, "forbidden")


def test_bad_uploads_get_precise_4xx_and_store_nothing(idle):
    with idle.client(idle.student_token) as c:
        before = c.get("/api/v1/submissions").json()["total"]
        assert_error(post(c, small_zip(), assignment="assignment99"), 422, "unknown_assignment")
        assert_error(post(c, small_zip(), assignment=None), 422, "missing_assignment")
        assert_error(post(c, b"just some text, not an archive", name="notes.txt"), 415, "not_a_zip")
        assert_error(post(c, b"PK\x03\x04" + b"garbage" * 100), 415, "not_a_zip")     # zip magic, no archive
        assert_error(post(c, b""), 422, "empty_file")
        assert_error(c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT}), 415, "not_multipart")
        assert_error(c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                            files={"other": ("x.txt", b"x")}), 422, "missing_file")
        assert_error(c.post("/api/v1/submissions", json={"assignment": ASSIGNMENT}), 415, "not_multipart")
        broken = c.post("/api/v1/submissions", content=b"--b\r\nnonsense",
                        headers={"content-type": "multipart/form-data; boundary=b"})
        assert_error(broken, 400, "bad_multipart")
        over = post(c, b"PK\x03\x04" + b"\0" * LIMIT)                       # 4 bytes over the limit
        assert "limit" in assert_error(over, 413, "too_large")["detail"]
        assert c.get("/api/v1/submissions").json()["total"] == before
    assert not any((idle.data_dir / "uploads" / "tmp").iterdir()), "a refused upload left a file behind"


def test_oversized_upload_is_refused_while_streaming(idle):
    """Chunked upload without Content-Length: the 413 arrives long before the 100 MB body could be sent."""
    host, port = idle.url[len("http://"):].rstrip("/").split(":")
    boundary = "----api-test-boundary"
    head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {idle.student_token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n")
    first = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"assignment\"\r\n\r\n{ASSIGNMENT}\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\n"
             f"Content-Type: application/zip\r\n\r\nPK\x03\x04").encode()

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    total, sent, response = 100 << 20, 0, b""
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head.encode() + chunk(first))
        s.setblocking(False)
        block = chunk(b"\0" * 65536)
        while sent < total and b"\r\n\r\n" not in response:
            readable, writable, _ = select.select([s], [s], [], 10)
            if readable:
                data = s.recv(65536)
                if not data:
                    break
                response += data
            elif writable:
                try:
                    sent += s.send(block)
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    pass
        s.setblocking(True)
        while b"too_large" not in response:
            data = s.recv(65536)
            if not data:
                break
            response += data
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b'"code":"too_large"' in response
    assert sent < 40 << 20, f"the server read {sent} bytes before refusing"


def test_too_many_in_flight_is_429_per_student(idle):
    """The idle server has no workers, so uploads stay queued: the third of one student is refused."""
    with idle.client(idle.other_token) as c, idle.client(idle.student_token) as someone_else:
        assert post(c, small_zip("a")).status_code == 202
        assert post(c, small_zip("b")).status_code == 202
        r = post(c, small_zip("c"))
        assert_error(r, 429, "too_many_in_flight")
        assert r.headers.get("retry-after")
        assert post(someone_else, small_zip("d")).status_code == 202       # other students are not blocked
        mine = c.get("/api/v1/submissions").json()
        assert mine["total"] == 2 and {s["status"] for s in mine["items"]} == {"queued"}


def test_in_flight_limit_is_exact_under_concurrent_uploads(idle):
    """20 simultaneous uploads of one student with a limit of 2: exactly 2 accepted, 18 refused with 429."""
    from concurrent.futures import ThreadPoolExecutor

    token = idle.add_user("eager-student", "student")

    with idle.client(token) as c, ThreadPoolExecutor(20) as pool:
        codes = sorted(pool.map(lambda i: post(c, small_zip(f"v{i}")).status_code, range(20)))
    assert codes == [202] * 2 + [429] * 18
    with idle.client(token) as c:
        assert c.get("/api/v1/submissions").json()["total"] == 2


def test_unknown_and_foreign_submissions_are_404(idle):
    with idle.client(idle.other_token) as owner, idle.client(idle.student_token) as stranger, \
            idle.client(idle.instructor_token) as teacher:
        items = owner.get("/api/v1/submissions").json()["items"]
        sid = items[0]["id"] if items else post(owner, small_zip("mine")).json()["id"]
        missing = assert_error(stranger.get("/api/v1/submissions/987654"), 404, "not_found")
        foreign = assert_error(stranger.get(f"/api/v1/submissions/{sid}"), 404, "not_found")
        assert missing == foreign                       # nothing tells the two cases apart
        assert all(s["student"] == "demo-student" for s in stranger.get("/api/v1/submissions").json()["items"])
        assert stranger.get("/api/v1/submissions", params={"student": "other-student"}).json()["total"] == 0
        assert teacher.get(f"/api/v1/submissions/{sid}").json()["student"] == "other-student"
        assert_error(teacher.get("/api/v1/submissions", params={"limit": 0}), 422, "validation_error")
        assert_error(teacher.get("/api/v1/submissions/abc"), 422, "validation_error")
        assert_error(teacher.get("/api/v1/gradebook.csv", params={"assignment": "nope"}), 422,
                     "unknown_assignment")
        assert_error(teacher.get("/api/v1/gradebook.csv", params={"policy": "worst"}), 422, "validation_error")


# ---------------------------------------------------------------------------------------------- grading

def test_starter_scores_zero_and_solutions_full_marks(grading):
    full, zero = grading.alice_full, grading.bob_zero
    assert full["status"] == "graded", full.get("error")
    assert zero["status"] == "graded", zero.get("error")
    assert full["max_score"] > 0
    assert full["score"] == pytest.approx(full["max_score"])
    assert zero["score"] == 0 and zero["max_score"] == full["max_score"]
    expected = Catalog(notebooks=False).get(ASSIGNMENT)  # code only
    assert [q["id"] for q in full["questions"]] == [q.id for q in expected.questions]
    for q in full["questions"]:
        assert q["score"] == pytest.approx(q["max_score"]), q
    assert all(q["score"] == 0 for q in zero["questions"])
    assert full["grading_seconds"] > 0 and full["queue_seconds"] >= 0 and full["attempts"] == 1


def test_students_never_see_hidden_tests(grading):
    sid = grading.alice_full["id"]
    with grading.client(grading.tokens["alice"]) as alice, grading.client(grading.instructor_token) as teacher:
        student_view = alice.get(f"/api/v1/submissions/{sid}").json()
        full_view = teacher.get(f"/api/v1/submissions/{sid}").json()
    assert all(t["visibility"] == "visible" for t in student_view["tests"])
    assert student_view["log_tail"] is None and student_view["history"] is None
    hidden = [t for t in full_view["tests"] if t["visibility"] != "visible"]
    assert len(full_view["tests"]) == len(student_view["tests"]) + student_view["hidden_tests"]
    assert student_view["hidden_tests"] == len(hidden)
    text = str(student_view)
    for t in hidden:                                   # neither names nor output of hidden tests leak
        assert t["name"] not in [v["name"] for v in student_view["tests"]]
        if t["output"]:
            assert t["output"] not in text
    # (a 'retry' attempt would be the grader's own exit status 2, e.g. no sandbox: not a result)
    assert [h["outcome"] for h in full_view["history"] if h["outcome"] != "retry"] == ["graded"]


def test_listing_and_filters(grading):
    with grading.client(grading.tokens["bob"]) as bob, grading.client(grading.instructor_token) as teacher, \
            grading.client(grading.tokens["carol"]) as carol:
        assert [s["student"] for s in bob.get("/api/v1/submissions").json()["items"]] == ["bob"]
        assert carol.get("/api/v1/submissions").json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
        everyone = teacher.get("/api/v1/submissions").json()
        assert everyone["total"] == 4 and {s["student"] for s in everyone["items"]} == {"alice", "bob", "dora"}
        alices = teacher.get("/api/v1/submissions", params={"student": "alice", "assignment": ASSIGNMENT}).json()
        assert alices["total"] == 2 and [s["id"] for s in alices["items"]] == sorted(
            [grading.alice_full["id"], grading.alice_zero["id"]], reverse=True)
        assert teacher.get("/api/v1/submissions", params={"assignment": "other"}).json()["total"] == 0
        assert [s["student"] for s in teacher.get("/api/v1/submissions",
                                                  params={"assignment": "tiny"}).json()["items"]] == ["dora"]


def test_gradebook_best_and_latest(grading):
    import csv
    max_score = grading.alice_full["max_score"]
    with grading.client(grading.instructor_token) as teacher:
        def book(policy):
            r = teacher.get("/api/v1/gradebook.csv", params={"assignment": ASSIGNMENT, "policy": policy})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            return list(csv.DictReader(io.StringIO(r.text)))
        best, latest = book("best"), book("latest")
    rows = {r["student"]: r for r in best}
    assert set(rows) == {"alice", "bob", "carol", "dora", "demo-student"}    # every student has a row
    assert float(rows["alice"]["score"]) == pytest.approx(max_score)
    assert rows["alice"]["submission_id"] == str(grading.alice_full["id"]) and rows["alice"]["submissions"] == "2"
    assert float(rows["bob"]["score"]) == 0 and rows["carol"]["score"] == ""
    qcols = [k for k in best[0] if k.split(" ")[0] in {q["id"] for q in grading.alice_full["questions"]}]
    assert len(qcols) == len(grading.alice_full["questions"])
    for q, col in zip(grading.alice_full["questions"], qcols):
        assert float(rows["alice"][col]) == pytest.approx(q["max_score"])
    late = {r["student"]: r for r in latest}
    assert float(late["alice"]["score"]) == 0 and late["alice"]["submission_id"] == str(grading.alice_zero["id"])
    assert rows["dora"]["score"] == "" and rows["dora"]["submissions"] == "0"        # dora's is another's


def test_an_assignment_added_as_files_is_graded_and_has_its_own_gradebook_columns(grading):
    import csv

    tiny = grading.dora_tiny
    assert tiny["status"] == "graded" and tiny["assignment"] == "tiny", tiny.get("error")
    assert (tiny["score"], tiny["max_score"]) == (5.0, 5.0)
    assert tiny["questions"] == [{"id": "Q1", "title": "Array operations", "score": 5.0, "max_score": 5.0}]
    assert {t["name"].rsplit(": ", 1)[-1] for t in tiny["tests"]} <= {"test_scale", "test_row_sums"}
    with grading.client(grading.instructor_token) as teacher:
        r = teacher.get("/api/v1/gradebook.csv", params={"policy": "best"})      # every assignment
        assert r.status_code == 200, r.text
        assert 'filename="gradebook-all-best.csv"' in r.headers["content-disposition"]
        rows = {row["student"]: row for row in csv.DictReader(io.StringIO(r.text))}
        header = next(csv.reader(io.StringIO(r.text)))
    offered = sorted(Catalog(notebooks=False).all())
    assert [h.split(" ")[0] for h in header[1:] if h.endswith(" score")] == offered    # a column set each
    assert rows["dora"]["tiny score"] == "5" and rows["dora"]["tiny Q1 (Array operations) /5"] == "5"
    assert rows["dora"][f"{ASSIGNMENT} score"] == "" and rows["alice"]["tiny score"] == ""
    assert float(rows["alice"][f"{ASSIGNMENT} score"]) == pytest.approx(grading.alice_full["max_score"])
    assert rows["carol"]["tiny2 submissions"] == "0" and rows["carol"]["tiny2 max_score"] == "4"


def test_archives_are_stored_once_by_content_hash(grading, zips):
    import hashlib
    store = grading.data_dir / "uploads" / "sha256"
    files = sorted(p.name for p in store.rglob("*.zip"))
    digests = {hashlib.sha256(zips[k].read_bytes()).hexdigest() for k in ("starter", "solutions")}
    digests.add(grading.dora_tiny["sha256"])
    assert files == sorted(f"{d}.zip" for d in digests)          # starter uploaded twice, stored once
    assert grading.bob_zero["sha256"] == grading.alice_zero["sha256"]
    assert grading.alice_zero["filename"] == "starter.zip"


# ---------------------------------------------------------------------------------------------- CLI

def test_cli_add_user_and_roster(idle, tmp_path):
    out = idle.cli("add-user", "dana", "--role", "instructor")
    token = out.stdout.strip().splitlines()[-1]
    with idle.client(token) as c:
        assert c.get("/api/v1/me").json() == {"name": "dana", "role": "instructor"}
    dup = idle.cli("add-user", "dana", "--role", "student", check=False)
    assert dup.returncode == 2 and "already exists" in dup.stderr

    roster = tmp_path / "roster.csv"
    roster.write_text("name,role,email\nerin,,e@x\nfrank,student,f@x\ndana,instructor,d@x\n\n")
    first = idle.cli("import-roster", str(roster))
    rows = {r.split(",")[0]: r.split(",") for r in first.stdout.strip().splitlines()[1:]}
    assert set(rows) == {"erin", "frank", "dana"} and rows["dana"][2] == ""     # existing: token unchanged
    with idle.client(rows["erin"][2]) as c:
        assert c.get("/api/v1/me").json() == {"name": "erin", "role": "student"}
    again = idle.cli("import-roster", str(roster))
    assert all(line.endswith(",") for line in again.stdout.strip().splitlines()[1:])
    bad = tmp_path / "bad.csv"
    bad.write_text("student\nx\n")
    assert idle.cli("import-roster", str(bad), check=False).returncode == 2
    helptext = subprocess.run([sys.executable, "-m", "api", "--help"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert "serve" in helptext.stdout and "import-roster" in helptext.stdout
