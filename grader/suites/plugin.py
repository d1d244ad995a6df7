"""The pytest plugin that runs the hidden suites against one submission (trusted side).

``grader.pipeline`` builds a :class:`SuitePlugin` and calls ``pytest.main(..., plugins=[plugin])``. The
plugin provides the fixtures the suites use and records one :class:`Outcome` per test:

- ``sb``: a :class:`GuardedSandbox` around the submission's Sandbox: the same API, but every call gets
  ``timeout = min(requested or limits.call_timeout, time left for the whole submission)``, and once the
  total time is spent every call fails at once; ``sb.submission`` is the :class:`SubmissionInfo`;
- ``ref`` (``grader.references.References``), ``hint`` (the assignment's ``hints.py``), ``limits``, ``seed``,
  ``assignment`` and ``submission`` (a :class:`SubmissionInfo`).

A test fails, without costing the other tests anything, when a check fails (``CheckFailure``), when the
student's code raises (``StudentError``), runs too long (``StudentTimeout``) or kills its worker
(``SandboxCrash``) - the sandbox starts a fresh worker for the next test. Before a test runs, the plugin
refuses it (zero, with the reason) when a graded file it uses (``@pytest.mark.files``) is missing from the
submission or could not be imported, or when the time for the whole submission is spent. Any other
exception is a grader error: the test scores zero and the error is reported separately.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import caps, checks
from grader.checks import CheckFailure
from grader.sandbox.proxy import SandboxCrash, SandboxError, StaleHandle, StudentError, StudentTimeout
from grader.text import clean



class OutOfTime(Exception):
    """The total time of the submission is spent."""


class NotGraded(Exception):
    """The test cannot be graded (a file it uses is missing or does not import)."""


@dataclass
class SubmissionInfo:
    """What the suites may know about the upload (trusted paths, never student code)."""

    best_model: Path | None = None
    substituted: dict[str, str] = field(default_factory=dict)   # graded file -> why it is not the student's
    broken: dict[str, str] = field(default_factory=dict)        # graded file -> why it does not import
    # graded file -> the modules it imports at its top level that the grader does not have (placeholders)
    missing_imports: dict[str, list[str]] = field(default_factory=dict)
    # model class name -> its __init__ parameter names, read from the source (``grader.compat``; None:
    # unknown), so the suites pass keywords the submission's constructor accepts (``compat.adapt_kwargs``)
    constructor_params: dict[str, list[str] | None] = field(default_factory=dict)
    # the Solver histories of the training checks (``grader.report.training_curve`` entries)
    training_curves: list[dict] = field(default_factory=list)
    # the training checks running ahead in a second sandbox (``_training.TrainingRunner``), or None
    trainings: object | None = None
    # names of the student's code that did not finish in time in the code questions (a function or method
    # called, a module imported): a notebook cell that calls one of them gets a short time limit
    timed_out: set[str] = field(default_factory=set)
    # measurements of the submission the suites make besides pass/fail (e.g. the best model's accuracy):
    # {title: number}, kept in results.json's extra_data.measures (an export may publish them, e.g. on a
    # Gradescope leaderboard)
    measures: dict[str, float] = field(default_factory=dict)


@dataclass
class Outcome:
    module: str
    name: str
    passed: bool
    output: str
    duration: float
    grader_error: str | None = None


class GuardedSandbox:
    """The Sandbox API with the plugin's time budget applied to every call."""

    def __init__(self, sandbox, plugin: "SuitePlugin"):
        self._sb = sandbox
        self._plugin = plugin
        self.submission: SubmissionInfo = plugin._submission   # what the helpers of _common may know
        self.package: str = plugin._assignment.package           # the name the submission's package has

    def _timeout(self, requested: float | None) -> float:
        left = self._plugin.time_left()
        if left <= 0:
            raise OutOfTime()
        wanted = self._plugin._limits.call_timeout if requested is None else float(requested)
        return max(0.05, min(wanted, left))

    def _noting_timeouts(self, name, run):
        try:
            return run()
        except StudentTimeout:
            if isinstance(name, str):
                self.submission.timed_out.add(name.rsplit(".", 1)[-1])
            raise

    def call(self, target, /, *args, keep=(), timeout=None, watch=False, **kwargs):
        if watch:
            kwargs["watch"] = True
        return self._noting_timeouts(target, lambda: self._sb.call(
            target, *args, keep=keep, timeout=self._timeout(timeout), **kwargs))

    @property
    def last_modified(self) -> list[int]:
        return list(getattr(self._sb, "last_modified", []))

    def new(self, target, /, *args, timeout=None, **kwargs):
        return self._noting_timeouts(target, lambda: self._sb.new(
            target, *args, timeout=self._timeout(timeout), **kwargs))

    def call_method(self, obj, name, /, *args, keep=(), timeout=None, **kwargs):
        return self._noting_timeouts(name, lambda: self._sb.call_method(
            obj, name, *args, keep=keep, timeout=self._timeout(timeout), **kwargs))

    def getattr(self, obj, name, *, timeout=None):
        return self._sb.getattr(obj, name, timeout=self._timeout(timeout))

    def setattr(self, obj, name, value, *, timeout=None):
        return self._sb.setattr(obj, name, value, timeout=self._timeout(timeout))

    def setitem(self, obj, path, value, *, timeout=None):
        return self._sb.setitem(obj, path, value, timeout=self._timeout(timeout))

    def fetch(self, obj, *, timeout=None):
        return self._sb.fetch(obj, timeout=self._timeout(timeout))

    def put(self, value, *, timeout=None):
        return self._sb.put(value, timeout=self._timeout(timeout))

    def seed(self, seed, *, timeout=None):
        return self._sb.seed(seed, timeout=self._timeout(timeout))

    def flush(self):
        return self._sb.flush()

    def release(self, *handles):
        return self._sb.release(*handles)


def _clip(text: str, n: int) -> str:
    return clean(text, n)


def feedback(exc: BaseException, limits) -> tuple[str, str | None]:
    """``(student-facing text, grader error or None)`` for an exception that ended a test.

    The text is cleaned and clipped to ``caps.FEEDBACK`` characters. Whatever the sandbox worker reports
    is the student's (the worker runs the student's code and can answer with frames of its own): only an
    exception of the trusted side itself is a grader error."""
    text, error = _feedback(exc, limits)
    return _clip(text, caps.FEEDBACK), error


def _feedback(exc: BaseException, limits) -> tuple[str, str | None]:
    if isinstance(exc, CheckFailure):
        return str(exc), None
    if isinstance(exc, StudentError):
        text = f"Your code raised {_clip(exc.exc_type, caps.FEEDBACK_TYPE)}: {_clip(exc.message, caps.FEEDBACK_MESSAGE)}"
        tb = (exc.traceback or "").strip()
        if tb.startswith("Traceback"):
            text += "\n" + _clip(tb[-caps.FEEDBACK_TRACEBACK:], caps.FEEDBACK_TRACEBACK)
        return text, None
    if isinstance(exc, StudentTimeout):
        return ("Your code did not finish in time and was stopped "
                f"({_clip(str(exc), caps.FEEDBACK_MESSAGE)}). Look for an infinite loop or very slow code."), None
    if isinstance(exc, (SandboxCrash, StaleHandle)):
        return ("The process running your code died during this test (for example os._exit, a crash in "
                f"native code, or running out of memory): {_clip(str(exc), caps.FEEDBACK_MESSAGE)}"), None
    if isinstance(exc, SandboxError):   # RequestError and any other kind the worker may claim
        return ("The process running your code answered with an error instead of a result "
                f"({_clip(str(exc), caps.FEEDBACK_MESSAGE)})."), None
    if isinstance(exc, OutOfTime):
        return (f"Not graded: the time limit for all code questions together ({limits.total_time:g} s) was "
                "used up before this test ran (earlier tests timed out or ran very slowly)."), None
    if isinstance(exc, NotGraded):
        return str(exc), None
    if isinstance(exc, AssertionError):
        return f"Check failed: {_clip(str(exc), caps.FEEDBACK_MESSAGE)}", None
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ("The grader could not check this test (internal grader error); it scores zero and the course "
            "staff has been notified."), _clip(detail, 8000)


class SuitePlugin:
    """Fixtures and outcome recording for one grading session (see the module doc)."""

    def __init__(self, *, sandbox, refs, assignment, submission: SubmissionInfo, started: float | None = None,
                 prepare=None):
        # Private names: the public ones are the fixtures below (pytest reads the plugin's attributes).
        self._sandbox = sandbox
        self._refs = refs
        self._assignment = assignment
        self._limits = assignment.limits
        self._submission = submission
        self.started = time.monotonic() if started is None else started
        self.outcomes: dict[tuple[str, str], Outcome] = {}
        self.collected: list[tuple[str, str]] = []
        self.collection_errors: list[str] = []
        self._guarded = GuardedSandbox(sandbox, self) if sandbox is not None else None
        self._exc: dict[str, BaseException] = {}
        self._prepare = prepare          # called before the first test using `sb`: wait for it, probe imports
        self.prepare_error: BaseException | None = None

    def time_left(self) -> float:
        return self._limits.total_time - (time.monotonic() - self.started)

    # ------------------------------------------------------------------------------------ hooks
    @staticmethod
    def key(item) -> tuple[str, str]:
        return Path(str(item.fspath)).stem, item.name

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "files(*paths): graded files of the package the test exercises")
        config.stash[PLUGIN_KEY] = self

    def guarded_sandbox(self) -> GuardedSandbox:
        if self._guarded is None:
            raise NotGraded(f"Not graded: the submission has no {self._assignment.package} package to run.")
        return self._guarded

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-3000:]}")

    def pytest_collection_modifyitems(self, session, config, items):
        order = {}
        for qi, q in enumerate(self._assignment.questions):
            for ti, name in enumerate(q.tests):
                order[(q.module, name)] = (qi, ti)
        # Tests that never touch the sandbox (Q7) run first, while the worker is still starting.
        items.sort(key=lambda it: ("sb" in it.fixturenames, order.get(self.key(it), (len(order), 0))))
        self.collected = [self.key(it) for it in items]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        checks.take_notes()   # a test starts with no notes
        if self._prepare is not None and "sb" in item.fixturenames:
            prepare, self._prepare = self._prepare, None
            try:
                prepare()     # wait for the sandbox worker, probe the imports (once)
            except Exception as exc:  # noqa: BLE001 - a grader error: stop the session, re-raised by the caller
                self.prepare_error = exc
                item.session.shouldstop = "the sandbox could not start"
                raise NotGraded("Not graded: the grader could not start the sandbox.") from None
        marker = item.get_closest_marker("files")
        files = marker.args if marker is not None else ()
        for f in files:
            if f in self._submission.substituted:
                raise NotGraded(f"Not graded: {self._assignment.package}/{f} {self._submission.substituted[f]}.")
        for f in files:
            if f in self._submission.broken:
                raise NotGraded(f"Not graded: {self._assignment.package}/{f} could not be imported.\n"
                                f"{self._submission.broken[f]}")
        if self.time_left() <= 0:
            raise OutOfTime()

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """A test that used the sandbox ends when the requests it sent ahead are answered: their first
        error fails this test (and never the next one)."""
        if "sb" not in pyfuncitem.fixturenames or self._guarded is None:
            return (yield)
        try:
            result = yield
        except BaseException:
            try:
                self._guarded.flush()
            except Exception:  # noqa: BLE001 - the test already failed; its first error is reported
                pass
            raise
        self._guarded.flush()
        return result

    def _missing_import_note(self, item, text: str) -> str:
        """A failed test of a file that imports modules the grader does not have says so."""
        marker = item.get_closest_marker("files")
        package = self._assignment.package
        notes = [f"{package}/{f} imports {', '.join(self._submission.missing_imports[f])}, which the grader "
                 "does not have (submit only the graded files; anything else they import must be a file the "
                 "course provides)" for f in (marker.args if marker is not None else ())
                 if self._submission.missing_imports.get(f)]
        if not notes:
            return text
        return _clip(text + "\nNote: " + "; ".join(notes) + ".", caps.FEEDBACK)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        key = self.key(item)
        if call.excinfo is not None and report.failed:
            self._exc.setdefault(item.nodeid, call.excinfo.value)
        if report.when == "call" or (report.when == "setup" and report.failed):
            exc = self._exc.pop(item.nodeid, None)
            notes = "".join(f"\nNote: {clean(n, caps.FEEDBACK_MESSAGE)}" for n in checks.take_notes())
            if report.passed:
                self.outcomes[key] = Outcome(key[0], key[1], True, _clip(notes.lstrip("\n"), caps.FEEDBACK),
                                             call.duration)
            else:
                text, error = feedback(exc, self._limits) if exc is not None else ("Failed.", None)
                text = self._missing_import_note(item, text + notes)
                self.outcomes[key] = Outcome(key[0], key[1], False, text, call.duration, error)
        elif report.when == "teardown" and report.failed and key in self.outcomes:
            exc = self._exc.pop(item.nodeid, None)
            text, error = feedback(exc, self._limits) if exc is not None else ("Failed.", None)
            previous = self.outcomes[key]
            self.outcomes[key] = Outcome(key[0], key[1], False, text, previous.duration, error)


# ---------------------------------------------------------------------------------------------- fixtures
# Module-level fixtures (this module is registered as a plugin next to the SuitePlugin instance).
PLUGIN_KEY = pytest.StashKey[SuitePlugin]()


def _plugin(request) -> SuitePlugin:
    return request.config.stash[PLUGIN_KEY]


@pytest.fixture(scope="session")
def sb(request):
    """The submission's sandbox (guarded: time budget per call)."""
    return _plugin(request).guarded_sandbox()


@pytest.fixture(scope="session")
def ref(request):
    """``ref('Q1/affine_forward')`` -> the case's inputs and expected values (trusted)."""
    return _plugin(request)._refs


@pytest.fixture(scope="session")
def hint(request):
    """The known-mistake detectors of the assignment (its ``hints.py``)."""
    return _plugin(request)._assignment.hints


@pytest.fixture(scope="session")
def limits(request):
    return _plugin(request)._limits


@pytest.fixture(scope="session")
def seed(request):
    return _plugin(request)._assignment.seed


@pytest.fixture(scope="session")
def assignment(request):
    return _plugin(request)._assignment


@pytest.fixture(scope="session")
def submission(request):
    return _plugin(request)._submission
