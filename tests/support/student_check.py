"""The students' public check (``python -m <package>.check``) run as a student runs it: in a folder of its own
(a copy of the solutions or of the starter, with the generated ``check/`` package), in a fresh Python where
importing the grader fails."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.authoring import public_checks

# Runs ``<package>.check`` as ``python -m`` would, with every import of the grader refused.
_BLOCKED = ("import sys, runpy; sys.modules['grader'] = None; sys.argv = ['check'] + sys.argv[1:]; "
            "runpy.run_module('{package}.check', run_name='__main__', alter_sys=True)")
_RESULTS = ("import sys, json; sys.modules['grader'] = None; from {package}.check import run_checks; "
            "print(json.dumps(run_checks(sys.argv[1:] or None)))")


def student_tree(assignment, which: str, dest: Path) -> Path:
    """A student's folder: ``which`` ('solutions' or 'starter') of ``assignment`` copied to ``dest``, with the
    generated check package (the starter has it already; the solutions get the same files)."""
    src = assignment.solution_tree() if which == "solutions" else assignment.starter_dir
    shutil.copytree(src, dest, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    checks = public_checks.load(assignment)
    for rel, data in checks.files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    env.pop("CS231N_DATA_DIR", None)
    return env


def run_check(tree: Path, package: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m <package>.check ARGS`` in ``tree``."""
    return subprocess.run([sys.executable, "-c", _BLOCKED.format(package=package), *args], cwd=tree,
                          env=_env(tree), capture_output=True, text=True, timeout=timeout)


def check_results(tree: Path, package: str, *questions: str) -> list[dict]:
    """The results of the public checks in ``tree`` (one dict per check)."""
    proc = subprocess.run([sys.executable, "-c", _RESULTS.format(package=package), *questions], cwd=tree,
                          env=_env(tree), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
