"""Grading one submission: unpack -> locate -> assemble -> ONE sandbox -> hidden suites -> results.

Trusted side. The flow of :func:`grade`:

1. ``archive.safe_extract`` the upload (a .zip, a tar or a folder) into a private temporary folder; an
   ``ArchiveError`` ends grading early with score 0 and the precise message (still a finished grade);
2. ``archive.locate_package`` finds ``cs231n/``; ``archive.assemble_package`` builds the package the
   sandbox imports: the graded files of the submission and every other file from ``starter/cs231n``;
3. one ``Sandbox`` serves the whole submission (a fresh worker after each timeout or crash); each graded
   module is imported once up front, so a module that does not import fails its tests at once;
4. ``pytest.main`` runs the suites of ``grader/suites`` in THIS process with ``SuitePlugin``; student code
   only ever runs in the sandbox. The hidden inputs are those of the submission's salt (``grader.secret``:
   an HMAC of its assembled graded files), with expected values computed by the reference solution.
   The suites construct models with the keywords the submission's constructors take (``grader.compat``:
   other CS231n years), and the Solver's histories are kept for the report (``training_curves``).
   With ``train_ahead`` the training checks train meanwhile in a second sandbox (``start_trainings``);
5. the dropout convention of ``dropout_forward`` is measured (``compat.detect_dropout_semantics``): a
   submission written for the other convention gets a note saying why its dropout tests fail; the
   sandbox is closed;
6. the manifest's notebooks run top to bottom, each with its kernel in a sandbox of its own
   (``grader.notebooks``), points for running to the end (question ``NB``); the executed notebooks go to
   ``artifacts_dir``. ``notebooks=False`` skips them: the maximum then leaves their points out, and the
   output says so;
7. ``scoring.build_results`` turns the outcomes into the Gradescope results; the notebooks are merged in.

Errors of the grader itself (a bad manifest, missing reference outputs, a suite that does not import,
no working sandbox without ``sandboxed=False``) raise :class:`GraderError`: they are not the student's.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Callable

from grader import archive, compat
from grader.assignments import SUITES_DIR, Assignment, ManifestError, load_assignment
from grader.references import ReferenceError, References
from grader.scoring import Results, build_results
from grader.sandbox import launch
from grader.secret import SecretError, files_digest, grader_secret, submission_salt
from grader.tmpdirs import private_tmpdir
from grader.suites import plugin as suite_plugin_module
from grader.suites.plugin import SubmissionInfo, SuitePlugin

ROOT = Path(__file__).resolve().parent.parent
STARTER_PKG = ROOT / "starter" / "cs231n"
RETRY_IMPORT_TIMEOUT = 3.0   # s, import probes after a first import timeout (see probe_imports)


class GraderError(Exception):
    """A configuration or internal error of the grader (not the submission's fault)."""


def module_of(graded_file: str, package: str = "cs231n") -> str:
    """``'classifiers/fc_net.py'`` -> ``'cs231n.classifiers.fc_net'``."""
    return package + "." + graded_file[:-3].replace("/", ".")


def default_sandbox_factory(sandboxed: bool) -> Callable:
    """Each submission's sandbox runs under a uid of its own (``uid=None``: one from the launcher's pool), so
    the process limit of one submission (a fork bomb) cannot starve grades running beside it."""
    from grader.sandbox.proxy import Limits, Sandbox

    def make(package_dir: Path, limits) -> object:
        return Sandbox(package_dir, sandboxed=sandboxed, pipeline=True,
                       limits=Limits(timeout=limits.call_timeout, start_timeout=max(30.0, limits.startup_timeout),
                                     memory_mb=limits.memory_mb, uid=None))
    return make


def _warm_up(refs: References) -> None:
    """Trusted-side work every grade needs, done while the sandbox worker starts."""
    from grader import references

    references.reference_package()
    refs.preload()     # with the submission's salt: computes every salted case and the salted training task


def _warm_worker(sb) -> None:
    """NumPy work in the fresh worker (no student code): the first big allocations and BLAS calls of a
    new process are slow, so pay them while the trusted side is busy with its own first tests."""
    import numpy as np

    from grader.sandbox.proxy import SandboxError

    try:
        data = sb.put({"X": np.ones((2000, 196), np.float32), "W": np.ones((196, 64))})
        for _ in range(3):
            sb.call("numpy.dot", np.ones((100, 196), np.float32), np.ones((196, 64)))
        sb.release(data)
    except (SandboxError, AttributeError):
        pass   # warming up is optional (a stand-in without release, a crash: the next call restarts)


def start_trainings(factory: Callable, package_dir: Path, assignment: Assignment, info: SubmissionInfo, refs,
                    starter: "SandboxStarter"):
    """Start the sandbox part of the training checks in a second sandbox of the submission, beside the first
    one (``_training.TrainingRunner``): they train while the unit checks run. Only when each sandbox
    is a process of its own (not a stand-in running in this process, whose NumPy random state the two
    threads would share); checks whose model or Solver file is not the student's are left out.
    -> the runner (``info.trainings``), or None."""
    from grader import references
    from grader.suites._training import TrainingRunner

    if not getattr(starter.sandbox, "separate_process", False):
        return None
    questions = {q.id for q in assignment.questions}
    names = [name for name, check in references.TRAINING_CHECKS.items()
             if check.question in questions
             and not {check.model.rsplit(".", 1)[0].replace(".", "/") + ".py", "solver.py"} & set(info.substituted)]
    if not names:
        return None
    info.trainings = TrainingRunner(factory, package_dir, assignment.limits, names, assignment.seed,
                                    getattr(refs, "salt", None), info)
    return info.trainings


def probe_imports(sb, assignment: Assignment) -> dict[str, str]:
    """Import each graded module in the sandbox once -> ``{file: why it does not import}``.

    After one import has timed out, the others get ``RETRY_IMPORT_TIMEOUT`` seconds: they usually import
    the same hanging module (``layer_utils`` imports ``layers``), and a cs231n module that imports normally
    takes milliseconds."""
    from grader.sandbox.proxy import SandboxCrash, SandboxError, StaleHandle, StudentError, StudentTimeout
    from grader.text import clean

    broken = {}
    timeout = assignment.limits.startup_timeout
    for f in assignment.graded_files:
        try:
            sb.call("importlib.import_module", module_of(f, assignment.package), timeout=timeout)
        except StudentError as exc:
            tb = (exc.traceback or "").strip()
            broken[f] = (f"{clean(exc.exc_type, 100)}: {clean(exc.message, 500)}"
                         + (f"\n{clean(tb[-3000:])}" if tb.startswith("Traceback") else ""))
        except StudentTimeout:
            broken[f] = f"importing it took longer than {timeout:g} s"
            timeout = min(timeout, RETRY_IMPORT_TIMEOUT)
        except (SandboxCrash, StaleHandle) as exc:
            broken[f] = f"the process importing it died ({clean(str(exc), 300)})"
        except SandboxError as exc:   # any other answer of the worker (which the student's code controls)
            broken[f] = f"the process importing it answered with an error ({clean(str(exc), 300)})"
    return broken


class SandboxStarter:
    """Starts the submission's sandbox and imports each graded module once, in a background thread: the
    worker's start overlaps with pytest's start, collection and the trusted-only tests; :meth:`ready`
    waits for it.

    The thread stays alive until :meth:`close`: bubblewrap runs with ``--die-with-parent``, which kills
    the worker when the *thread* that spawned it exits.
    """

    def __init__(self, factory: Callable, package_dir: Path, assignment: Assignment, info: SubmissionInfo):
        from grader.sandbox.proxy import SandboxUnavailable

        self.assignment, self.info = assignment, info
        self.error: BaseException | None = None
        self.timing: dict[str, float] = {}
        try:
            self.sandbox = factory(package_dir, assignment.limits)
        except SandboxUnavailable as exc:
            raise GraderError(str(exc)) from None
        self._release = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._start, name="sandbox-start", daemon=True)
        self._t0 = time.monotonic()
        self._thread.start()
        self._done = False

    def _start(self) -> None:
        try:
            self.sandbox.start()
            self.timing["sandbox_start"] = time.monotonic() - self._t0
            t1 = time.monotonic()
            self.info.broken.update(probe_imports(self.sandbox, self.assignment))
            self.timing["import_probe"] = time.monotonic() - t1
            _warm_worker(self.sandbox)
        except BaseException as exc:  # noqa: BLE001 - re-raised by ready() in the main thread
            self.error = exc
        self._started.set()
        self._release.wait()   # keep the worker's parent thread alive (see the class doc)

    def close(self) -> None:
        """Close the sandbox, then let the starting thread end."""
        try:
            self.sandbox.close()
        finally:
            self._release.set()
            self._thread.join(timeout=10)

    def ready(self, warm_up: Callable[[], None] | None = None) -> None:
        """Wait for the worker and the import probe (running ``warm_up`` meanwhile). Raises GraderError
        if the worker did not start."""
        from grader.sandbox.proxy import SandboxCrash, SandboxUnavailable

        if self._done:
            return
        if warm_up is not None and not self._started.is_set():
            warm_up()
        t_wait = time.monotonic()
        self._started.wait()
        self.timing["sandbox_wait"] = time.monotonic() - t_wait
        self._done = True
        if isinstance(self.error, SandboxUnavailable):
            raise GraderError(str(self.error))
        if isinstance(self.error, SandboxCrash):
            raise GraderError(f"the sandbox worker did not start: {self.error}")
        if self.error is not None:
            raise GraderError(f"the sandbox worker did not start: {type(self.error).__name__}: {self.error}")


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
        "-c", os.devnull, "--rootdir", str(SUITES_DIR), "-q", "--assert=plain", "--capture=no", "--tb=no",
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


def check_dropout_convention(sandbox, assignment: Assignment, submission_meta: dict) -> str | None:
    """Measure the convention of the submission's ``dropout_forward`` (``grader.compat``) into
    ``submission_meta["dropout_semantics"]`` -> the note for the output when it is not the manifest's."""
    detected = compat.detect_dropout_semantics(sandbox)
    submission_meta["dropout_semantics"] = detected
    return compat.dropout_note(detected, assignment.dropout_semantics)


def run_notebooks(assignment: Assignment, root: Path | None, package: Path | None, package_dir: Path | None, *,
                  sandboxed: bool, artifacts_dir: Path | None):
    """The manifest's notebooks of the extracted submission ``root``, run against the assembled package
    ``package_dir`` (``package``: the student's own folder, where the notebooks are looked for first).
    ``root`` None (the upload could not be unpacked): every notebook is missing, its points still count.
    Returns ``grader.notebooks.NotebookGrades``."""
    from grader import notebooks as notebook_runner   # nbclient, zmq: imported only when notebooks run

    if root is None or package_dir is None:
        return notebook_runner.not_run(assignment.notebooks, "not run: the submission could not be unpacked")
    model = assignment.best_model
    return notebook_runner.grade_notebooks(
        root, assignment.notebooks, package_dir=package_dir, student_package=package, artifacts=artifacts_dir,
        sandboxed=sandboxed, keep_files=[model.file] if model is not None else [],
        **({"keep_max_bytes": model.max_bytes} if model is not None else {}))


def grade(submission: Path, assignment_name: str = "assignment2", *, sandboxed: bool = True,
          sandbox_factory: Callable | None = None, refs: References | None = None, notebooks: bool = True,
          artifacts_dir: Path | None = None, train_ahead: bool = True) -> Results:
    """Grade ``submission`` (a .zip/.tar or a folder) -> :class:`Results`.

    ``sandbox_factory(package_dir, limits)`` builds the sandbox (default: ``grader.sandbox.proxy.Sandbox``
    with ``sandboxed``). ``notebooks``: also run the manifest's notebooks (False: the code questions only;
    the maximum then leaves the notebooks' points out). ``artifacts_dir``: where the executed notebooks
    (and the model the notebooks saved) are written (``grader.notebooks.artifacts_dir(results.json)``;
    None: not kept). ``train_ahead``: the training checks train in a second sandbox while the unit checks
    run (``start_trainings``; False: in the first one, after them). Raises :class:`GraderError` for
    configuration errors only.
    """
    t0 = time.monotonic()
    launch.tune_malloc()
    try:
        assignment = load_assignment(assignment_name)
        refs = refs or References(assignment_name)
        grader_secret()    # a missing or unusable secret is a configuration error, found before any work
    except (ManifestError, ReferenceError, SecretError) as exc:
        raise GraderError(str(exc)) from None
    if not STARTER_PKG.is_dir():
        raise GraderError(f"the provided files are missing: {STARTER_PKG} (run `python -m grader make-starter`)")
    factory = sandbox_factory or default_sandbox_factory(sandboxed)
    problems: list[str] = []
    notes: list[str] = []
    info = SubmissionInfo()
    submission_meta: dict = {"name": Path(submission).name}
    sandbox = None
    starter: SandboxStarter | None = None
    trainings = None       # _training.TrainingRunner
    timing: dict[str, float] = {}
    outcomes = {}
    sandbox_info: dict = {"sandboxed": sandboxed}
    nb_grades = None     # grader.notebooks.NotebookGrades once the notebooks ran
    tmp = private_tmpdir("grade-")
    try:
        root = None
        try:
            root = archive.safe_extract(Path(submission), tmp / "submission")
        except archive.ArchiveError as exc:
            problems.append(f"The submission could not be unpacked: {exc}")
        timing["unpack"] = time.monotonic() - t0
        if root is not None:
            package = None
            try:
                package = archive.locate_package(root, assignment.graded_files)
            except archive.ArchiveError as exc:
                problems.append(str(exc))
            report = archive.assemble_package(package, STARTER_PKG, assignment.graded_files,
                                              tmp / "assembled" / assignment.package, search_root=root)
            info.best_model = report.best_model
            info.constructor_params = compat.constructor_parameters(report.package)
            for f in report.missing:
                info.substituted[f] = "is missing from your submission"
            for f, why in report.rejected.items():
                info.substituted[f] = f"was not used: {why}"
            if package is not None:
                for f in report.missing:
                    problems.append(f"cs231n/{f} is missing from your submission; its tests score zero.")
                for f, why in report.rejected.items():
                    problems.append(f"cs231n/{f} was not used ({why}); its tests score zero.")
            if report.provided_changed:
                notes.append("These files are provided and were not graded; the grader used its own copy: "
                             + ", ".join(f"cs231n/{f}" for f in report.provided_changed))
            submission_meta.update(package=str(package.relative_to(root)) if package is not None else None,
                                   graded_from_submission=report.from_submission, missing=report.missing,
                                   rejected=report.rejected, provided_changed=report.provided_changed,
                                   best_model=str(report.best_model.relative_to(root)) if report.best_model else None)
            # Hidden inputs of this submission: drawn from the salt of its assembled graded files.
            refs = refs.with_salt(submission_salt(files_digest(report.package, assignment.graded_files)))
            if package is not None and len(info.substituted) < len(assignment.graded_files):
                starter = SandboxStarter(factory, report.package, assignment, info)
                sandbox = starter.sandbox
                if train_ahead:
                    trainings = start_trainings(factory, report.package, assignment, info, refs, starter)
        if root is not None:
            t1 = time.monotonic()
            plugin = SuitePlugin(sandbox=sandbox, refs=refs, assignment=assignment, submission=info, started=t0,
                                 prepare=(lambda: starter.ready(lambda: _warm_up(refs))) if starter is not None
                                 else None)
            run_suites(plugin, assignment)
            timing["suites"] = time.monotonic() - t1
            outcomes = plugin.outcomes
        if starter is not None:
            timing.update(starter.timing)
        for f, why in info.broken.items():
            problems.append(f"cs231n/{f} could not be imported, its tests score zero: {why}")
        if sandbox is not None:
            if not {"layers.py"} & (set(info.substituted) | set(info.broken)):
                note = check_dropout_convention(sandbox, assignment, submission_meta)
                if note:
                    notes.append(note)
            sandbox_info = dict(sandbox.info)
            if trainings is not None and trainings.sandbox is not None:
                sandbox_info["training_worker_starts"] = trainings.sandbox.starts
            starter.close()          # the code questions are done: free the worker before the notebooks
        if assignment.notebooks and notebooks:
            t2 = time.monotonic()
            nb_grades = run_notebooks(assignment, root, package if root is not None else None,
                                      report.package if root is not None else None, sandboxed=sandboxed,
                                      artifacts_dir=artifacts_dir)
            timing["notebooks"] = time.monotonic() - t2
        elif assignment.notebook_points > 0:
            notes.append(f"The notebooks were not run (code questions only): the maximum score leaves out "
                         f"their {assignment.notebook_points:g} points.")
    finally:
        for closing in (trainings, starter):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # noqa: BLE001
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    timing["total"] = time.monotonic() - t0
    results = build_results(assignment, outcomes, problems=problems, notes=notes, sandbox_info=sandbox_info,
                            submission=submission_meta, execution_time=timing["total"],
                            timing={k: round(v, 3) for k, v in timing.items()},
                            not_run_reason="Not graded: the submission could not be unpacked (see the output)."
                            if outcomes == {} and problems else "Not graded: this test did not run.")
    results.extra_data.training_curves = info.training_curves
    results.extra_data.notebooks_run = nb_grades is not None
    if nb_grades is not None:
        from grader.notebooks import merge_into_results

        merge_into_results(results, nb_grades)
    for e in results.extra_data.grader_errors:
        print(f"grader error in {e['test']}:\n{e['error']}", file=sys.stderr)
    return results
