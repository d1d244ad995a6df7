"""``selftest``: an assignment's solutions get full marks, its starter zero, and everything generated is fresh."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _report(ok: bool, what: str, detail: str = "") -> bool:
    print(f"[{'ok' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail and not ok else ""))
    return ok


def _check_generated(assignment) -> bool:
    from grader.authoring import public_checks
    from grader.authoring.starter import graded_files, starter_diff
    from grader.references import store

    problems = store.check(assignment)
    ok = _report(not problems, "reference outputs are fresh", "; ".join(problems))
    diff = starter_diff(assignment.solution_tree(), assignment.starter_dir, assignment.package,
                        public_checks.load(assignment))
    ok &= _report(not diff, f"starter/{assignment.name} is in sync with solutions/{assignment.name}",
                  ", ".join(diff[:10]))
    with_code = graded_files(assignment.solution_package)
    unlisted = sorted(set(with_code) - set(assignment.graded_files))
    absent = sorted(f for f in assignment.graded_files if not (assignment.solution_package / f).is_file())
    ok &= _report(not unlisted and not absent, "the manifest lists the graded files",
                  f"files with solution code the manifest does not grade: {unlisted}; "
                  f"graded files the solutions lack: {absent}")
    return ok


def _check_grades(assignment, which: str, results, took: float, notebooks: bool) -> bool:
    errors = results.extra_data.grader_errors
    ok = _report(not errors, f"no grader error grading the {which}", "; ".join(e["test"] for e in errors))
    nb_ids = [q.id for q in results.extra_data.questions if q.id == "NB"]
    ok &= _report(bool(nb_ids) == (notebooks and assignment.notebook_points > 0),
                  f"the notebooks {'ran' if notebooks else 'were left out'} ({which})",
                  f"questions {[q.id for q in results.extra_data.questions]}")
    if which == "solutions":
        failed = [f"{t.number} {t.name}: {t.output.splitlines()[0] if t.output else ''}"
                  for t in results.tests if t.status != "passed"]
        return ok & _report(not failed and results.score == results.extra_data.max_score,
                            f"the solutions get full marks ({results.score:g} / {results.extra_data.max_score:g}, "
                            f"{took:.1f} s)", "; ".join(failed[:10]))
    earned = [f"{t.number} {t.name}" for t in results.tests if t.score > 0]
    return ok & _report(not earned and results.score == 0, f"the starter gets zero on every test ({took:.1f} s)",
                        ", ".join(earned[:10]))


def selftest(assignment_name: str, *, sandboxed: bool = True, folder: bool = False, notebooks: bool = False) -> bool:
    """Solutions get full marks; the starter gets zero on every test; references fresh; starter in sync.

    ``folder``: grade the folders instead of the zips ``make-zips`` builds. ``notebooks``: grade the
    notebooks too (the solutions' must all run to the end, the starter's must not); without, the code
    questions only (the maximum leaves the notebooks' points out)."""
    from grader.assignments import load_assignment
    from grader.authoring.zips import build_assignment_zips
    from grader.pipeline import GraderError, grade

    assignment = load_assignment(assignment_name)
    ok = _check_generated(assignment)
    with tempfile.TemporaryDirectory(prefix="selftest-") as tmp:
        if folder:
            subs = {"solutions": assignment.solution_tree(), "starter": assignment.starter_dir}
        else:
            subs = build_assignment_zips(Path(tmp), assignment)
        for which in ("solutions", "starter"):
            t0 = time.monotonic()
            try:
                results = grade(Path(subs[which]), assignment_name, sandboxed=sandboxed, notebooks=notebooks)
            except GraderError as exc:
                ok &= _report(False, f"grading the {which}", str(exc))
                continue
            ok &= _check_grades(assignment, which, results, time.monotonic() - t0, notebooks)
    return bool(ok)
