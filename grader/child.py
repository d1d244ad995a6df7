"""Grade one submission in a child process: ``python -m grader grade SUB --assignment A --out results.json``.

The one way to run the grader CLI from another program, used by ``grade-batch`` (``grader.batch``) and by
the grading service's workers (``api.grader_process``):

- :func:`grade_argv` builds the command line (a command prefix, default ``<python> -m grader``);
- :func:`child_env` the environment (one BLAS thread, unbuffered output, this repository importable);
- :func:`run_grade` runs it with its output in a log file, in a process group of its own (not a session
  of its own: see ``Priority``), under a wall-clock time limit. On timeout -- or when the caller's
  ``watch`` callback raises, e.g. because the caller is asked to stop -- the whole process group is killed.
  It returns the results file read and validated into :class:`grader.scoring.Results` (:func:`read_results`)
  or raises :class:`GradeFailed` saying what went wrong: the exit status (``retryable`` when it is the
  grader's own trouble, exit status 2), the time limit, or a missing or invalid results file.

The log is capped after the run (``caps.GRADE_LOG`` bytes: its head and its tail are kept).
"""
from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from pydantic import ValidationError

from grader import caps
from grader.scoring import Results

REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_ERROR = 2                 # `python -m grader grade`: a grader or configuration error, not the submission's
PR_SET_PDEATHSIG = 1


def grade_argv(submission: str | Path, assignment: str, results_path: str | Path, *,
               command: Sequence[str] | None = None, notebooks: bool = True, train_ahead: bool = True) -> list[str]:
    """The command line of one grade; ``command`` is the grader's command prefix (default: this Python's
    ``-m grader``); ``notebooks=False`` adds ``--no-notebooks``, ``train_ahead=False`` ``--no-train-ahead``."""
    argv = list(command) if command else [sys.executable, "-m", "grader"]
    argv += ["grade", str(submission), "--assignment", assignment, "--out", str(results_path)]
    if not notebooks:
        argv.append("--no-notebooks")
    if not train_ahead:
        argv.append("--no-train-ahead")
    return argv


def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with one thread per BLAS library, unbuffered output
    and this repository first on ``PYTHONPATH``."""
    env = dict(os.environ if base is None else base)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass(frozen=True)
class Priority:
    """How the child runs beside its parent.

    - ``die_with_parent``: the child is killed when the thread that started it ends (``PR_SET_PDEATHSIG``;
      start the child from a thread that lives as long as the grade);
    - ``sched_idle``: the ``SCHED_IDLE`` CPU policy (it gets the CPU time everything else leaves over),
      inherited by the sandboxes it starts; else niceness ``nice`` (0: unchanged).

    The child always gets a process group of its own (killed as a whole) but stays in its parent's session:
    on Linux a new session is a new scheduler autogroup, which shares the CPU with the rest of the machine
    as an equal whatever the child's policy or niceness. The default changes nothing else (no code runs in
    the child between fork and exec, which is what a multi-threaded parent wants).
    """

    die_with_parent: bool = False
    sched_idle: bool = False
    nice: int = 0


def _prctl():
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:              # not glibc Linux: no parent-death signal
        return None


def _child_setup(prctl, sched_idle: bool, nice: int) -> None:
    """In the child, before exec (``prctl`` was looked up by the parent)."""
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if sched_idle:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (OSError, AttributeError):        # not Linux: fall back to the niceness
            pass
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass


def _preexec(priority: Priority):
    if not (priority.die_with_parent or priority.sched_idle or priority.nice):
        return None
    return functools.partial(_child_setup, _prctl() if priority.die_with_parent else None, priority.sched_idle,
                             priority.nice)


class ResultsError(ValueError):
    """A results file that is missing, unreadable or not valid ``grader.scoring.Results``."""


def read_results(path: str | Path) -> Results:
    """The results file at ``path``, validated (:class:`ResultsError` when it is missing or invalid)."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"there is no {path.name}") from None
    except OSError as exc:
        raise ResultsError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        return Results.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'the file'}: {e['msg']}" for e in exc.errors()[:3])
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise ResultsError(f"{path.name} is not valid results: {problems}{more}") from None


def log_tail(path: str | Path, chars: int) -> str:
    """About the last ``chars`` characters of a log file ('' when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - chars))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def cap_log(path: str | Path, limit: int = caps.GRADE_LOG) -> None:
    """Keep the first and the last ``limit / 2`` bytes of a log longer than ``limit``."""
    path = Path(path)
    try:
        if path.stat().st_size > limit:
            with open(path, "rb") as fh:
                head = fh.read(limit // 2)
                fh.seek(-(limit // 2), os.SEEK_END)
                tail = fh.read()
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(head + b"\n... [log truncated] ...\n" + tail)
            tmp.replace(path)
    except OSError:
        pass


@dataclass(frozen=True)
class Graded:
    """A grade that finished: its validated results, how long it took and where its log is."""

    results: Results
    seconds: float
    log_path: Path

    def log_tail(self, chars: int = 8000) -> str:
        return log_tail(self.log_path, chars)


class GradeFailed(Exception):
    """The grade produced no results: it exited with a non-zero status (``returncode``; negative: killed by
    that signal), ran out of time (``timed_out``), or exited 0 without a valid results file."""

    def __init__(self, message: str, *, returncode: int | None, timed_out: bool = False, seconds: float = 0.0,
                 log_path: Path | None = None):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.timed_out = timed_out
        self.seconds = seconds
        self.log_path = log_path

    @property
    def retryable(self) -> bool:
        """The grader's own trouble (exit status 2: no sandbox, a bad manifest...), not the submission's."""
        return self.returncode == EXIT_ERROR

    def log_tail(self, chars: int = 8000) -> str:
        return log_tail(self.log_path, chars) if self.log_path is not None else ""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _exit_message(rc: int) -> str:
    if rc < 0:
        try:
            return f"the grader was killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"the grader was killed by signal {-rc}"
    return f"the grader exited with status {rc}"


def run_grade(argv: Sequence[str], results_path: str | Path, log_path: str | Path, *, timeout: float,
              cwd: str | Path | None = None, env: dict[str, str] | None = None, priority: Priority = Priority(),
              watch: Callable[[], None] | None = None, watch_every: float = 1.0, log_cap: int = caps.GRADE_LOG) -> Graded:
    """Run the grade ``argv`` (see :func:`grade_argv`), its stdout and stderr into ``log_path``, and return
    its results read from ``results_path`` (removed first, so a stale file is never taken for this run's).

    ``timeout``: wall-clock seconds before the process group is killed (:class:`GradeFailed`,
    ``timed_out``). ``watch``: called every ``watch_every`` seconds while the grade runs; whatever it
    raises kills the process group and propagates (the caller was asked to stop, lost its claim...).
    ``env`` defaults to :func:`child_env`.
    """
    results_path, log_path = Path(results_path), Path(log_path)
    results_path.unlink(missing_ok=True)
    started = time.monotonic()
    deadline = started + timeout
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, env=child_env() if env is None else env, process_group=0,
                                preexec_fn=_preexec(priority))
    rc: int | None = None
    try:
        next_watch = started + watch_every
        while rc is None:
            now = time.monotonic()
            if now >= deadline:
                break
            wake = min(deadline, next_watch) if watch is not None else deadline
            try:
                rc = proc.wait(timeout=max(0.0, wake - now))
            except subprocess.TimeoutExpired:
                if watch is not None and time.monotonic() >= next_watch:
                    next_watch = time.monotonic() + watch_every
                    watch()
        if rc is None:
            _kill_group(proc)
    except BaseException:
        _kill_group(proc)
        cap_log(log_path, log_cap)
        raise
    seconds = time.monotonic() - started
    cap_log(log_path, log_cap)
    if rc is None:
        raise GradeFailed(f"grading timed out after {timeout:.0f} s", returncode=None, timed_out=True,
                          seconds=seconds, log_path=log_path)
    if rc != 0:
        raise GradeFailed(_exit_message(rc), returncode=rc, seconds=seconds, log_path=log_path)
    try:
        results = read_results(results_path)
    except ResultsError as exc:
        raise GradeFailed(f"the grader wrote no valid results file ({exc})", returncode=0, seconds=seconds,
                          log_path=log_path) from None
    return Graded(results, seconds, log_path)
