"""How long grading takes, and what the sandbox costs.

Prints, in one run:
- the median wall time of grading the solutions' code questions with the real sandbox (``grader.pipeline``
  in this process, after one warm-up; goal <= 5 s on 2 cores), and of one cold ``python -m grader grade``;
- the same checks with ``InProcessSandbox``, a stand-in with the Sandbox interface that runs the code in
  this process (no isolation, no pipes; ONLY for this benchmark), and the overhead ratio (goal <= 1.2x).

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/grader_speed.py [--repeat 15]``
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.pkgload import load_package  # noqa: E402
from grader.sandbox.proxy import StudentError  # noqa: E402

PLAIN_SCALARS = (type(None), bool, int, float, str)


class InProcessHandle:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __repr__(self) -> str:
        return f"<InProcessHandle {type(self.obj).__name__}>"


class InProcessSandbox:
    """The Sandbox interface, run in this process: values are copied like the codec copies them (plain
    data; anything else becomes a handle) and the student's exceptions become ``StudentError``.

    No timeouts, no isolation: benchmark use only. The package is imported as ``cs231n``.
    """

    def __init__(self, package_dir, limits=None):
        self.package_dir = Path(package_dir)
        self.limits = limits
        self.started = False

    def start(self):
        if not self.started:
            load_package(self.package_dir, "cs231n")
            self.started = True

    def close(self):
        for name in [m for m in sys.modules if m == "cs231n" or m.startswith("cs231n.")]:
            del sys.modules[name]

    @property
    def info(self) -> dict:
        return {"sandboxed": False, "isolation": "in-process stand-in (benchmark only)"}

    # -- plain-data copies in both directions
    def _out(self, value, keep=()):
        if keep is True:
            return InProcessHandle(value)
        if keep and type(value) in (tuple, list):
            items = [InProcessHandle(v) if i in keep else self._out(v) for i, v in enumerate(value)]
            return tuple(items) if type(value) is tuple else items
        return self._copy(value, to_handle=True)

    def _copy(self, value, to_handle):
        t = type(value)
        if t in PLAIN_SCALARS or (isinstance(value, np.generic) and value.dtype.kind in "biuf"):
            return value
        if t is np.ndarray and value.dtype.kind in "biuf":
            return np.array(value, copy=True, order="C")
        if t in (list, tuple):
            items = [self._copy(v, to_handle) for v in value]
            return items if t is list else tuple(items)
        if t is dict and all(type(k) is str for k in value):
            return {k: self._copy(v, to_handle) for k, v in value.items()}
        if t is InProcessHandle and not to_handle:
            return value.obj
        if to_handle:
            return InProcessHandle(value)
        raise TypeError(f"not plain data: {t.__name__}")

    def _run(self, fn, *args, keep=(), **kwargs):
        self.start()
        args = self._copy(list(args), to_handle=False)
        kwargs = self._copy(kwargs, to_handle=False)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            raise StudentError(type(exc).__name__, str(exc), "".join(traceback.format_exception_only(exc))) from None
        return self._out(result, keep)

    @staticmethod
    def _resolve(target: str):
        parts = target.split(".")
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            return obj
        raise ModuleNotFoundError(target)

    def call(self, target, /, *args, keep=(), timeout=None, **kwargs):
        keep = (keep,) if isinstance(keep, int) and keep is not True else keep
        return self._run(self._resolve(target), *args, keep=keep, **kwargs)

    def new(self, target, /, *args, timeout=None, **kwargs):
        return self._run(self._resolve(target), *args, keep=True, **kwargs)

    def call_method(self, obj, name, /, *args, keep=(), timeout=None, **kwargs):
        return self._run(getattr(obj.obj, name), *args, keep=keep, **kwargs)

    def getattr(self, obj, name, *, timeout=None):
        value = obj.obj
        for part in name.split("."):
            value = getattr(value, part)
        return self._out(value)

    def setattr(self, obj, name, value, *, timeout=None):
        setattr(obj.obj, name, self._copy(value, to_handle=False))

    def setitem(self, obj, path, value, *, timeout=None):
        path = [path] if isinstance(path, (str, int)) else list(path)
        target = obj.obj
        for key in path[:-1]:
            target = target[key] if isinstance(target, (dict, list, np.ndarray)) else getattr(target, key)
        value = self._copy(value, to_handle=False)
        if isinstance(target, (dict, list, np.ndarray)):
            target[path[-1]] = value
        else:
            setattr(target, path[-1], value)

    def fetch(self, obj, *, timeout=None):
        return self._out(obj.obj)

    def put(self, value, *, timeout=None):
        return InProcessHandle(self._copy(value, to_handle=False))

    def seed(self, seed, *, timeout=None):
        import random

        np.random.seed(seed)
        random.seed(seed)

    def flush(self):
        pass


def _timed_grade(submission: Path, factory) -> float:
    from grader.pipeline import grade

    t0 = time.perf_counter()
    results = grade(submission, sandbox_factory=factory, notebooks=False)
    elapsed = time.perf_counter() - t0
    scored = [q for q in results.extra_data.questions if q.id != "Q7" or (submission / "best_model.npz").is_file()]
    if not all(q.score == q.max_score for q in scored):
        raise SystemExit(f"the solutions did not get full marks: {[(q.id, q.score) for q in scored]}")
    return elapsed


def time_grades(submission: Path, repeat: int, factories: dict) -> dict[str, list[float]]:
    """Runs interleaved (one of each per round, after one warm-up round) so load drift hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in factories}
    for i in range(repeat + 1):
        for name, factory in factories.items():
            elapsed = _timed_grade(submission, factory)
            if i:  # the first round warms caches (imports, data files)
                times[name].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15, help="rounds (this VM's timings vary by +-20%%)")
    args = parser.parse_args()
    from grader.pipeline import default_sandbox_factory

    submission = ROOT / "solutions" / "assignment2"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "--no-notebooks", "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        cold = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
    times = time_grades(submission, args.repeat, {"sandboxed": default_sandbox_factory(True),
                                                  "in-process": InProcessSandbox})
    sandboxed, in_process = times["sandboxed"], times["in-process"]
    s, p = statistics.median(sandboxed), statistics.median(in_process)
    print(f"grading the solutions (all code questions and Q7's best_model.npz; no notebooks), {args.repeat} rounds "
          "after a warm-up (interleaved), 1 BLAS thread:")
    print(f"  cold CLI run (python -m grader grade, incl. interpreter start): {cold:.2f} s   (goal <= 5 s)")
    print(f"  sandboxed, median:   {s:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in sandboxed)})")
    print(f"  in-process, median:  {p:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in in_process)})")
    paired = statistics.median(a / b for a, b in zip(sandboxed, in_process))
    print(f"  sandbox overhead:    {s / p:.2f}x  (goal <= 1.2x; median of the per-round ratios: {paired:.2f}x)")


if __name__ == "__main__":
    main()
