"""Running an assignment's hidden suites with pytest in this (trusted) process, quietly."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager, redirect_stdout

from grader.assignments import Assignment
from grader.errors import GraderError
from grader.suites import plugin as suite_plugin_module
from grader.suites.plugin import SuitePlugin


@contextmanager
def _quiet_pytest():
    """pytest.main prints a session header and tracebacks; keep the grader's own stdout clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def run_suites(plugin: SuitePlugin, assignment: Assignment) -> None:
    import pytest

    args = [str(p) for p in assignment.suite_paths()] + [
        "-c", os.devnull, "--rootdir", str(assignment.suites_dir), "-q", "--assert=plain", "--capture=no", "--tb=no",
        "-o", "python_files=q*_*.py", "-o", "python_functions=test_*", "-o", "python_classes=",
        "-p", "no:cacheprovider", "-p", "no:faulthandler", "-p", "no:warnings", "-p", "no:logging",
        "-p", "no:doctest", "-p", "no:junitxml", "-p", "no:pastebin", "-p", "no:stepwise",
        "-p", "no:unraisableexception",      # its two gc.collect() at the end cost 50 ms per grade
        "--disable-warnings", "-W", "ignore",
    ]
    with _quiet_pytest():
        code = pytest.main(args, plugins=[plugin, suite_plugin_module])
    if plugin.prepare_error is not None:
        raise plugin.prepare_error
    if plugin.collection_errors or int(code) in (2, 3, 4):
        detail = "\n".join(plugin.collection_errors) or f"pytest exit code {int(code)}"
        raise GraderError(f"the hidden suites could not run: {detail}")
    expected = [(q.module, t) for q in assignment.questions for t in q.tests]
    if sorted(plugin.collected) != sorted(expected):
        missing = sorted(set(expected) - set(plugin.collected))
        extra = sorted(set(plugin.collected) - set(expected))
        raise GraderError(f"the suites and the manifest disagree: listed but not found {missing}; "
                          f"found but not listed {extra}")
