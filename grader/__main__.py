"""The grader's command line.

    python -m grader list                                                       the assignments found
    python -m grader caps                                                       the caps on kept text
    python -m grader grade SUBMISSION --assignment A --out results.json [--no-notebooks] [--no-sandbox]
                                                        [--datasets DIR]     DIR/cifar-10-batches-py for notebooks
    python -m grader selftest [--assignment A ...] [--folder] [--notebooks] [--no-sandbox]
    python -m grader refresh-references [--assignment A ...] [--check] [--keep-calibration]
    python -m grader make-starter [--assignment A ...]
    python -m grader make-zips OUT_DIR [--assignment A ...]                     OUT_DIR/<A>/{starter,solutions}.zip
    python -m grader grade-batch DIR --assignment A --out-dir OUT [--jobs N]   (grader/batch.py)
    python -m grader report RESULTS.json [--format md|html] [--out FILE]       (grader/report.py)

Commands that take ``--assignment`` several times do every assignment found when it is not given
(``grader.assignments``: the repository's and those of ``$GRADER_COURSE_DIRS``); ``grade`` needs it unless
there is only one assignment.

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
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _err(msg: str) -> None:
    print(f"grader: error: {msg}", file=sys.stderr)


# ------------------------------------------------------------------------------------------------ grade
def _assignments(args) -> list[str]:
    from grader.assignments import available

    return list(dict.fromkeys(args.assignment)) if args.assignment else available()


def _one_assignment(args) -> str | None:
    from grader.assignments import available

    if args.assignment:
        return args.assignment
    found = available()
    if len(found) == 1:
        return found[0]
    _err(f"say which assignment: --assignment {' | '.join(found) or '(none found)'}")
    return None


def cmd_list(args) -> int:
    from grader.assignments import available, load_assignment

    for name in available():
        a = load_assignment(name)
        print(f"{name:<16}{a.title}  ({len(a.questions)} questions, {a.max_score + a.notebook_points:g} points)")
    return EXIT_OK


def cmd_caps(args) -> int:
    from grader import caps

    print(caps.table())
    return EXIT_OK


def cmd_grade(args) -> int:
    from grader.pipeline import GraderError, grade

    name = _one_assignment(args)
    if name is None:
        return EXIT_ERROR
    artifacts = None
    if args.out and not args.no_notebooks:
        from grader.notebooks import artifacts_dir

        artifacts = artifacts_dir(Path(args.out))
    try:
        results = grade(Path(args.submission), name, sandboxed=not args.no_sandbox,
                        notebooks=not args.no_notebooks, artifacts_dir=artifacts,
                        train_ahead=not args.no_train_ahead,
                        datasets_dir=Path(args.datasets) if args.datasets else None)
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


def cmd_selftest(args) -> int:
    from grader.authoring.selftest import selftest

    passed = True
    for name in _assignments(args):
        print(f"== {name}")
        try:
            passed &= selftest(name, sandboxed=not args.no_sandbox, folder=args.folder, notebooks=args.notebooks)
        except Exception as exc:  # noqa: BLE001 - a configuration problem is reported, not a traceback
            _err(f"{name}: {type(exc).__name__}: {exc}")
            return EXIT_ERROR
    print("selftest passed" if passed else "selftest FAILED")
    return EXIT_OK if passed else EXIT_FAILED


# ------------------------------------------------------------------------------------------ references
def cmd_refresh_references(args) -> int:
    import json

    from grader.assignments import load_assignment
    from grader.references import store

    if args.check:
        stale = False
        for name in _assignments(args):
            problems = store.check(load_assignment(name))
            for p in problems:
                print(f"stale: {name}: {p}")
            stale |= bool(problems)
        print("reference outputs are fresh" if not stale else "reference outputs are STALE: run "
              "`python -m grader refresh-references`")
        return EXIT_OK if not stale else EXIT_FAILED
    for name in _assignments(args):
        t0 = time.monotonic()
        assignment = load_assignment(name)
        written = store.refresh(assignment, recalibrate=not args.keep_calibration)
        for p in written:
            print(f"wrote reference_outputs/{name}/{p.name}")
        manifest = json.loads((assignment.references_dir / "manifest.json").read_text())
        for check, cal in manifest["calibration"].items():
            baselines = "; ".join(f"{key.removesuffix('_accuracies')} max {max(cal[key]):.3f}" for key in sorted(cal)
                                  if key.endswith("_accuracies") and cal[key])
            print(f"calibration {check}: threshold {cal['threshold']:.2f}; reference min {min(cal['accuracies']):.3f} "
                  f"over {len(cal['seeds'])} seeds ({cal['failures']} failures); {baselines}")
        print(f"{name}: done in {time.monotonic() - t0:.1f} s")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- authoring
def cmd_make_starter(args) -> int:
    from grader import authoring
    from grader.assignments import load_assignment

    for name in _assignments(args):
        a = load_assignment(name)
        written = authoring.make_starter(a.solution_tree(), a.starter_dir, a.package, authoring.public_checks.load(a))
        print(f"starter generated: {len(written)} files in starter/{name}")
    return EXIT_OK


def cmd_make_zips(args) -> int:
    from grader import authoring
    from grader.assignments import load_assignment

    for name in _assignments(args):
        built = authoring.build_assignment_zips(Path(args.out_dir) / name, load_assignment(name))
        for key, path in built.items():
            print(f"{name} {key}: {path}")
    return EXIT_OK


def cmd_export_gradescope(args) -> int:
    from grader.gradescope.export import export

    name = _one_assignment(args)
    if name is None:
        return EXIT_ERROR
    path = export(name, Path(args.out))
    print(f"Gradescope autograder of {name}: {path} ({path.stat().st_size / 2 ** 20:.1f} MiB); upload it as the "
          "assignment's autograder (Ubuntu base image)")
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

    p = sub.add_parser("list", help="the assignments found")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("caps", help="every cap on the text and data kept of a submission, with what it bounds")
    p.set_defaults(func=cmd_caps)

    p = sub.add_parser("grade", help="grade one submission (.zip, .tar or folder)")
    p.add_argument("submission")
    p.add_argument("--assignment", help="the assignment (needed when there are several)")
    p.add_argument("--out", help="write the Gradescope results.json here")
    p.add_argument("--no-notebooks", action="store_true",
                   help="grade the code questions only (the maximum then leaves the notebooks' points out)")
    p.add_argument("--datasets", metavar="DIR",
                   help="a folder holding cifar-10-batches-py/ (official format) that the notebooks see read-only "
                        "(default $GRADER_DATASETS_DIR); without it a notebook that needs CIFAR-10 is left out "
                        "of the maximum as not gradable here"),
    p.add_argument("--no-sandbox", action="store_true",
                   help="run the student's code WITHOUT isolation (only when no sandbox works here)")
    p.add_argument("--no-train-ahead", action="store_true",
                   help="train the training checks after the unit checks, in the same worker (one core per "
                        "grade: what grade-batch does, which uses the cores with --jobs)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("selftest", help="solutions get full marks, the starter zero, references fresh")
    p.add_argument("--assignment", action="append", help="this assignment only (repeatable; default: all)")
    p.add_argument("--folder", action="store_true", help="grade the folders instead of zips built by make-zips")
    p.add_argument("--notebooks", action="store_true", help="grade the notebooks too (about two minutes more)")
    p.add_argument("--no-sandbox", action="store_true")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("refresh-references", help="regenerate reference_outputs/ from the solutions")
    p.add_argument("--assignment", action="append", help="this assignment only (repeatable; default: all)")
    p.add_argument("--check", action="store_true", help="exit 1 when the stored files are stale")
    p.add_argument("--keep-calibration", action="store_true",
                   help="reuse the stored calibration when the solution and the training specs are unchanged")
    p.set_defaults(func=cmd_refresh_references)

    p = sub.add_parser("make-starter", help="generate starter/ from solutions/")
    p.add_argument("--assignment", action="append", help="this assignment only (repeatable; default: all)")
    p.set_defaults(func=cmd_make_starter)

    p = sub.add_parser("make-zips", help="build starter.zip and solutions.zip")
    p.add_argument("out_dir")
    p.add_argument("--assignment", action="append", help="this assignment only (repeatable; default: all)")
    p.set_defaults(func=cmd_make_zips)

    p = sub.add_parser("export-gradescope", help="write the Gradescope autograder zip of an assignment")
    p.add_argument("--assignment", help="the assignment (needed when there are several)")
    p.add_argument("--out", required=True, help="the zip to write (autograder.zip)")
    p.set_defaults(func=cmd_export_gradescope)

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
