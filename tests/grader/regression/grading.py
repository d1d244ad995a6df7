"""Grading the solutions, the starter and every broken variant with one checkout of the grader, the same way
for the baseline and for the test: the CLI, code questions only, a fixed secret (the same hidden inputs)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from variants import VARIANTS, build_variant, copy_solutions

SECRET = "regression-baseline-secret-of-the-move"


def grade(grader_root: Path, submission: Path, out: Path) -> dict:
    """``{"total": score, "tests": {"Q1/test_affine_forward": [score, status], ...}}`` of one grade."""
    env = dict(os.environ, GRADER_SECRET=SECRET, OPENBLAS_NUM_THREADS="1")
    env.pop("GRADER_COURSE_DIRS", None)
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "--assignment", "assignment2",
                           "--no-notebooks", "--out", str(out)], cwd=grader_root, env=env, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"grading {submission.name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = json.loads(out.read_text())
    tests = {f"{t['extra_data']['question']}/{t['extra_data']['test']}": [t["score"], t["status"]]
             for t in results["tests"]}
    return {"total": results["score"], "tests": tests}


def grade_all(grader_root: Path, solutions: Path, starter: Path, jobs: int = 2) -> dict[str, dict]:
    """Every submission of the regression set graded by the grader of ``grader_root``."""
    with tempfile.TemporaryDirectory(prefix="regression-") as tmp:
        tmp = Path(tmp)
        subs = {"solutions": copy_solutions(solutions, tmp / "solutions" / "sub"),
                "starter": copy_solutions(starter, tmp / "starter" / "sub")}
        for v in VARIANTS:
            subs[v.name] = build_variant(solutions, v, tmp / v.name / "sub")
        with ThreadPoolExecutor(jobs) as pool:
            graded = pool.map(lambda item: (item[0], grade(grader_root, item[1], item[1].parent / "results.json")),
                              subs.items())
            return dict(graded)
