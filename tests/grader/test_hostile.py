"""A corpus of hostile submissions: each must earn zero unearned points, finish within its time bound,
and leave the grader able to grade the next submission.

Every hostile submission is the *starter* (which earns nothing by itself) with an attack appended to
``cs231n/layers.py``; any point it gets is unearned. The attack either runs at import time or replaces every
public function of ``layers`` with one that misbehaves when the grader calls it.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support.attacks import ATTACKS
from support.paths import ROOT, STARTER

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (STARTER / "cs231n" / "layers.py").exists(), reason="starter not generated")]


class _Listener:
    """A TCP server on loopback that records whether anybody connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(100) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    srv = _Listener()
    yield srv
    srv.close()


def _grade(submission: Path, out: Path, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(submission), "--assignment", "assignment2",
         "--out", str(out), "--no-notebooks"],   # the attacks are on the code questions' sandbox
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout + 60,
    )
    return proc, time.monotonic() - start


def _hostile_submission(tmp_path: Path, name: str, code: str) -> Path:
    sub = tmp_path / "submission"
    shutil.copytree(STARTER, sub, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    layers = sub / "cs231n" / "layers.py"
    layers.write_text(layers.read_text() + "\n# ---- hostile: " + name + " ----\n" + textwrap.dedent(code))
    return sub


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, listener):
    """Grade every hostile submission, four at a time (each grade runs under a sandbox uid of its own, so
    they cannot starve each other's process limits) -> {name: (CompletedProcess, seconds, results path)}."""
    before = sorted(p.name for p in ROOT.iterdir())

    def run(name):
        tmp = tmp_path_factory.mktemp(name)
        code, bound = ATTACKS[name]
        sub = _hostile_submission(tmp, name, code.replace("PORT", str(listener.port)))
        out = tmp / "results.json"
        proc, elapsed = _grade(sub, out, bound)
        return name, (proc, elapsed, out)

    with ThreadPoolExecutor(max_workers=4) as pool:
        graded = dict(pool.map(run, sorted(ATTACKS)))
    graded["_repo_listing"] = (before, sorted(p.name for p in ROOT.iterdir()))
    return graded


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_submission_earns_nothing(name, corpus, listener):
    proc, elapsed, out = corpus[name]
    bound = ATTACKS[name][1]
    assert proc.returncode == 0, f"grader error on {name}: {proc.stderr[-2000:]}"
    results = json.loads(out.read_text())
    earned = [(t["name"], t["score"]) for t in results["tests"] if t["score"] > 0]
    assert earned == [], f"{name} earned points: {earned}"
    assert results["score"] == 0
    assert all(q["score"] == 0 for q in results["extra_data"]["questions"])
    assert elapsed < bound, f"{name} took {elapsed:.0f}s (bound {bound}s)"
    assert listener.received == [], f"{name} reached the network: {listener.received}"
    assert '"score": 100.0, "tests"' not in proc.stdout, "the submission's output reached the grader's output"


def test_the_corpus_wrote_nothing_into_the_repository(corpus):
    before, after = corpus["_repo_listing"]
    assert after == before


def test_grader_still_grades_solutions_after_the_corpus(corpus, tmp_path):
    """After the whole corpus (the fixture has graded it), the next submission is graded normally."""
    out = tmp_path / "results.json"
    proc, _ = _grade(ROOT / "solutions" / "assignment2", out, 120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())
    code_questions = [q for q in results["extra_data"]["questions"]]
    assert code_questions and all(q["score"] == q["max_score"] for q in code_questions), code_questions
