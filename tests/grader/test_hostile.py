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

from support.paths import ROOT, STARTER

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (STARTER / "cs231n" / "layers.py").exists(), reason="starter not generated")]

# Wraps every public function of layers.py (after the module has defined them) with `attack`.
REPLACE_ALL = '''
import functools as _ft, types as _types
def _hostile_wrap(_f):
    @_ft.wraps(_f)
    def _w(*args, **kwargs):
        return attack(*args, **kwargs)
    return _w
for _n, _v in list(globals().items()):
    if isinstance(_v, _types.FunctionType) and not _n.startswith("_") and _n != "attack":
        globals()[_n] = _hostile_wrap(_v)
'''

ATTACKS: dict[str, tuple[str, float]] = {
    # name: (code appended to layers.py, wall-time bound in seconds for the whole grade)
    "monkeypatch_numpy": ('''
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.abs = lambda x, *a, **k: x * 0
np.max = lambda *a, **k: 0.0
np.maximum = lambda a, b, *x, **k: a * 0
''', 120),
    "patch_checker": ('''
import sys, types
for _name in ("grader", "grader.checks", "grader.scoring", "pytest", "_pytest"):
    _m = types.ModuleType(_name)
    _m.rel_error = lambda *a, **k: 0.0
    sys.modules[_name] = _m
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
''', 120),
    "always_equal": ('''
import numpy as np
class _Yes(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __sub__(self, other): return _Yes(0.0)
    __rsub__ = __sub__
    def __abs__(self): return _Yes(0.0)
    def __array__(self, *a, **k): return np.zeros((2, 3))
    def __getattr__(self, name): return self
    def __call__(self, *a, **k): return self
    def __iter__(self): return iter([self, self, self])
    def __len__(self): return 3
    def __getitem__(self, i): return self
def attack(*args, **kwargs):
    return _Yes(0.0)
''' + REPLACE_ALL, 120),
    "ndarray_subclass": ('''
import numpy as np
class _Sneaky(np.ndarray):
    def __sub__(self, other): return np.zeros_like(np.asarray(other, dtype=float))
    def __rsub__(self, other): return np.zeros_like(np.asarray(other, dtype=float))
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.broadcast_shapes(*[np.shape(i) for i in inputs]))
def attack(*args, **kwargs):
    shape = args[0].shape if args and hasattr(args[0], "shape") else (1,)
    out = np.zeros(shape).view(_Sneaky)
    return out, out
''' + REPLACE_ALL, 120),
    "read_hidden_files": ('''
import glob, os
import numpy as np
_FOUND = []
for _pattern in ("/work/**/reference_outputs/**/*.npz", "/work/**/suites/*.py", "/root/**/*.npz",
                 "/**/reference_outputs/**/*.npz", "/**/manifest.json", "/**/solutions/cs231n/layers.py"):
    try:
        _FOUND += glob.glob(_pattern, recursive=True)[:50]
    except Exception:
        pass
_ARRAYS = []
for _p in _FOUND:
    if _p.endswith(".npz"):
        try:
            _z = np.load(_p)
            _ARRAYS += [_z[k] for k in _z.files]
        except Exception:
            pass
def attack(*args, **kwargs):
    # Return the stored array whose shape fits, if any was found.
    for _a in _ARRAYS:
        if args and hasattr(args[0], "shape") and _a.shape[:1] == args[0].shape[:1]:
            return _a, _a
    raise RuntimeError("found %d files: %r" % (len(_FOUND), _FOUND[:5]))
''' + REPLACE_ALL, 120),
    "sys_exit_at_import": ('''
import sys
print('{"score": 100.0, "tests": []}')
sys.exit(0)
''', 120),
    "os_exit_in_calls": ('''
import os
def attack(*args, **kwargs):
    os._exit(0)
''' + REPLACE_ALL, 180),
    "kill_parent": ('''
import os, signal
def attack(*args, **kwargs):
    for pid in (os.getppid(), 1, -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
    "fake_json_output": ('''
import json, os, sys
_FAKE = json.dumps({"score": 100.0, "tests": [{"name": "all", "score": 100.0, "max_score": 100.0}]})
def attack(*args, **kwargs):
    print(_FAKE)
    sys.stdout.flush()
    for fd in range(0, 12):
        try:
            os.write(fd, (_FAKE + "\\n").encode())
        except OSError:
            pass
    return None
''' + REPLACE_ALL, 180),
    "infinite_loop_in_calls": ('''
def attack(*args, **kwargs):
    while True:
        pass
''' + REPLACE_ALL, 300),
    "sleep_at_import": ('''
import time
time.sleep(3600)
''', 300),
    "huge_allocation": ('''
import numpy as np
def attack(*args, **kwargs):
    a = np.ones(20 * 2**30 // 8)
    return a, a
''' + REPLACE_ALL, 180),
    "fork_bomb": ('''
import os
def attack(*args, **kwargs):
    while True:
        try:
            os.fork()
        except OSError:
            pass
''' + REPLACE_ALL, 300),
    "disk_fill": ('''
import os
def attack(*args, **kwargs):
    chunk = b"x" * (1 << 20)
    for d in ("/tmp", os.path.dirname(__file__), "/sandbox", "/work", "/"):
        try:
            with open(os.path.join(d, "fill.bin"), "wb") as f:
                while True:
                    f.write(chunk)
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
    "network_connect": ('''
import socket
def attack(*args, **kwargs):
    for host in ("127.0.0.1", "localhost", "10.0.2.2"):
        try:
            s = socket.create_connection((host, PORT), timeout=1)
            s.sendall(b"PWNED")
            s.close()
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
}


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
