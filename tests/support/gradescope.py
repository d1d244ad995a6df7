"""A simulated Gradescope root (the ``/autograder`` folder) for the exported autograder: the zip unpacked in
``source/`` as Gradescope does (modes kept), a submission folder, ``results/``; ``run_autograder`` run on it."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One ``run_autograder ROOT``: what it printed, how long it took, the results.json it wrote."""

    proc: subprocess.CompletedProcess
    seconds: float
    results: dict
    text: str                       # results.json as written


def make_root(autograder_zip: Path, submission: Path) -> Path:
    """A fresh root in the system temp folder, traversable by every uid (as ``/autograder`` is), holding the
    unpacked autograder in ``source/`` and a copy of ``submission`` in ``submission/``."""
    root = Path(tempfile.mkdtemp(prefix="gradescope-root-"))
    os.chmod(root, 0o755)
    source = root / "source"
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(source)
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(source / info.filename, mode)
    shutil.copytree(submission, root / "submission", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "results").mkdir()
    for path in (root / "submission", root / "results"):
        os.chmod(path, 0o755)
    return root


def run_autograder(root: Path, *, isolation: str | None = None, python: str | None = None,
                   timeout: float = 900) -> Run:
    """``source/run_autograder ROOT`` with the project's Python (Gradescope's is the venv setup.sh builds)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_PYTHON": python or sys.executable}
    if isolation:
        env["GRADER_ISOLATION"] = isolation
    started = time.monotonic()
    proc = subprocess.run([str(root / "source" / "run_autograder"), str(root)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    seconds = time.monotonic() - started
    path = root / "results" / "results.json"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return Run(proc, seconds, json.loads(text) if text else {}, text)


def is_private(path: Path) -> bool:
    """Only root may enter ``path`` (no group or other permission bits)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
