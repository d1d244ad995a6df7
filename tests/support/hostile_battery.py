"""The hostile battery (tests/hostile/): its service, ``python -m api serve`` with 2 real local workers,
SQLite, notebooks graded, the fixture course's ``tinynb`` (limits of seconds), canaries planted where a
submission must not reach (the service's environment, the secret, tokens, another student's upload, the
database, the hidden suites, the references and the solution), and targets on loopback it must not connect
to (the service, a Redis server, a PostgreSQL server, a listener).

All cases (``support.hostile_cases.CASES``) are uploaded at once, each by a student of its own and followed by
an honest submission of the same student, so the two workers are busy from the start; each test then checks
one case's outcome (``verify``).
"""
from __future__ import annotations

import csv
import json
import hashlib
import io
import secrets
import socket
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from support.course import make_course
from support.hostile_cases import ASSIGNMENT, CASES, CODE_POINTS, NB_POINTS, Case, Target, zip_bytes
from support.servers import PostgresServer, RedisServer, Service, make_zips, postgres_bindir, wait_for_status

WORKERS = 2
CANARY = "canary-" + secrets.token_hex(12)       # every planted secret holds it, with a suffix of its own


@dataclass
class Outcome:
    case: Case
    status: int                         # HTTP status of the hostile upload
    body: dict                          # its JSON answer
    student: dict | None = None         # the student's view when graded
    teacher: dict | None = None         # the instructor's view when graded
    honest: dict | None = None          # the student's next (honest) submission, graded
    listing: list[dict] = field(default_factory=list)   # the student's submissions (instructor's list)
    health: dict | None = None
    own: frozenset[str] = frozenset()   # host paths the upload itself holds (a link's target): echoing them is no leak


class Listener:
    """A TCP listener on the host's loopback that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.sock.close()


def _plant_solution_canary(course: Path) -> None:
    ops = course / "solutions" / "tiny" / "cs231n" / "ops.py"
    text = ops.read_text()
    marker = "    out = np.sum(as_float(x), axis=1)\n"
    assert marker in text
    ops.write_text(text.replace(marker, marker + f"    # {CANARY}-solution\n"))


class Battery:
    def __init__(self, root: Path):
        self.root = root
        self.course = make_course(root, edit=_plant_solution_canary)
        self.zips = make_zips(root / "zips", ASSIGNMENT, env={"GRADER_COURSE_DIRS": self.course})
        self.redis = RedisServer(root / "redis").start()
        self.pg = PostgresServer().start() if postgres_bindir() else None
        self.listener = Listener()
        self.secret = f"{CANARY}-secret"
        self.svc = Service(root / "svc", workers=WORKERS, env={
            "GRADER_COURSE_DIRS": self.course, "GRADER_GRADE_NOTEBOOKS": 1, "GRADER_SECRET": self.secret,
            "HOSTILE_CANARY": f"{CANARY}-environment", "GRADER_MAX_IN_FLIGHT": 4}).start()
        self.tokens = self._users()
        self.outcomes: dict[str, Outcome] = {}
        self.pending: dict[str, tuple[int | None, int]] = {}

    def close(self):
        for stop in (self.svc.stop, self.redis.stop, self.listener.close, self.pg.stop if self.pg else None):
            if stop is not None:
                try:
                    stop()
                except Exception:
                    pass

    # ------------------------------------------------------------------------------------------ setup

    def _users(self) -> dict[str, str]:
        roster = self.root / "roster.csv"
        roster.write_text("name,role\nvictim,student\n" + "".join(f"h-{c.name},student\n" for c in CASES))
        out = self.svc.cli("import-roster", str(roster)).stdout
        return {row["name"]: row["token"] for row in csv.DictReader(io.StringIO(out))}

    def plant_victim(self) -> dict:
        """The victim's honest upload: its ops.py and its file name hold canaries."""
        with zipfile.ZipFile(self.zips["solutions"]) as zf:
            entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
        entries = [(n, d + f"\n# {CANARY}-victim-upload\n".encode() if n == "cs231n/ops.py" else d)
                   for n, d in entries]
        data = zip_bytes(entries)
        with self.svc.client(self.tokens["victim"]) as c:
            r = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                       files={"file": (f"victim-{CANARY}-filename.zip", data, "application/zip")})
            assert r.status_code == 202, r.text
            done = wait_for_status(c, r.json()["id"], timeout=120)
        assert done["status"] == "graded", done
        return done

    def target(self) -> Target:
        course, data = self.course, self.svc.data_dir
        ga = course / "grader" / "assignments" / "tinynb"
        uploads = sorted(p for p in (data / "uploads").rglob("*") if p.is_file())
        jobs = sorted(p for p in (data / "jobs").rglob("*.json") if p.is_file()) if (data / "jobs").exists() else []
        from support.paths import ROOT
        tmp = Path(tempfile.gettempdir())
        escape = [tmp / f"hostile-{kind}-{secrets.token_hex(6)}.txt" for kind in ("escape", "absolute")]
        self.escape = escape
        files = {
            "read_hidden_suites": [ga / "suites" / "q1_ops.py", ga / "manifest.toml", ga / "cases.py",
                                   ROOT / "grader" / "assignments" / "assignment2" / "suites" / "q1_fc_layers.py"],
            "read_references": sorted((course / "reference_outputs" / "tinynb").iterdir()),
            "read_solutions": [course / "solutions" / "tiny" / "cs231n" / "ops.py",
                               course / "solutions" / "tinynb" / "Ops.ipynb",
                               ROOT / "solutions" / "assignment2" / "cs231n" / "layers.py"],
            "read_other_uploads": (uploads + jobs)[:6],
            "read_database": [data / "grader.db"],
            "exfiltrate_by_print": [ga / "suites" / "q1_ops.py", data / "grader.db"] + uploads[:2],
            "symlink": [data / "grader.db"],
            "shell": [ga / "suites" / "q1_ops.py", data / "grader.db"],
            "escape": escape,
        }
        self.secret_paths = sorted({p for k, ps in files.items() if k != "escape" for p in ps})
        refs = np.load(course / "reference_outputs" / "tinynb" / "Q1.npz")
        cached = {"scale": refs["scale/out/out"].tolist(), "row_sums": refs["row_sums/out/sums"].tolist()}
        starter = (course / "starter" / "tinynb" / "cs231n" / "ops.py").read_text()
        solution = "".join(line for line in (course / "solutions" / "tiny" / "cs231n" / "ops.py").read_text()
                           .splitlines(keepends=True) if CANARY not in line)
        ports = {"service": int(self.svc.url.rsplit(":", 1)[1].strip("/")), "redis": self.redis.port,
                 "postgres": self.pg.port if self.pg else self.listener.port, "listener": self.listener.port}
        return Target(starter=starter, solution=solution,
                      helpers=(course / "starter" / "tinynb" / "cs231n" / "helpers.py").read_text(),
                      notebook=(course / "solutions" / "tinynb" / "Ops.ipynb").read_text(),
                      secret_files=files, ports=ports, cached=cached)

    def canaries(self) -> dict[str, str]:
        """What must never appear in a hostile submission's views: name -> string."""
        found = {"planted canary": CANARY, "grader secret": self.secret}
        for name, token in self.tokens.items():
            found[f"token of {name}"] = token
        for who, token in (("instructor", self.svc.instructor_token), ("demo-student", self.svc.student_token)):
            found[f"token of {who}"] = token
        for path in self.secret_paths:
            try:
                content = path.read_bytes()
            except OSError:
                continue
            found[f"sha256 of {path.name}"] = hashlib.sha256(content[: 1 << 20]).hexdigest()
            if len(content) >= 48:
                found[f"first bytes of {path.name}"] = content[:48].hex()
        found["a line of the hidden suite"] = 'ref("Q1/scale")'
        return found

    def path_canaries(self) -> dict[str, str]:
        """What the student's own test output must not name: the host's paths and processes."""
        return {"the service's data folder": str(self.svc.data_dir), "the course folder": str(self.course),
                "the service's command line": "-m api serve", "the grader's command line": "-m grader grade"}

    # --------------------------------------------------------------------------------------- running

    def submit_all(self, target: Target) -> None:
        # the honest follow-up: the solution with its notebook after a notebook case (6 of 6), else the
        # solution's code alone (5 of 6: a notebook left out costs its point and starts no kernel)
        full = self.zips["solutions"].read_bytes()
        with zipfile.ZipFile(self.zips["solutions"]) as zf:
            code_only = zip_bytes([(i.filename, zf.read(i)) for i in zf.infolist()
                                   if not i.filename.endswith(".ipynb")])
        for case in CASES:
            data = case.build(target)
            with self.svc.client(self.tokens[f"h-{case.name}"], timeout=120) as c:
                r = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                           files={"file": (f"{case.name}.zip", data, "application/zip")})
                honest = full if case.group == "notebook" else code_only
                h = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                           files={"file": ("honest.zip", honest, "application/zip")})
            assert h.status_code == 202, (case.name, h.text)
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {"raw": r.text}
            own = frozenset(v for v in self.path_canaries().values() if v.encode() in data)
            self.outcomes[case.name] = Outcome(case, r.status_code, body, own=own)
            self.pending[case.name] = (body.get("id") if r.status_code == 202 else None, h.json()["id"])

    def write_report(self, path: str) -> None:
        """What each case got, as JSON (cases not yet checked are waited for)."""
        rows = []
        for case in CASES:
            o = self.outcome(case.name)
            t = o.teacher or {}
            rows.append({"case": case.name, "group": case.group, "property": case.prop, "upload": o.status,
                         "code": o.body.get("code"), "score": t.get("score"), "expected": case.expected,
                         "grading_seconds": t.get("grading_seconds"),
                         "honest": (o.honest or {}).get("score"),
                         "feedback": " || ".join((x.get("output") or "")[:160] for x in t.get("tests", []))})
        Path(path).write_text(json.dumps(rows, indent=1))

    def outcome(self, name: str, timeout: float = 600) -> Outcome:
        o = self.outcomes[name]
        if name not in self.pending:
            return o
        hostile_id, honest_id = self.pending.pop(name)
        with self.svc.client(self.tokens[f"h-{name}"]) as me, self.svc.client(self.svc.instructor_token) as t:
            if hostile_id is not None:
                o.student = wait_for_status(me, hostile_id, timeout=timeout, interval=0.5)
                o.teacher = t.get(f"/api/v1/submissions/{hostile_id}").json()
            o.honest = wait_for_status(me, honest_id, timeout=timeout, interval=0.5)
            o.listing = t.get("/api/v1/submissions", params={"student": f"h-{name}"}).json()["items"]
            r = t.get("/healthz")
            o.health = {"status_code": r.status_code, **r.json()}
        return o


# ------------------------------------------------------------------------------------------ checking

def verify(b: Battery, name: str) -> Outcome:
    """Every property of one case; a failure names the case, the property and what was seen."""
    o = b.outcome(name)
    c = o.case
    say = f"[{c.group}/{c.name}: {c.prop}]"
    assert o.status == c.status, f"{say} upload answered {o.status}, expected {c.status}: {o.body}"
    if c.status != 202:
        assert o.body.get("code") == c.code and o.body.get("detail"), f"{say} unclear refusal: {o.body}"
        assert [s["filename"] for s in o.listing] == ["honest.zip"], \
            f"{say} a refused upload left a record: {o.listing}"
    else:
        view, teacher = o.student, o.teacher
        assert view["status"] == "graded", f"{say} not graded: {view['status']} {teacher.get('error')}"
        assert view["score"] == pytest.approx(c.expected), \
            (f"{say} {'UNEARNED POINTS' if view['score'] > c.expected else 'honest points lost'}: scored "
             f"{view['score']}, the same code earns {c.expected} without the attack; "
             f"tests: {[(t['name'], t['score'], (t['output'] or '')[:300]) for t in teacher['tests']]}")
        outcomes = [h["outcome"] for h in teacher["history"]]
        assert outcomes.count("graded") == 1 and outcomes[-1] == "graded", f"{say} not graded exactly once: {outcomes}"
        assert teacher["grading_seconds"] <= c.wall, f"{say} the grade took {teacher['grading_seconds']:.0f} s"
        feedback = " ".join(t.get("output") or "" for t in teacher["tests"])
        if c.reports:
            assert "EXFIL[" in feedback, \
                f"{say} the attack's report did not arrive (the test proves nothing): {feedback[:500]}"
        for what, text in (("the student's view", json.dumps(view)), ("the instructor's view", json.dumps(teacher))):
            leaked = [k for k, v in b.canaries().items() if v and v in text]
            assert not leaked, f"{say} LEAK in {what}: {leaked}"
        student_text = " ".join(t.get("output") or "" for t in view["tests"]) + (view.get("output") or "")
        leaked = [k for k, v in b.path_canaries().items() if (v in student_text or v in feedback) and v not in o.own]
        assert not leaked, f"{say} LEAK of host paths/processes in the test output: {leaked}"
        if "unreached" in c.checks:
            reached = [w for w in (":connected:", ":resolved:", ":answered:") if w in feedback]
            assert not reached, f"{say} NETWORK reached ({reached}): {feedback[:800]}"
        if "redis_untouched" in c.checks:
            import redis
            assert redis.Redis.from_url(b.redis.url).get("hostile-was-here") is None, f"{say} Redis was written"
        if "listener_silent" in c.checks:
            assert b.listener.accepted == 0, f"{say} the host's listener accepted {b.listener.accepted} connection(s)"
    if "nothing_written" in c.checks:
        written = [str(p) for p in b.escape if p.exists()]
        assert not written, f"{say} the archive wrote outside its folder: {written}"
    h = o.honest
    honest = CODE_POINTS + NB_POINTS if c.group == "notebook" else CODE_POINTS
    assert h["status"] == "graded" and h["score"] == pytest.approx(honest), \
        f"{say} the next honest submission was not graded correctly: {h['status']} {h['score']}/{h['max_score']}"
    assert o.health["status_code"] == 200 and o.health.get("workers_alive") == WORKERS, \
        f"{say} service or workers unhealthy after the case: {o.health}"
    return o
