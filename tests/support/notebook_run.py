"""The assignment's notebooks, executed ONCE for the whole test suite (they take about two minutes).

``grade_with_notebooks`` grades the solutions' and the starter's zips (built by ``make-zips``) with the real
command line, notebooks included: ``python -m grader grade ZIP --out DIR/results.json``. Each notebook
runs top to bottom with its kernel in the sandbox, on Fashion-MNIST, and the executed notebooks (outputs
capped) and the ``best_model.npz`` the FC notebook saved land in ``DIR/results_notebooks/``.

``tests/conftest.py`` exposes the result as the session fixture ``graded_notebooks``, shared by
``tests/grader/notebooks/test_notebooks.py`` (the printed values of the executed solution notebooks) and
``tests/grader/notebooks/test_nbgrade_notebooks.py`` (the grades: points, where the starter stops, the report).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from support.paths import ROOT  # noqa: E402
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
GRADE_TIMEOUT = 900     # seconds for one grade (the solutions' notebooks take about 70 s alone on one core)


@dataclass
class GradedRun:
    """One ``python -m grader grade`` of a zip with its notebooks.

    - results_path: the results.json written; ``results``: its content
    - seconds: wall time of the whole grade; ``stdout``: what the command printed
    """

    results_path: Path
    results: dict
    seconds: float
    stdout: str

    def notebook(self, name: str) -> dict:
        """The ``extra_data.notebooks`` entry of ``name`` (``FullyConnectedNets.ipynb``)."""
        return next(nb for nb in self.results["extra_data"]["notebooks"] if nb["name"] == name)

    def executed(self, name: str) -> nbformat.NotebookNode:
        """The executed notebook ``name`` (the artifact written beside results.json)."""
        rel = self.notebook(name)["executed"]
        assert rel, f"no executed notebook was written for {name}"
        return nbformat.read(str(self.results_path.parent / rel), as_version=4)

    def saved_file(self, name: str) -> Path:
        """A file the notebooks saved (``best_model.npz``), as kept beside results.json."""
        return self.results_path.parent / self.results["extra_data"]["notebook_files"][name]


def why_not_runnable() -> str | None:
    """Why the notebooks cannot run on this machine (None: they can)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        return "Fashion-MNIST is not installed (Debian package dataset-fashion-mnist, see Makefile)"
    if not (ROOT / "starter" / "assignment2" / "cs231n" / "layers.py").exists():
        return "starter not generated"
    if not (ROOT / "reference_outputs" / "assignment2" / "manifest.json").is_file():
        return "reference outputs not generated"
    return None


def grade_zip(submission: Path, out_dir: Path) -> GradedRun:
    """Grade ``submission`` with its notebooks through the command line into ``out_dir/results.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("CS231N_DATA_DIR", None)          # Fashion-MNIST, never a local CIFAR-10
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "--assignment", "assignment2",
                           "--out", str(results_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=GRADE_TIMEOUT)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    return GradedRun(results_path, json.loads(results_path.read_text()), seconds, proc.stdout)


def grade_with_notebooks(tmp: Path) -> dict[str, GradedRun]:
    """``{"solutions": GradedRun, "starter": GradedRun}``: both zips graded with their notebooks."""
    from grader import authoring
    from grader.assignments import load_assignment

    zips = authoring.build_assignment_zips(tmp / "zips", load_assignment("assignment2"))
    runs = {}
    for which in ("solutions", "starter"):
        runs[which] = grade_zip(zips[which], tmp / which)
        print(f"{which}: graded with its notebooks in {runs[which].seconds:.1f} s")
    return runs
