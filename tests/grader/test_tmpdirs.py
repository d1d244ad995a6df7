"""Temporary folders of a grader that was killed are removed by the next grader (grader/tmpdirs.py)."""
from __future__ import annotations

import os
import shutil
import tempfile
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.paths import ROOT
from grader import tmpdirs


def test_folders_of_dead_processes_are_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = tmp_path / f"grade-{dead.pid}-abc"
        kept = tmp_path / f"grade-{live.pid}-def"
        mine = tmp_path / f"grade-{os.getpid()}-ghi"
        other_kind = tmp_path / f"nb-work-{dead.pid}-jkl"
        not_a_pid = tmp_path / "grade-notes"
        for d in (gone, kept, mine, other_kind, not_a_pid):
            (d / "cs231n").mkdir(parents=True)
            (d / "cs231n" / "layers.py").write_text("# a student's file\n")
        target = tmp_path / "elsewhere"
        target.mkdir()
        (target / "keep.txt").write_text("not ours")
        link = tmp_path / f"grade-{dead.pid}-link"
        link.symlink_to(target)
        assert tmpdirs.sweep("grade-", tmp_path) == [gone]
        assert not gone.exists()
        assert kept.is_dir() and mine.is_dir() and other_kind.is_dir() and not_a_pid.is_dir()
        assert link.is_symlink() and (target / "keep.txt").is_file()      # a link is never followed or removed
    finally:
        live.kill()
        live.wait()


def test_a_folder_another_grade_sweeps_first_is_no_error(tmp_path, monkeypatch):
    """Two graders starting together sweep the same dead folders: the one that finds a folder already gone
    (between listing the folder and looking at the entry) goes on; before, the grade crashed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"grade-{dead.pid}-abc"
    gone.mkdir()
    listed = list(os.scandir(tmp_path))          # what the second grader listed ...
    shutil.rmtree(gone)                          # ... before the first one removed it
    monkeypatch.setattr(tmpdirs.os, "scandir", lambda root: iter(listed))
    assert tmpdirs.sweep("grade-", tmp_path) == []


@pytest.fixture()
def open_tmp():
    """A TMPDIR the sandbox user can traverse (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="tmpdirs-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_killed_grade_leaves_nothing_behind_after_the_next_one(open_tmp):
    """A grader SIGKILLed while it grades leaves its unpacked submission and sandbox stage; the next grade
    in another process removes them."""
    tmp_path = open_tmp
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", TMPDIR=str(tmp_path))
    cmd = [sys.executable, "-m", "grader", "grade", str(ROOT / "solutions" / "assignment2"), "--assignment",
           "assignment2", "--no-notebooks",
           "--out", str(tmp_path / "results.json")]
    victim = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    def left():      # per-grade folders (cs231n-sandbox-uids holds the uid locks and stays)
        return sorted(p.name for p in tmp_path.iterdir() if re.match(r"(grade|cs231n-sandbox)-\d+-", p.name))

    while time.monotonic() < deadline and not any(n.startswith("cs231n-sandbox-") for n in left()):
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    before = left()
    assert any(n.startswith(f"grade-{victim.pid}-") for n in before), before
    assert any(n.startswith(f"cs231n-sandbox-{victim.pid}-") for n in before), before
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert left() == [], left()
