"""The service's pieces without a server: job state machine on a real SQLite file, visibility, manifests.

The job functions run against a migrated SQLite database in a temp dir (two JobContexts stand for two
workers); the HTTP behaviour of the same code is covered by the other test_api_* files.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from api import jobs
from api.auth import create_user, hash_token, import_roster
from api.catalog import Catalog, parse_manifest
from api.db import make_engine, make_session_factory, migrate
from api.models import Attempt, Submission, User, utcnow
from api.routers.gradebook import pick
from api.routers.submissions import submission_view
from api.settings import load_settings


# ---------------------------------------------------------------------------------------------- jobs

@pytest.fixture
def ctxs(tmp_path, monkeypatch):
    """Two worker contexts on one migrated SQLite database, one queued submission."""
    monkeypatch.setenv("GRADER_LEASE_SECONDS", "0.5")
    monkeypatch.setenv("GRADER_MAX_ATTEMPTS", "2")
    settings = load_settings(data_dir=tmp_path)
    settings.ensure_dirs()
    migrate(make_engine(settings.db_url))
    a, b = jobs.JobContext(settings, "a"), jobs.JobContext(settings, "b")
    a.worker, b.worker = "worker-a", "worker-b"
    with a.sessions() as s:
        create_user(s, "stu", "student")
        s.commit()
        uid = s.scalar(select(User.id))
        s.add(Submission(user_id=uid, assignment="assignment2", status="queued", original_name="x.zip",
                         archive_sha256="0" * 64, size_bytes=1, attempts=0))
        s.commit()
    return a, b


def row(ctx) -> Submission:
    with ctx.sessions() as s:
        return s.scalar(select(Submission))


def outcomes(ctx) -> list[str | None]:
    with ctx.sessions() as s:
        return list(s.scalars(select(Attempt.outcome).order_by(Attempt.id)))


def test_a_submission_is_claimed_by_one_worker_only(ctxs):
    a, b = ctxs
    first = jobs.claim(a)
    assert first is not None and first.number == 1
    assert jobs.claim(b) is None and jobs.claim(b, first.submission_id) is None
    assert row(a).status == "running" and row(a).worker == "worker-a"


def test_only_the_current_claim_may_write_the_result(ctxs):
    a, b = ctxs
    old = jobs.claim(a)
    time.sleep(0.6)                                           # a's lease expires (a "died")
    assert jobs.reap_expired(a.sessions, max_attempts=2) == [old.submission_id]
    new = jobs.claim(b)
    assert new is not None and new.number == 2
    assert not jobs.heartbeat(a, old)                         # a learns it lost the claim
    late = jobs.GradeOutcome("graded", score=1.0, max_score=100.0, results_json="{}")
    assert not jobs.finish(a, old, late)                      # a's late result is discarded
    assert jobs.finish(b, new, jobs.GradeOutcome("graded", score=100.0, max_score=100.0, results_json="{}"))
    r = row(a)
    assert (r.status, r.score, r.attempts, r.claim_token) == ("graded", 100.0, 2, None)
    assert outcomes(a) == ["lost", "graded"]


def test_heartbeats_keep_a_slow_grade_and_release_gives_it_back(ctxs):
    a, b = ctxs
    c = jobs.claim(a)
    for _ in range(3):
        time.sleep(0.3)
        assert jobs.heartbeat(a, c)
        assert jobs.reap_expired(a.sessions, max_attempts=2) == []
    assert jobs.release(a, c, "shutting down")
    r = row(a)
    assert (r.status, r.attempts, r.claim_token) == ("queued", 0, None)      # a release is not an attempt
    assert jobs.claim(b) is not None and outcomes(a) == ["released", None]


def test_a_job_whose_workers_keep_dying_ends_as_error(ctxs):
    a, b = ctxs
    for ctx in (a, b):
        assert jobs.claim(ctx) is not None
        time.sleep(0.6)
        jobs.reap_expired(a.sessions, max_attempts=2)
    r = row(a)
    assert r.status == "error" and "2 times" in r.error
    assert jobs.claim(a) is None and outcomes(a) == ["lost", "lost"]


def test_the_grader_is_run_and_its_results_read(ctxs, tmp_path):
    """process() with a stand-in grader command: results file read, failures and timeouts become errors."""
    a, _ = ctxs
    archive = a.store.path_for("0" * 64)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    script = tmp_path / "g.py"
    script.write_text(
        "import json, sys, time\n"
        "a = sys.argv[1:]\n"
        "res = {'score': 7, 'tests': [{'name': 't', 'score': 7, 'max_score': 10, 'output': 'x' * 30000}],\n"
        "       'extra_data': {'max_score': 10,\n"
        "                      'questions': [{'id': 'Q1', 'title': 'T', 'score': 7, 'max_score': 10}]}}\n"
        "json.dump(res, open(a[a.index('--out') + 1], 'w'))\n"
        "print('graded', a[a.index('--assignment') + 1])\n")
    a.settings.grader_command = f"{sys.executable} {script}"
    c = jobs.claim(a)
    assert jobs.process(a, c) == "graded"
    r = row(a)
    assert (r.score, r.max_score) == (7.0, 10.0) and "graded assignment2" in r.log_tail
    assert len(json.loads(r.results_json)["tests"][0]["output"]) < 21_000      # outputs are capped

    a.settings.grader_command = f"{sys.executable} -c \"import sys; sys.exit('boom')\""
    with a.sessions() as s:
        s.execute(update(Submission).values(status="queued"))
        s.commit()
    assert jobs.process(a, jobs.claim(a)) == "error"
    assert "exited with status 1" in row(a).error and "boom" in row(a).log_tail

    a.settings.grader_command = f"{sys.executable} -c \"import time; time.sleep(30)\" "
    a.settings.job_timeout = 1.0
    with a.sessions() as s:
        s.execute(update(Submission).values(status="queued"))
        s.commit()
    t0 = time.monotonic()
    assert jobs.process(a, jobs.claim(a)) == "error"
    assert "timed out" in row(a).error and time.monotonic() - t0 < 10


# ---------------------------------------------------------------------------------------------- views

RESULTS = {
    "score": 6.0, "output": "overall note", "stdout_visibility": "visible",
    "tests": [
        {"name": "shown", "number": "1.1", "score": 2, "max_score": 2, "output": "fine", "visibility": "visible"},
        {"name": "default-visible", "score": 1, "max_score": 1},
        {"name": "secret-test", "score": 3, "max_score": 3, "output": "SECRET-DETAIL", "visibility": "hidden"},
        {"name": "later", "score": 0, "max_score": 4, "output": "LATER-DETAIL", "visibility": "after_due_date"},
    ],
    "extra_data": {"max_score": 10.0, "questions": [{"id": "Q1", "title": "One", "score": 6.0, "max_score": 10.0}]},
}


def view_of(results: dict, instructor: bool):
    now = utcnow()
    sub = Submission(id=5, user_id=1, assignment="assignment2", status="graded", original_name="a.zip",
                     archive_sha256="f" * 64, size_bytes=10, created_at=now - dt.timedelta(seconds=9),
                     started_at=now - dt.timedelta(seconds=5), finished_at=now, attempts=1, score=6.0,
                     max_score=10.0, results_json=json.dumps(results), log_tail="LOG")
    return submission_view(Catalog(Path("/nonexistent")), "http://h/", sub, "stu", instructor, attempts=[])


def test_students_see_only_visible_tests():
    student = view_of(RESULTS, instructor=False)
    assert [t.name for t in student.tests] == ["shown", "default-visible"]
    assert student.hidden_tests == 2
    text = student.model_dump_json()
    assert "SECRET" not in text and "LATER" not in text and "secret-test" not in text
    assert student.log_tail is None and student.history is None and student.output == "overall note"
    assert student.url == "http://h/api/v1/submissions/5"
    assert student.queue_seconds == pytest.approx(4.0) and student.grading_seconds == pytest.approx(5.0)

    teacher = view_of(RESULTS, instructor=True)
    assert len(teacher.tests) == 4 and teacher.hidden_tests == 0 and teacher.log_tail == "LOG"

    quiet = view_of(dict(RESULTS, stdout_visibility="hidden"), instructor=False)
    assert quiet.output is None
    sealed = view_of(dict(RESULTS, visibility="hidden"), instructor=False)
    assert sealed.score is None and sealed.tests == [] and sealed.questions == [] and sealed.hidden_tests == 4


def test_gradebook_policies():
    t = utcnow()
    mk = lambda i, score, status="graded": Submission(id=i, score=score, status=status,  # noqa: E731
                                                     created_at=t + dt.timedelta(seconds=i))
    subs = [mk(1, 50.0), mk(2, 90.0), mk(3, 90.0), mk(4, 70.0), mk(5, None, "error")]
    assert pick(subs, "best").id == 3 and pick(subs, "latest").id == 4      # ties: the later one
    assert pick([mk(1, None, "queued")], "best") is None


def test_gradebook_score_cells_are_numbers_or_empty():
    from api.routers.gradebook import _fmt

    assert [_fmt(v) for v in (3, 2.5, "4", None, "n/a", [1], True)] == ["3", "2.5", "4", "", "", "", ""]


def test_gradebook_cells_a_spreadsheet_would_evaluate_stay_text(tmp_path):
    """Roster names end up in the instructors' spreadsheet: one starting like a formula gets a leading '."""
    import csv
    import io
    from types import SimpleNamespace

    from api.routers.gradebook import gradebook_csv

    (tmp_path / "a.toml").write_text('id = "a"\ntitle = "A"\n[[questions]]\nid = "q1"\ntitle = "=T()"\npoints = 3\n')
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    migrate(engine)
    names = ['=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)", "plain"]
    with make_session_factory(engine)() as s:
        for name in names:
            create_user(s, name, "student")
        uid = s.scalar(select(User.id).where(User.name == "-1"))
        s.add(Submission(user_id=uid, assignment="a", status="graded", original_name="x.zip", archive_sha256="0" * 64,
                         size_bytes=1, score=2.0, max_score=3.0,
                         results_json=json.dumps({"extra_data": {"questions": [{"id": "q1", "score": 2.0}]}})))
        s.commit()
        request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(catalog=Catalog(tmp_path))))
        response = gradebook_csv(request, None, s, assignment="a", policy="best")
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert rows[0][-1] == "q1 (=T()) /3" and len(rows) == 1 + len(names)
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"'" + n for n in names[:4]} | {"plain"}
    assert by_name["'-1"][4:] == ["2", "3", "2"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


# ---------------------------------------------------------------------------------------------- manifests, users

def test_manifest_reading_is_lenient(tmp_path):
    (tmp_path / "a.toml").write_text('id = "a"\ntitle = "A"\n[[questions]]\nid = "q1"\npoints = 3\n'
                                     '[[questions]]\nid = "q2"\ntitle = "Two"\n[questions.tests]\nt1 = 1\nt2 = 2.5\n')
    (tmp_path / "b.toml").write_text('[assignment]\nname = "b"\n[questions.x]\ntitle = "X"\nmax_score = 4\n'
                                     '[[notebooks]]\nname = "FC"\npoints = 5\n'
                                     '[[notebooks]]\nname = "Drop"\npoints = 2\n'
                                     '[[notebooks]]\nname = "free"\npoints = 0\n')
    (tmp_path / "broken.toml").write_text("this is = = not toml")
    cat = Catalog(tmp_path, recheck_seconds=0)
    assert set(cat.all()) == {"a", "b"}
    a, b = cat.get("a"), cat.get("b")
    assert [(q.id, q.title, q.points) for q in a.questions] == [("q1", "q1", 3.0), ("q2", "Two", 3.5)]
    assert [(q.id, q.title, q.points) for q in b.questions] == [
        ("x", "X", 4.0), ("NB", "Notebooks run to the end", 7.0)] and b.max_score == 11.0
    code_only = Catalog(tmp_path, recheck_seconds=0, notebooks=False).get("b")
    assert [(q.id, q.points) for q in code_only.questions] == [("x", 4.0)]
    (tmp_path / "a.toml").unlink()
    assert set(cat.all()) == {"b"}                                     # re-read when files change


def test_the_real_manifest_agrees_with_the_grader():
    settings = load_settings()
    ours = Catalog(settings.assignments_dir).get("assignment2")
    assert ours is not None and ours.max_score > 0
    try:
        from grader.assignments import load_assignment
    except ImportError:
        pytest.skip("grader.assignments has no load_assignment")
    theirs = load_assignment("assignment2")
    assert [q.id for q in ours.questions][:len(theirs.questions)] == [q.id for q in theirs.questions]
    for q, t in zip(ours.questions, theirs.questions):
        assert q.points == pytest.approx(t.max_score) and q.title == t.title
    assert parse_manifest(settings.assignments_dir / "assignment2.toml").id == "assignment2"
    # the notebooks' question: the same id, title and points as the grader reports
    from grader.notebooks import NOTEBOOK_QUESTION

    assert (ours.questions[-1].id, ours.questions[-1].title) == NOTEBOOK_QUESTION
    assert ours.questions[-1].points == pytest.approx(theirs.notebook_points) and theirs.notebook_points > 0
    assert len(ours.questions) == len(theirs.questions) + 1


def test_tokens_are_stored_hashed_and_roster_import(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/u.db")
    migrate(engine)
    with make_session_factory(engine)() as s:
        token = create_user(s, "ann", "instructor")
        rows = import_roster(s, "Name,Role\nbo,\ncy,student\nann,instructor\n")
        s.commit()
        stored = {u.name: u.token_hash for u in s.scalars(select(User))}
        with pytest.raises(ValueError):
            create_user(s, "dee", "admin")
        with pytest.raises(ValueError, match="line 2"):
            import_roster(s, "name,role\nzed,teacher\n")
    assert len(token) >= 40 and stored["ann"] == hash_token(token) and token not in stored.values()
    assert [(n, r, t is not None) for n, r, t in rows] == [("bo", "student", True), ("cy", "student", True),
                                                          ("ann", "instructor", False)]


# ---------------------------------------------------------------------------------------------- uploads

def _multipart(boundary: str, fields: dict, filename: str, content: bytes) -> bytes:
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/zip\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return out


async def _stream(body: bytes, boundary: str, store, limit: int, chunk: int = 65536):
    """Feed ``body`` to receive_upload in chunks, as the ASGI server would."""
    from starlette.requests import Request

    from api.storage import receive_upload

    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)]

    async def receive():
        data = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": data, "more_body": bool(parts)}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}
    return await receive_upload(Request(scope, receive), store, limit)


def test_large_uploads_spill_to_disk_and_are_stored_by_content(tmp_path):
    import asyncio
    import hashlib
    import io
    import os
    import zipfile

    from api.storage import SPOOL_BYTES, ArchiveStore, check_zip

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("cs231n/blob.bin", os.urandom(SPOOL_BYTES + 500_000))
    archive = buf.getvalue()
    store = ArchiveStore(tmp_path / "uploads")
    body = _multipart("bnd", {"assignment": "assignment2"}, "../../etc\\big.zip", archive)
    up = asyncio.run(_stream(body, "bnd", store, limit=10 * SPOOL_BYTES))
    assert up.data is None and up.tmp_path.is_file()              # spilled, not held in memory
    assert up.fields == {"assignment": "assignment2"} and up.filename == "big.zip" and up.size == len(archive)
    check_zip(up)
    final = store.save(up)
    assert final.read_bytes() == archive and up.sha256 == hashlib.sha256(archive).hexdigest()
    assert not any(store.tmp_dir.iterdir())

    small = _multipart("b2", {"assignment": "assignment2"}, "s.zip", b"PK\x05\x06" + b"\0" * 18)
    up2 = asyncio.run(_stream(small, "b2", store, limit=10 * SPOOL_BYTES, chunk=7))   # tiny chunks
    assert up2.data is not None and up2.tmp_path is None           # small: in memory
    check_zip(up2)
    assert store.save(up2).read_bytes() == b"PK\x05\x06" + b"\0" * 18

    from api.errors import APIError
    with pytest.raises(APIError) as err:
        asyncio.run(_stream(body, "bnd", store, limit=SPOOL_BYTES))
    assert err.value.status == 413 and not any(store.tmp_dir.iterdir())


def test_grader_infrastructure_errors_are_retried_then_reported(ctxs, monkeypatch):
    """Exit status 2 (the grader's own trouble, e.g. no sandbox) re-queues with a delay, max_attempts times."""
    a, _ = ctxs
    archive = a.store.path_for("0" * 64)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    a.settings.grader_command = f"{sys.executable} -c \"import sys; sys.exit('grader: error: no sandbox' and 2)\""
    monkeypatch.setattr(jobs, "RETRY_BACKOFF_SECONDS", 0.3)
    assert jobs.process(a, jobs.claim(a)) == "retry"
    r = row(a)
    assert r.status == "queued" and r.retry_at is not None and "retrying" in r.error
    assert jobs.claim(a) is None                                  # not before retry_at
    time.sleep(0.4)
    assert jobs.process(a, jobs.claim(a)) == "error"              # max_attempts = 2 reached
    r = row(a)
    assert r.status == "error" and r.attempts == 2 and outcomes(a) == ["retry", "error"]


# ---------------------------------------------------------------------------------------------- writer

@pytest.mark.parametrize("driver_sql", [True, False], ids=["sqlite-driver", "sqlalchemy-core"])
def test_the_writer_commits_a_batch_within_the_in_flight_limit(tmp_path, driver_sql):
    """SubmissionWriter, both ways of writing (SQLite through its driver; SQLAlchemy Core, as on PostgreSQL):
    one transaction per batch, the in-flight limit exact inside the batch, rows as the ORM reads them; a
    batch that fails does not break the next one."""
    import asyncio

    from api.errors import APIError
    from api.writer import SubmissionWriter

    settings = load_settings(data_dir=tmp_path)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as s:
        create_user(s, "a", "student")
        create_user(s, "b", "student")
        s.commit()
        ua, ub = s.scalars(select(User.id).order_by(User.id)).all()
        for status in ("running", "graded"):                 # a has one in flight, one finished
            s.add(Submission(user_id=ua, assignment="assignment2", status=status, original_name="old.zip",
                             archive_sha256="f" * 64, size_bytes=1, attempts=1))
        s.commit()
    writer = SubmissionWriter(engine, max_in_flight=2)
    writer._sqlite = writer._sqlite and driver_sql

    def add(i: int, uid: int):
        return writer.add(user_id=uid, assignment="assignment2", filename=f"{i}.zip", sha256=f"{i:064x}",
                          size=100 + i, queue_ref=f"ref-{i}" if i % 2 else None)

    async def burst(users):
        tasks = [asyncio.ensure_future(add(i, uid)) for i, uid in enumerate(users)]
        await asyncio.sleep(0)                                # every upload has queued its row
        if not writer._thread.is_alive():
            writer.start()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        users = [ua, ub, ua, ub, ub, ua]
        outcomes = asyncio.run(burst(users))
        assert writer.batches == 1 and writer.rows == 3
        accepted = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
        assert accepted == [0, 1, 3]
        for i in (2, 4, 5):
            assert isinstance(outcomes[i], APIError) and outcomes[i].status == 429
        ids = [outcomes[i][0] for i in accepted]
        assert ids == sorted(ids) and len(set(ids)) == 3
        with sessions() as s:
            for i in accepted:
                sid, created = outcomes[i]
                sub = s.get(Submission, sid)
                assert (sub.user_id, sub.status, sub.original_name, sub.archive_sha256, sub.size_bytes,
                        sub.attempts, sub.queue_ref) == (users[i], "queued", f"{i}.zip", f"{i:064x}", 100 + i,
                                                         0, f"ref-{i}" if i % 2 else None)
                assert sub.created_at == created and sub.enqueued_at == created and created.tzinfo is not None
                assert sub.started_at is sub.finished_at is sub.claim_token is sub.worker is sub.score is None

        (failed,) = asyncio.run(burst([10_000]))             # no such user: the foreign key refuses it
        assert isinstance(failed, Exception) and not isinstance(failed, APIError)
        outcomes = asyncio.run(burst([ub, ua]))               # the next batch is written normally
        assert isinstance(outcomes[0], APIError) and outcomes[0].status == 429       # b: 2 in flight
        assert isinstance(outcomes[1], APIError)                                     # a: 2 in flight
        with sessions() as s:
            assert s.scalar(select(func.count(Submission.id))) == 5
        with sessions() as s:                                 # one finishes: a may upload again
            s.execute(update(Submission).where(Submission.status == "running").values(status="graded"))
            s.commit()
        (sid, _), = asyncio.run(burst([ua]))
        with sessions() as s:
            assert s.get(Submission, sid).user_id == ua
    finally:
        writer.stop()
        engine.dispose()
