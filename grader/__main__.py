"""The grader's command line.

    python -m grader grade SUBMISSION --assignment assignment2 --out results.json [--no-notebooks] [--no-sandbox]
    python -m grader selftest [--assignment assignment2] [--folder] [--notebooks] [--no-sandbox]
    python -m grader refresh-references [--check] [--keep-calibration]
    python -m grader make-starter
    python -m grader make-zips OUT_DIR
    python -m grader grade-batch DIR --assignment A --out-dir OUT [--jobs N]   (grader/batch.py)
    python -m grader report RESULTS.json [--format md|html] [--out FILE]       (grader/report.py)

Exit status: 0 when the command did its job (for ``grade``: grading finished, whatever the score); 1 when
a check failed (``selftest``, ``refresh-references --check``); 2 for a grader or configuration error
(bad manifest, stale or missing reference outputs, no working sandbox without ``--no-sandbox``, no usable
secret).

``grade`` runs the code questions and then the manifest's notebooks (question ``NB``; the executed
notebooks go to ``<results>_notebooks/`` beside ``--out``). ``--no-notebooks`` grades the code only: the
maximum score then leaves the notebooks' points out and the output says so. ``selftest`` grades the code
only unless ``--notebooks`` is given (the notebooks add about two minutes).

The hidden inputs of ``grade`` are drawn per submission from a salt: an HMAC of the graded files under the
grader's secret, ``$GRADER_SECRET`` or a random secret kept in ``$GRADER_SECRET_DIR/secret`` (default
``~/.cache/cs231n-grader/secret``, created on first use). Grading the same files again gives the same
inputs and scores; machines that grade one course should share ``$GRADER_SECRET``. See ``grader/secret.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _err(msg: str) -> None:
    print(f"grader: error: {msg}", file=sys.stderr)


# ------------------------------------------------------------------------------------------------ grade
def cmd_grade(args) -> int:
    from grader.grade import GraderError, grade

    artifacts = None
    if args.out and not args.no_notebooks:
        from grader.notebooks import artifacts_dir

        artifacts = artifacts_dir(Path(args.out))
    try:
        results = grade(Path(args.submission), args.assignment, sandboxed=not args.no_sandbox,
                        notebooks=not args.no_notebooks, artifacts_dir=artifacts,
                        train_ahead=not args.no_train_ahead)
    except GraderError as exc:
        _err(str(exc))
        return EXIT_ERROR
    if args.out:
        results.write(Path(args.out))
    print(results.question_table())
    if not results.extra_data.sandbox.get("sandboxed", False):
        print("WARNING: graded WITHOUT a sandbox (--no-sandbox)")
    if results.extra_data.grader_errors:
        print(f"{len(results.extra_data.grader_errors)} grader error(s); see stderr", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------------------------- selftest
def _report(ok: bool, what: str, detail: str = "") -> bool:
    print(f"[{'ok' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail and not ok else ""))
    return ok


def selftest(assignment_name: str = "assignment2", *, sandboxed: bool = True, folder: bool = False,
             notebooks: bool = False) -> bool:
    """Solutions get full marks; the starter gets zero on every test; references fresh; starter in sync.

    ``notebooks``: grade the notebooks too (the solutions' must all run to the end, the starter's must not);
    without, the code questions only (the maximum leaves the notebooks' points out)."""
    from grader import authoring, references
    from grader.assignments import load_assignment
    from grader.grade import GraderError, grade

    assignment = load_assignment(assignment_name)
    ok = True
    problems = references.check(assignment_name)
    ok &= _report(not problems, "reference outputs are fresh", "; ".join(problems))
    diff = authoring.starter_diff(authoring.SOLUTIONS, authoring.STARTER)
    ok &= _report(not diff, "starter/ is in sync with solutions/", ", ".join(diff[:10]))
    graded = authoring.graded_files(authoring.SOLUTIONS / "cs231n")
    ok &= _report(sorted(graded) == sorted(assignment.graded_files), "the manifest lists the graded files",
                  f"solutions have {graded}, manifest {assignment.graded_files}")
    with tempfile.TemporaryDirectory(prefix="selftest-") as tmp:
        if folder:
            subs = {"solutions": authoring.SOLUTIONS, "starter": authoring.STARTER}
        else:
            subs = authoring.build_zips(Path(tmp))
        for which, path in (("solutions", subs["solutions"]), ("starter", subs["starter"])):
            t0 = time.monotonic()
            try:
                results = grade(Path(path), assignment_name, sandboxed=sandboxed, notebooks=notebooks)
            except GraderError as exc:
                ok &= _report(False, f"grading the {which}", str(exc))
                continue
            took = time.monotonic() - t0
            errors = results.extra_data.grader_errors
            ok &= _report(not errors, f"no grader error grading the {which}", "; ".join(e["test"] for e in errors))
            nb_ids = [q.id for q in results.extra_data.questions if q.id == "NB"]
            ok &= _report(bool(nb_ids) == (notebooks and assignment.notebook_points > 0),
                          f"the notebooks {'ran' if notebooks else 'were left out'} ({which})",
                          f"questions {[q.id for q in results.extra_data.questions]}")
            if which == "solutions":
                failed = [f"{t.number} {t.name}: {t.output.splitlines()[0] if t.output else ''}"
                          for t in results.tests if t.status != "passed"]
                ok &= _report(not failed and results.score == results.extra_data.max_score,
                              f"the solutions get full marks ({results.score:g} / {results.extra_data.max_score:g}, "
                              f"{took:.1f} s)", "; ".join(failed[:10]))
            else:
                earned = [f"{t.number} {t.name}" for t in results.tests if t.score > 0]
                ok &= _report(not earned and results.score == 0,
                              f"the starter gets zero on every test ({took:.1f} s)", ", ".join(earned[:10]))
    return bool(ok)


def cmd_selftest(args) -> int:
    try:
        passed = selftest(args.assignment, sandboxed=not args.no_sandbox, folder=args.folder,
                          notebooks=args.notebooks)
    except Exception as exc:  # noqa: BLE001 - a configuration problem is reported, not a traceback
        _err(f"{type(exc).__name__}: {exc}")
        return EXIT_ERROR
    print("selftest passed" if passed else "selftest FAILED")
    return EXIT_OK if passed else EXIT_FAILED


# ------------------------------------------------------------------------------------------ references
def cmd_refresh_references(args) -> int:
    from grader import references

    if args.check:
        problems = references.check(args.assignment)
        for p in problems:
            print(f"stale: {p}")
        print("reference outputs are fresh" if not problems else "reference outputs are STALE: run "
              "`python -m grader refresh-references`")
        return EXIT_OK if not problems else EXIT_FAILED
    t0 = time.monotonic()
    written = references.refresh(args.assignment, recalibrate=not args.keep_calibration)
    for p in written:
        print(f"wrote {p.relative_to(references.ROOT)}")
    import json
    manifest = json.loads((references.output_dir(args.assignment) / "manifest.json").read_text())
    for name, cal in manifest["calibration"].items():
        print(f"calibration {name}: threshold {cal['threshold']:.2f}; reference min {min(cal['accuracies']):.3f} "
              f"over {len(cal['seeds'])} seeds ({cal['failures']} failures); linear max "
              f"{max(cal['linear_accuracies']):.3f}; untrained max {max(cal['untrained_accuracies']):.3f}")
    print(f"done in {time.monotonic() - t0:.1f} s")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- authoring
def cmd_make_starter(args) -> int:
    from grader import authoring

    written = authoring.make_starter(authoring.SOLUTIONS, authoring.STARTER)
    print(f"starter generated: {len(written)} files in {authoring.STARTER}")
    return EXIT_OK


def cmd_make_zips(args) -> int:
    from grader import authoring

    built = authoring.build_zips(Path(args.out_dir))
    for key, path in built.items():
        print(f"{key}: {path}")
    return EXIT_OK


def cmd_delegate(args) -> int:
    """``grade-batch`` and ``report`` live in their own modules (``grader.batch``, ``grader.report``)."""
    import importlib

    module_name = {"grade-batch": "grader.batch", "report": "grader.report"}[args.command]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        _err(f"`{args.command}` is not available: {exc}")
        return EXIT_ERROR
    return module.main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="CS231n-style assignment grader")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one submission (.zip, .tar or folder)")
    p.add_argument("submission")
    p.add_argument("--assignment", default="assignment2")
    p.add_argument("--out", help="write the Gradescope results.json here")
    p.add_argument("--no-notebooks", action="store_true",
                   help="grade the code questions only (the maximum then leaves the notebooks' points out)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run the student's code WITHOUT isolation (only when no sandbox works here)")
    p.add_argument("--no-train-ahead", action="store_true",
                   help="train the training checks after the unit checks, in the same worker (one core per "
                        "grade: what grade-batch does, which uses the cores with --jobs)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("selftest", help="solutions get full marks, the starter zero, references fresh")
    p.add_argument("--assignment", default="assignment2")
    p.add_argument("--folder", action="store_true", help="grade the folders instead of zips built by make-zips")
    p.add_argument("--notebooks", action="store_true", help="grade the notebooks too (about two minutes more)")
    p.add_argument("--no-sandbox", action="store_true")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("refresh-references", help="regenerate reference_outputs/ from the solutions")
    p.add_argument("--assignment", default="assignment2")
    p.add_argument("--check", action="store_true", help="exit 1 when the stored files are stale")
    p.add_argument("--keep-calibration", action="store_true",
                   help="reuse the stored calibration when the solution and the training specs are unchanged")
    p.set_defaults(func=cmd_refresh_references)

    p = sub.add_parser("make-starter", help="generate starter/ from solutions/")
    p.set_defaults(func=cmd_make_starter)

    p = sub.add_parser("make-zips", help="build starter.zip and solutions.zip")
    p.add_argument("out_dir")
    p.set_defaults(func=cmd_make_zips)

    for name, what in (("grade-batch", "grade every submission of a folder (see grader/batch.py)"),
                       ("report", "render a results.json as Markdown or HTML (see grader/report.py)")):
        p = sub.add_parser(name, help=what, add_help=False)   # --help goes to the module's own parser
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=cmd_delegate)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("grade-batch", "report"):   # their own parsers (also for --help)
        return cmd_delegate(argparse.Namespace(command=argv[0], rest=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - configuration errors (bad manifest, missing files)
        from grader.assignments import ManifestError
        from grader.references import ReferenceError

        if isinstance(exc, (ManifestError, ReferenceError)):
            _err(str(exc))
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
