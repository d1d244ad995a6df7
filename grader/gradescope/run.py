"""``python -m grader.gradescope.run --root /autograder --assignment A``: one Gradescope grade.

What ``run_autograder`` runs, as root, from ``ROOT/source``:

1. lock the source folder (the grader, the hidden suites, the references, the secret) to root: the
   setpriv tier relies on the sandbox uid not being able to read it;
2. find the isolation (``GRADER_ISOLATION=auto``: bubblewrap, else setpriv); without either, no grade;
3. grade ``ROOT/submission`` (a folder, or the one archive in it) with ``python -m grader grade`` in a
   child process under a time limit (the manifest's ``grade_budget`` and a margin);
4. always write ``ROOT/results/results.json`` (``grader.gradescope.results``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from grader.gradescope import results as gs_results

MARGIN = 120.0                  # s beyond the manifest's grade_budget before the grade is stopped
DEFAULT_BUDGET = 900.0          # s when the manifest sets no grade_budget
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz")


def lock_down(source: Path) -> Path:
    """Make ``source`` root-only (0700, as every folder the secret is in) -> the secret's folder."""
    secret_dir = source / "grader-secret"
    for folder in (source, secret_dir):
        if folder.is_dir():
            os.chmod(folder, 0o700)
    if (secret_dir / "secret").is_file():
        os.chmod(secret_dir / "secret", 0o600)
    return secret_dir


def submission_path(folder: Path) -> Path:
    """The folder, or the single archive it holds when that is all it holds (an upload left zipped)."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if len(entries) == 1 and entries[0].is_file() and entries[0].name.lower().endswith(ARCHIVES):
        return entries[0]
    return folder


def isolation() -> dict:
    """The isolation tier the student's code will run under (``launch.probe``)."""
    from grader.sandbox import launch

    probe = launch.probe()
    return {"ok": bool(probe.get("ok")), "tier": probe.get("tier") if probe.get("ok") else None,
            "network": probe.get("network") or ("none (own network namespace, loopback only)"
                                               if probe.get("tier") == launch.BUBBLEWRAP else None),
            "reason": probe.get("reason"), "readable_data": probe.get("readable_data") or [],
            "description": launch.TIER_DESCRIPTIONS.get(probe.get("tier")) if probe.get("ok") else None}


def grade(root: Path, assignment: str) -> dict:
    """Grade ``root/submission`` -> the Gradescope results (raises on a failure of the grader)."""
    from grader.assignments import load_assignment
    from grader.tmpdirs import private_tmpdir

    source = root / "source"
    os.environ["GRADER_SECRET_DIR"] = str(lock_down(source))
    os.environ.setdefault("GRADER_ISOLATION", "auto")
    iso = isolation()
    if not iso["ok"]:
        raise RuntimeError(f"no isolation for the student's code works in this container: {iso['reason']}")
    budget = load_assignment(assignment).limits.grade_budget or DEFAULT_BUDGET
    work = private_tmpdir("cs231n-gradescope-")
    try:
        out = work / "results.json"
        cmd = [sys.executable, "-m", "grader", "grade", str(submission_path(root / "submission")),
               "--assignment", assignment, "--out", str(out)]
        proc = subprocess.run(cmd, cwd=source, env=dict(os.environ), capture_output=True, text=True,
                              timeout=budget + MARGIN)
        sys.stdout.write(proc.stdout[-20000:])          # the instructors' autograder output
        sys.stderr.write(proc.stderr[-20000:])
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"the grader exited with status {proc.returncode}: {proc.stderr.strip()[-3000:]}")
        graded = json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tier = (graded.get("extra_data") or {}).get("sandbox", {}).get("tier") or iso["tier"]
    return gs_results.for_gradescope(graded, {**{k: iso[k] for k in ("tier", "network", "description",
                                                                     "readable_data")}, "tier": tier})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.gradescope.run", description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("/autograder"), help="the autograder folder")
    p.add_argument("--assignment", required=True)
    args = p.parse_args(argv)
    root = args.root.resolve()
    started = time.monotonic()
    try:
        results = grade(root, args.assignment)
    except subprocess.TimeoutExpired as exc:
        results = gs_results.failure(f"the grade took longer than {exc.timeout:.0f} s and was stopped",
                                     execution_time=time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - whatever failed, Gradescope gets a results.json
        results = gs_results.failure(f"{type(exc).__name__}: {exc}", execution_time=time.monotonic() - started)
    gs_results.write(root / "results" / "results.json", results)
    print(f"results.json written: score {results['score']}, isolation "
          f"{(results.get('extra_data') or {}).get('isolation', {}).get('tier')}, "
          f"{time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
