"""The service's pieces without a server: job state machine on a real SQLite file, stored results and their
visibility, the gradebook, the catalogue, the migration, users, uploads.

The job functions run against a migrated SQLite database in a temp dir (two JobContexts stand for two
workers); the HTTP behaviour of the same code is covered by the other files of tests/api.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time

import pytest
from sqlalchemy import func, select, update

from grader.scoring import ExtraData, QuestionScore, Results
from grader.scoring import TestResult as GraderTest   # (a name pytest does not take for a test class)

from api import grader_process, jobs
from api.auth import create_user, hash_token, import_roster
from api.catalog import Catalog, Offered, Question
from api.db import make_engine, make_session_factory, migrate
from api.models import Attempt, Submission, User, utcnow
from api.results import stored_result
from api.routers.gradebook import pick
from api.routers.submissions import submission_view
from api.settings import load_settings
from support.paths import ROOT


def results_of(tests: list[GraderTest], score: float = 6.0, max_score: float = 10.0, **top) -> Results:
    """A valid results file's model (``grader.scoring.Results``) with ``tests`` and one question, Q1."""
    extra = ExtraData(assignment="assignment2", max_score=max_score,
                      questions=[QuestionScore(id="Q1", title="One", score=score, max_score=max_score)])
    return Results(**{"score": score, "execution_time": 1.0, "output": "overall note", "tests": tests,
                      "extra_data": extra, **top})


def graded(score: float = 100.0, max_score: float = 100.0) -> jobs.GradeOutcome:
    t = GraderTest(name="t", number="1.1", score=score, max_score=max_score, status="passed")
    return jobs.GradeOutcome("graded", result=stored_result(results_of([t], score, max_score)))


class StubCatalog:
    """A catalogue of fixed assignments (what ``api.catalog.Catalog`` offers)."""

    def __init__(self, *items: Offered):
        self.items = {a.id: a for a in items}

    def all(self):
        return self.items

    def get(self, name):
        return self.items.get(name)


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
    assert not jobs.finish(a, old, graded(score=1.0))         # a's late result is discarded
    assert jobs.finish(b, new, graded())
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


def test_the_grader_is_run_and_its_results_stored(ctxs, tmp_path):
    """process() with a stand-in grader command: the validated results stored as served; failures, invalid
    results and timeouts become errors."""
    a, _ = ctxs
    archive = a.store.path_for("0" * 64)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    results = results_of([GraderTest(name="t", number="1.1", score=7, max_score=10, status="failed",
                                     output="x" * 30000),
                          GraderTest(name="secret", number="1.2", score=0, max_score=0.5, status="failed",
                                     output="SECRET", visibility="hidden")], score=7.0, max_score=10.5)
    canned = tmp_path / "canned.json"
    canned.write_text(results.model_dump_json())
    script = tmp_path / "g.py"
    script.write_text(
        "import shutil, sys\n"
        "a = sys.argv[1:]\n"
        f"shutil.copy({str(canned)!r}, a[a.index('--out') + 1])\n"
        "print('graded', a[a.index('--assignment') + 1], '--no-notebooks' in a, '--no-train-ahead' in a)\n")
    a.settings.grader_command = f"{sys.executable} {script}"
    a.settings.grade_notebooks, a.settings.train_ahead = False, False
    c = jobs.claim(a)
    assert grader_process.process(a, c) == "graded"
    r = row(a)
    assert (r.score, r.max_score) == (7.0, 10.5) and "graded assignment2 True True" in r.log_tail
    assert r.questions == [{"id": "Q1", "title": "One", "score": 7.0, "max_score": 10.5}]
    assert [t["name"] for t in r.feedback["tests"]] == ["t", "secret"]
    assert len(r.feedback["tests"][0]["output"]) < 21_000                       # outputs are capped
    assert [t["name"] for t in r.student_feedback["tests"]] == ["t"] and r.student_feedback["hidden_tests"] == 1
    assert "SECRET" not in json.dumps(r.student_feedback)

    def again(command: str) -> Submission:
        a.settings.grader_command = command
        with a.sessions() as s:
            s.execute(update(Submission).values(status="queued"))
            s.commit()
        assert grader_process.process(a, jobs.claim(a)) == "error"
        return row(a)

    r = again(f"{sys.executable} -c \"import sys; sys.exit('boom')\"")
    assert "exited with status 1" in r.error and "boom" in r.log_tail
    assert r.score is None and r.questions is None and r.feedback is None and r.student_feedback is None
    r = again(f"{sys.executable} -c \"import sys; open(sys.argv[sys.argv.index('--out') + 1], 'w').write('{{}}')\"")
    assert "no valid results file" in r.error and "score" in r.error               # says what is missing
    a.settings.job_timeout = 1.0
    t0 = time.monotonic()
    r = again(f"{sys.executable} -c \"import time; time.sleep(30)\" ")
    assert "timed out" in r.error and time.monotonic() - t0 < 10


# ---------------------------------------------------------------------------------------------- views

RESULTS = results_of(stdout_visibility="visible", tests=[
    GraderTest(name="shown", number="1.1", score=2, max_score=2, status="passed", output="fine"),
    GraderTest(name="default-visible", number="1.2", score=1, max_score=1, status="passed"),
    GraderTest(name="secret-test", number="1.3", score=3, max_score=3, status="passed", output="SECRET-DETAIL",
               visibility="hidden"),
    GraderTest(name="later", number="1.4", score=0, max_score=4, status="failed", output="LATER-DETAIL",
               visibility="after_due_date"),
])


def view_of(results: Results | None, instructor: bool, status: str = "graded", rule=None):
    now = utcnow()
    sub = Submission(id=5, user_id=1, assignment="assignment2", status=status, original_name="a.zip",
                     archive_sha256="f" * 64, size_bytes=10, created_at=now - dt.timedelta(seconds=9),
                     started_at=now - dt.timedelta(seconds=5), finished_at=now, attempts=1, log_tail="LOG",
                     **(stored_result(results).columns() if results is not None else {}))
    catalog = StubCatalog(Offered("assignment2", "A2", (Question("Q1", "One", 10.0), Question("Q2", "Two", 5.0))))
    return submission_view(catalog, "http://h/", sub, "stu", instructor, attempts=[], rule=rule)


def test_students_see_only_visible_tests():
    student = view_of(RESULTS, instructor=False)
    assert [t.name for t in student.tests] == ["shown", "default-visible"]
    assert student.hidden_tests == 2
    text = student.model_dump_json()
    assert "SECRET" not in text and "LATER" not in text and "secret-test" not in text
    assert student.log_tail is None and student.history is None and student.output == "overall note"
    assert student.url == "http://h/api/v1/submissions/5" and student.score == 6.0
    assert [(q.id, q.score) for q in student.questions] == [("Q1", 6.0)]
    assert student.queue_seconds == pytest.approx(4.0) and student.grading_seconds == pytest.approx(5.0)

    teacher = view_of(RESULTS, instructor=True)
    assert len(teacher.tests) == 4 and teacher.hidden_tests == 0 and teacher.log_tail == "LOG"

    # the overall output speaks of the student's own submission: shown with the results whatever
    # stdout_visibility says (a refused archive's reason is in it)
    quiet = view_of(RESULTS.model_copy(update=dict(stdout_visibility="hidden")), instructor=False)
    assert quiet.output == "overall note"
    hidden = RESULTS.model_copy(update=dict(visibility="hidden"))
    sealed = view_of(hidden, instructor=False)
    assert sealed.score is None and sealed.tests == [] and sealed.questions == [] and sealed.hidden_tests == 4
    assert "SECRET" not in json.dumps(stored_result(hidden).student_feedback.model_dump())   # not even stored
    assert view_of(hidden, instructor=True).score == 6.0


def test_tests_after_the_due_date_are_shown_once_it_has_passed():
    from api.course import Deadline

    later = RESULTS.model_copy(update=dict(tests=RESULTS.tests + [GraderTest(
        name="on-publish", number="1.5", score=1, max_score=1, status="passed", visibility="after_published")]))
    before = view_of(later, instructor=False, rule=Deadline(due_at=utcnow() + dt.timedelta(hours=1)))
    assert [t.name for t in before.tests] == ["shown", "default-visible"] and before.hidden_tests == 3
    assert "LATER" not in before.model_dump_json()
    after = view_of(later, instructor=False, rule=Deadline(due_at=utcnow() - dt.timedelta(seconds=1)))
    assert [t.name for t in after.tests] == ["shown", "default-visible", "later"] and after.hidden_tests == 2
    assert after.tests[-1].output == "LATER-DETAIL" and after.tests[-1].visibility == "after_due_date"
    published = view_of(later, instructor=False, rule=Deadline(published=True))
    assert [t.name for t in published.tests] == ["shown", "default-visible", "on-publish"]
    assert "SECRET" not in json.dumps(stored_result(later).student_feedback.model_dump())  # hidden: never stored


def test_late_penalty_rule():
    from api.course import Deadline

    due = utcnow()
    rule = Deadline(due_at=due, penalty_percent=10, penalty_unit="hour", penalty_cap_percent=25)
    assert rule.late_seconds(due) == 0 and rule.penalty(0) == 0
    assert rule.penalty(1) == 10 and rule.penalty(3600) == 10 and rule.penalty(3601) == 20   # per started hour
    assert rule.penalty(10 * 3600) == 25                                                      # capped
    daily = Deadline(due_at=due, penalty_percent=20, penalty_unit="day", hard_deadline_at=due + dt.timedelta(days=2))
    assert daily.penalty(86400 + 1) == 40 and not daily.refused(due + dt.timedelta(days=1))
    assert daily.refused(due + dt.timedelta(days=2, seconds=1))


def test_before_a_result_the_questions_come_from_the_catalogue():
    view = view_of(None, instructor=False, status="queued")
    assert [(q.id, q.score, q.max_score) for q in view.questions] == [("Q1", None, 10.0), ("Q2", None, 5.0)]
    assert view.tests == [] and view.score is None and view.output is None and view.hidden_tests == 0


# ---------------------------------------------------------------------------------------------- gradebook

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


def gradebook_rows(session, catalog, **params) -> list[list[str]]:
    import csv
    import io
    from types import SimpleNamespace

    from api.routers.gradebook import gradebook_csv

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(catalog=catalog)))
    response = gradebook_csv(request, None, session, **{"assignment": None, "policy": "best", **params})
    return list(csv.reader(io.StringIO(response.body.decode())))


def test_gradebook_cells_a_spreadsheet_would_evaluate_stay_text(tmp_path):
    """Roster names end up in the instructors' spreadsheet: one starting like a formula gets a leading '."""
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    migrate(engine)
    names = ['=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)", "plain"]
    with make_session_factory(engine)() as s:
        for name in names:
            create_user(s, name, "student")
        uid = s.scalar(select(User.id).where(User.name == "-1"))
        s.add(Submission(user_id=uid, assignment="a", status="graded", original_name="x.zip", archive_sha256="0" * 64,
                         size_bytes=1, score=2.0, max_score=3.0,
                         questions=[{"id": "q1", "title": "=T()", "score": 2.0, "max_score": 3.0}]))
        s.commit()
        rows = gradebook_rows(s, StubCatalog(Offered("a", "A", (Question("q1", "=T()", 3.0),))), assignment="a")
    assert rows[0][-3] == "q1 (=T()) /3" and len(rows) == 1 + len(names)
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"'" + n for n in names[:4]} | {"plain"}
    assert by_name["'-1"][4:] == ["2", "3", "2", "2", "0"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_the_gradebook_has_a_column_set_per_assignment(tmp_path):
    """Without ?assignment= every assignment gets its columns (prefixed with its id), from the stored
    question scores of the submission that counts."""
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    migrate(engine)
    catalog = StubCatalog(Offered("a", "A", (Question("Q1", "One", 3.0),)),
                          Offered("b", "B", (Question("Q1", "Uno", 1.0), Question("Q2", "Dos", 1.0))))

    def q(qid: str, score: float, top: float) -> dict:
        return {"id": qid, "title": "", "score": score, "max_score": top}

    with make_session_factory(engine)() as s:
        for name in ("ann", "bo"):
            create_user(s, name, "student")
        ann, bo = s.scalars(select(User.id).order_by(User.name)).all()
        common = dict(original_name="x.zip", archive_sha256="0" * 64, size_bytes=1)
        s.add_all([
            Submission(id=1, user_id=ann, assignment="a", status="graded", score=1.0, max_score=3.0,
                       questions=[q("Q1", 1.0, 3.0)], **common),
            Submission(id=2, user_id=ann, assignment="a", status="graded", score=3.0, max_score=3.0,
                       questions=[q("Q1", 3.0, 3.0)], **common),
            Submission(id=3, user_id=ann, assignment="b", status="graded", score=1.0, max_score=2.0,
                       questions=[q("Q1", 0.0, 1.0), q("Q2", 1.0, 1.0)], **common),
            Submission(id=4, user_id=bo, assignment="b", status="error", **common),
            Submission(id=5, user_id=bo, assignment="other", status="graded", score=9.0, max_score=9.0, **common)])
        s.commit()
        rows = gradebook_rows(s, catalog)
        only_b = gradebook_rows(s, catalog, assignment="b", policy="latest")
    header, ann_row, bo_row = rows
    assert header == ["student", "a submission_id", "a submitted_at", "a submissions", "a score", "a max_score",
                      "a Q1 (One) /3", "a autograded", "a penalty_percent", "b submission_id", "b submitted_at",
                      "b submissions", "b score", "b max_score", "b Q1 (Uno) /1", "b Q2 (Dos) /1", "b autograded",
                      "b penalty_percent"]
    cells = dict(zip(header, ann_row))
    assert (cells["a submission_id"], cells["a submissions"], cells["a score"], cells["a Q1 (One) /3"]) == \
        ("2", "2", "3", "3")
    assert (cells["b submission_id"], cells["b Q1 (Uno) /1"], cells["b Q2 (Dos) /1"]) == ("3", "0", "1")
    cells = dict(zip(header, bo_row))
    assert cells["a submissions"] == "0" and cells["b submissions"] == "1" and cells["b score"] == ""
    assert cells["a max_score"] == "3" and cells["b max_score"] == "2"              # the catalogue's maximum
    assert only_b[0] == ["student", "submission_id", "submitted_at", "submissions", "score", "max_score",
                         "Q1 (Uno) /1", "Q2 (Dos) /1", "autograded", "penalty_percent"]
    assert only_b[1][1] == "3" and only_b[2][4] == ""


# ---------------------------------------------------------------------------------------------- catalogue

def test_the_catalogue_is_every_assignment_the_grader_finds():
    from grader.assignments import available, load_assignment
    from grader.notebooks import NOTEBOOK_QUESTION

    with_nb, code_only = Catalog().all(), Catalog(notebooks=False).all()
    assert list(with_nb) == list(code_only) == available() and "assignment2" in with_nb
    for name, ours in with_nb.items():
        theirs = load_assignment(name)
        assert ours.title == theirs.title
        assert [(q.id, q.title, q.points) for q in code_only[name].questions] == [
            (q.id, q.title, q.max_score) for q in theirs.questions]
        assert code_only[name].max_score == pytest.approx(theirs.max_score)
        if theirs.notebook_points > 0:      # the notebooks' question, as the grader reports it
            assert (ours.questions[-1].id, ours.questions[-1].title) == NOTEBOOK_QUESTION
            assert ours.questions[-1].points == pytest.approx(theirs.notebook_points)
            assert ours.max_score == pytest.approx(theirs.max_score + theirs.notebook_points)


def test_an_assignment_added_as_files_is_offered_and_a_broken_manifest_is_not(tmp_path, monkeypatch):
    import shutil

    course = tmp_path / "course"
    shutil.copytree(ROOT / "tests" / "fixtures" / "course", course, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("GRADER_COURSE_DIRS", str(course))
    catalog = Catalog(notebooks=False, recheck_seconds=0)
    found = catalog.all()
    assert {"tiny", "tiny2", "assignment2"} <= set(found)
    assert [(q.id, q.points) for q in found["tiny"].questions] == [("Q1", 5.0)]
    manifest = course / "grader" / "assignments" / "tiny" / "manifest.toml"
    good = manifest.read_text()
    manifest.write_text(good.replace("test_row_sums = 3", "test_row_sums = 4"))
    assert [(q.id, q.points) for q in catalog.get("tiny").questions] == [("Q1", 6.0)]   # read again
    manifest.write_text(good.replace("test_row_sums = 3", "test_row_sums = 0"))       # invalid: 0 points
    assert catalog.get("tiny") is None and catalog.get("tiny2") is not None
    manifest.write_text(good)
    assert catalog.get("tiny").max_score == 5.0
    monkeypatch.delenv("GRADER_COURSE_DIRS")
    assert "tiny" not in catalog.all()


# ---------------------------------------------------------------------------------------------- database

def test_the_migration_converts_stored_results_files(tmp_path):
    """0003 turns the old ``results_json`` of existing rows into the stored columns (and back on downgrade)."""
    from alembic import command
    from sqlalchemy import text

    from api.db import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    old = {"score": 6.0, "output": "overall note", "stdout_visibility": "visible",
           "tests": [{"name": "shown", "score": 2, "max_score": 2, "output": "fine"},
                     {"name": "secret", "score": 4, "max_score": 4, "output": "SECRET", "visibility": "hidden"}],
           "extra_data": {"max_score": 10.0, "questions": [{"id": "Q1", "title": "One", "score": 6.0,
                                                            "max_score": 10.0}]}}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, name, role, token_hash, created_at) "
                          "VALUES (1, 'stu', 'student', 'h', '2025-01-01 00:00:00')"))
        for sid, results in ((1, json.dumps(old)), (2, "not json"), (3, None)):
            conn.execute(text("INSERT INTO submissions (id, user_id, assignment, status, original_name, "
                              "archive_sha256, size_bytes, created_at, attempts, score, max_score, results_json) "
                              "VALUES (:id, 1, 'a', 'graded', 'x.zip', :sha, 1, '2025-01-01 00:00:00', 1, 6, 10, "
                              ":results)"), {"id": sid, "sha": "0" * 64, "results": results})
    migrate(engine)
    with make_session_factory(engine)() as s:
        first, second, third = s.scalars(select(Submission).order_by(Submission.id)).all()
    assert first.questions == [{"id": "Q1", "title": "One", "score": 6.0, "max_score": 10.0}]
    assert [t["name"] for t in first.feedback["tests"]] == ["shown", "secret"]
    assert [t["name"] for t in first.student_feedback["tests"]] == ["shown"]
    assert first.student_feedback["hidden_tests"] == 1 and first.student_feedback["output"] == "overall note"
    assert second.feedback is None and third.feedback is None and second.score == 6.0
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with engine.connect() as conn:
        back = json.loads(conn.execute(text("SELECT results_json FROM submissions WHERE id = 1")).scalar())
    assert back["extra_data"]["questions"][0]["score"] == 6.0 and len(back["tests"]) == 2
    assert back["stdout_visibility"] == "visible" and back["tests"][1]["visibility"] == "hidden"
    migrate(engine)
    engine.dispose()


def test_the_migration_gives_students_the_overall_output_of_their_results(tmp_path):
    """0004: the students' stored feedback gets the overall output (it was left out when stdout was hidden),
    unless their results are hidden as a whole; the course tables come and go with it."""
    from alembic import command
    from sqlalchemy import inspect, text

    from api.db import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    feedback = json.dumps({"tests": [], "hidden_tests": 0, "output": "could not be unpacked: '..'",
                           "scores_visible": True})
    shown = json.dumps({"tests": [], "hidden_tests": 0, "output": None, "scores_visible": True})
    sealed = json.dumps({"tests": [], "hidden_tests": 0, "output": None, "scores_visible": False})
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, name, role, token_hash, created_at) "
                          "VALUES (1, 'stu', 'student', 'h', '2025-01-01 00:00:00')"))
        for sid, student in ((1, shown), (2, sealed)):
            conn.execute(text("INSERT INTO submissions (id, user_id, assignment, status, original_name, "
                              "archive_sha256, size_bytes, created_at, attempts, feedback, student_feedback) "
                              "VALUES (:id, 1, 'a', 'graded', 'x.zip', :sha, 1, '2025-01-01 00:00:00', 1, :f, :s)"),
                         {"id": sid, "sha": "0" * 64, "f": feedback, "s": student})
    migrate(engine)
    with make_session_factory(engine)() as s:
        first, second = s.scalars(select(Submission).order_by(Submission.id)).all()
    assert first.student_feedback["output"] == "could not be unpacked: '..'"
    assert second.student_feedback["output"] is None
    assert {"assignment_policies", "extensions", "regrades", "manual_scores"} <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert "regrades" not in inspect(engine).get_table_names()
    engine.dispose()


# ---------------------------------------------------------------------------------------------- users

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
    assert grader_process.process(a, jobs.claim(a)) == "retry"
    r = row(a)
    assert r.status == "queued" and r.retry_at is not None and "retrying" in r.error
    assert jobs.claim(a) is None                                  # not before retry_at
    time.sleep(0.4)
    assert grader_process.process(a, jobs.claim(a)) == "error"    # max_attempts = 2 reached
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
