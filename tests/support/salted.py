"""Grading one submission's code under many salts (many sets of hidden inputs) with one sandbox, for the
tolerance calibration: the real suites and the real sandbox, only the salt is chosen by the test.

``grade_under_salts(package_dir, questions, salts)`` -> ``{salt index: {test: Outcome}}`` and the largest
grading error every named comparison saw (``errors``: ``{(test, value name, tolerance): max error}``; the
comparisons of the hints' probes, named ``value``, are left out)."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from grader import checks, compat
from grader.assemble import assemble_package
from grader.assignments import load_assignment
from grader.references import References
from grader.session import SandboxStarter, default_sandbox_factory
from grader.suites.plugin import SubmissionInfo, SuitePlugin
from grader.suites.runner import run_suites


def salt(i: int) -> bytes:
    return hashlib.sha256(b"calibration salt %d" % i).digest()


class _ErrorLog:
    """Wraps checks.close / close_scalar to keep the largest error per (test, value name, tolerance)."""

    def __init__(self):
        self.errors: dict[tuple[str, str, float], float] = defaultdict(float)
        self.test = ""

    def wrap(self, fn, is_scalar: bool):
        def wrapped(value, expected, name, tol, hint=None):
            if name == "value":
                return fn(value, expected, name, tol, hint=hint)
            try:
                err = (checks.scalar_error(checks.scalar(value, name), float(expected)) if is_scalar else
                       checks.grading_error(checks.array(value, name, shape=getattr(expected, "shape", None)), expected))
                key = (self.test, name.split(" (")[0], float(tol))
                self.errors[key] = max(self.errors[key], err)
            except checks.CheckFailure:
                pass
            return fn(value, expected, name, tol, hint=hint)
        return wrapped


def grade_under_salts(submission_pkg: Path, tmp: Path, questions: list[str], salts: range,
                      assignment_name: str = "assignment2", monkeypatch=None):
    a = load_assignment(assignment_name)
    part = a.model_copy(update={"questions": [q for q in a.questions if q.id in questions]})
    report = assemble_package(submission_pkg, a.provided_package, a.graded_files, tmp / "assembled" / a.package)
    info = SubmissionInfo(constructor_params=compat.constructor_parameters(report.package, a.model_classes))
    starter = SandboxStarter(default_sandbox_factory(True), report.package, part, info)
    log = _ErrorLog()
    if monkeypatch is not None:
        monkeypatch.setattr(checks, "close", log.wrap(checks.close, False))
        monkeypatch.setattr(checks, "close_scalar", log.wrap(checks.close_scalar, True))
    refs = References(a)
    outcomes = {}
    try:
        starter.ready()
        for i in salts:
            plugin = SuitePlugin(sandbox=starter.sandbox, refs=refs.with_salt(salt(i)), assignment=part,
                                 submission=info)
            original = plugin.pytest_runtest_setup

            def setup(item, _original=original):
                log.test = item.name
                return _original(item)
            plugin.pytest_runtest_setup = setup
            run_suites(plugin, part)
            outcomes[i] = {name: o for (_, name), o in plugin.outcomes.items()}
    finally:
        starter.close()
    return outcomes, dict(log.errors), info
