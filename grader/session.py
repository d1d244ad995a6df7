"""The submission's sandbox session: start the worker, import each graded module once, train ahead.

Trusted side. ``SandboxStarter`` starts the worker in a thread (so its start overlaps with pytest's), probes
the imports of the graded modules, and warms the worker's NumPy; ``start_trainings`` starts the training
checks in a second sandbox of the same submission.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from grader.assignments import Assignment
from grader.errors import GraderError
from grader.suites.plugin import SubmissionInfo

RETRY_IMPORT_TIMEOUT = 3.0   # s, import probes after a first import timeout (see probe_imports)


def module_of(graded_file: str, package: str) -> str:
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


def warm_up(refs) -> None:
    """Trusted-side work every grade needs, done while the sandbox worker starts: with the submission's
    salt, every salted case and the salted training task are computed by the reference solution."""
    refs.preload()


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
    from grader.suites._training import TrainingRunner

    if not getattr(starter.sandbox, "separate_process", False):
        return None
    questions = {q.id for q in assignment.questions}
    names = [name for name, check in assignment.training_checks.items()
             if check.question in questions and getattr(check, "trains_ahead", True)
             and not {_file_of(check.model), _file_of(check.solver)} & set(info.substituted)]
    if not names:
        return None
    info.trainings = TrainingRunner(factory, package_dir, assignment.limits, names, assignment.seed, refs, info)
    return info.trainings


def _file_of(dotted_class: str) -> str:
    """``'classifiers.fc_net.TwoLayerNet'`` -> ``'classifiers/fc_net.py'``."""
    return dotted_class.rsplit(".", 1)[0].replace(".", "/") + ".py"


def probe_imports(sb, assignment: Assignment, skip: Iterable[str] = (),
                  timed_out: set[str] | None = None) -> dict[str, str]:
    """Import each graded module (and each optional one not in ``skip``: those the submission lacks) in the
    sandbox once -> ``{file: why it does not import}``; the names of the modules whose import did not finish
    in time are added to ``timed_out``.

    After one import has timed out, the others get ``RETRY_IMPORT_TIMEOUT`` seconds: they usually import
    the same hanging module (``layer_utils`` imports ``layers``), and a cs231n module that imports normally
    takes milliseconds."""
    from grader.sandbox.proxy import SandboxCrash, SandboxError, StaleHandle, StudentError, StudentTimeout
    from grader.text import clean

    broken = {}
    timeout = assignment.limits.startup_timeout
    for f in assignment.graded_files + [f for f in assignment.optional_files if f not in skip]:
        try:
            sb.call("importlib.import_module", module_of(f, assignment.package), timeout=timeout)
        except StudentError as exc:
            tb = (exc.traceback or "").strip()
            broken[f] = (f"{clean(exc.exc_type, 100)}: {clean(exc.message, 500)}"
                         + (f"\n{clean(tb[-3000:])}" if tb.startswith("Traceback") else ""))
        except StudentTimeout:
            broken[f] = f"importing it took longer than {timeout:g} s"
            if timed_out is not None:
                timed_out.add(Path(f).stem)
            timeout = min(timeout, RETRY_IMPORT_TIMEOUT)
        except (SandboxCrash, StaleHandle) as exc:
            broken[f] = f"the process importing it died ({clean(str(exc), 300)})"
        except SandboxError as exc:   # any other answer of the worker (which the student's code controls)
            broken[f] = f"the process importing it answered with an error ({clean(str(exc), 300)})"
    return broken


def missing_imports(sb, assignment: Assignment) -> dict[str, list[str]]:
    """The module-level imports of the graded files that the sandbox does not have (each replaced by a
    placeholder there, ``grader/sandbox/inside/missing_imports.py``) -> ``{graded file: ['cs231n.im2col (line
    3)', ...]}``. What the worker answers is the student's data: only well-formed entries of graded files are
    kept, cleaned and clipped."""
    from grader.sandbox.proxy import SandboxError
    from grader.text import clean

    try:
        made = sb.call("missing_imports.report", timeout=assignment.limits.startup_timeout)
    except SandboxError:
        return {}
    found: dict[str, list[str]] = {}
    for entry in made if type(made) is list else []:
        if type(entry) is not list or len(entry) != 3 or type(entry[0]) is not str or type(entry[1]) is not str \
                or type(entry[2]) is not int:
            continue
        module, path, line = entry
        rel = path.split("/", 1)[-1]   # relative to the package folder
        if rel in assignment.graded_files:
            listed = found.setdefault(rel, [])
            if len(listed) < 10:
                listed.append(f"{clean(module, 100)} (line {line})")
    return found


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
            self.info.broken.update(probe_imports(self.sandbox, self.assignment, skip=set(self.info.substituted),
                                                  timed_out=self.info.timed_out))
            self.info.missing_imports.update(missing_imports(self.sandbox, self.assignment))
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
