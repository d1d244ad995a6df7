"""A submission's notebooks, as the manifest lists them: run each (``grade_notebooks``) and turn the results
into what results.json gets (``NotebookGrades``: one test per notebook with points, and the reports for
``extra_data``). ``grader.scoring.build_results`` makes these tests its question ``NB``."""
from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from grader.assemble import locate_notebooks
from grader.notebooks.result import NotebookInfraError, NotebookResult
from grader.notebooks.run import SlowCode, run_notebook
from grader.tmpdirs import private_tmpdir


MIN_NOTEBOOK_SECONDS = 5.0   # a notebook left less time than this by the grade's budget is not started


@dataclass
class NotebookSpec:
    """One ``[[notebooks]]`` entry of an assignment manifest.

    - name: the notebook's file name (``FullyConnectedNets.ipynb``; ``.ipynb`` may be left out)
    - points: points for running to the end (0: run for feedback and inline answers only)
    - cell_timeout / total_timeout: seconds for one cell / the whole notebook
    """

    name: str
    points: float = 0.0
    cell_timeout: float = 300.0
    total_timeout: float = 900.0

    @classmethod
    def from_manifest(cls, entry: dict[str, Any]) -> "NotebookSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"unknown keys in a [[notebooks]] entry: {sorted(unknown)}")
        spec = cls(**entry)
        if not spec.name.endswith(".ipynb"):
            spec.name += ".ipynb"
        return spec


@dataclass
class NotebookGrades:
    """What the notebooks add to results.json: ``tests`` (Gradescope test entries, one per notebook with
    points) and ``extra_data`` (``notebooks``: every NotebookResult as a dict; ``inline_answers``;
    ``notebook_files``), capped by ``grader.notebooks.extra.capped_extra_data`` when results.json is built."""

    results: list[NotebookResult]
    tests: list[dict[str, Any]]
    extra_data: dict[str, Any]


def artifacts_dir(results_path: str | Path) -> Path:
    """Where the executed notebooks of ``results.json`` go: ``results_notebooks/`` beside it."""
    results_path = Path(results_path)
    return results_path.with_name(results_path.stem + "_notebooks")


def notebook_test(result: NotebookResult, spec: NotebookSpec) -> dict[str, Any]:
    """The Gradescope test entry "<notebook> runs to the end" (full points only for status ``ok``)."""
    ok = result.status == "ok"
    if ok:
        output = f"all {result.cells_total} code cells ran ({result.duration:.0f} s)"
    elif result.cell is not None:
        where = f"cell {result.cell}" + (f" (section \u201c{result.heading}\u201d)" if result.heading else "")
        output = f"{result.status} at {where}:\n{result.message}"
    else:
        output = f"{result.status}: {result.message}"
    return {"name": f"{spec.name} runs to the end", "notebook": spec.name, "score": float(spec.points) if ok else 0.0,
            "max_score": float(spec.points), "status": "passed" if ok else "failed", "output": output}


def notebook_specs(specs: Iterable[Any]) -> list[NotebookSpec]:
    """``NotebookSpec`` objects from the manifest's ``[[notebooks]]`` (its pydantic models, or dicts)."""
    return [NotebookSpec.from_manifest(s.model_dump() if hasattr(s, "model_dump") else dict(s)) for s in specs]


def _grades(results: list[NotebookResult], specs: list[NotebookSpec],
            saved_files: dict[str, str] | None = None) -> NotebookGrades:
    # a notebook that could not be graded here (no CIFAR-10) is left out of the maximum, never charged
    tests = [notebook_test(r, s) for r, s in zip(results, specs) if s.points > 0 and r.status != "not_gradable"]
    extra = {"notebooks": [r.to_dict() for r in results],
             "inline_answers": [a for r in results for a in r.inline_answers],
             "notebook_files": dict(saved_files or {})}
    return NotebookGrades(results, tests, extra)


def not_run(specs: Iterable[Any], reason: str) -> NotebookGrades:
    """The grades when the notebooks cannot run at all (the upload could not be unpacked): every notebook
    ``missing`` with ``reason``, so its points still count towards the maximum."""
    specs = notebook_specs(specs)
    return _grades([NotebookResult(name=s.name, status="missing", message=reason) for s in specs], specs)


def _keep_saved(workdir: Path, names: Iterable[str], out: Path, max_bytes: int) -> dict[str, str]:
    """Copy the files ``names`` the notebooks saved in ``workdir`` (regular files of at most ``max_bytes``)
    into the artifacts folder ``out`` -> ``{name: path relative to out's parent}``."""
    kept = {}
    for name in names:
        src = workdir / name
        try:
            st = os.lstat(src)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            continue
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / name, follow_symlinks=False)
        kept[name] = os.path.relpath(out / name, out.resolve().parent)
    return kept


def grade_notebooks(root: str | Path, specs: Iterable[Any], *, package_dir: str | Path,
                    artifacts: str | Path | None = None, student_package: str | Path | None = None,
                    sandboxed: bool = True, data_dir: str | Path | None = None, keep_files: Iterable[str] = (),
                    keep_max_bytes: int = 50 * 2**20, slow: SlowCode | None = None,
                    deadline: float | None = None, datasets_dir: str | Path | None = None) -> NotebookGrades:
    """Run the manifest's notebooks of the extracted submission ``root`` one after the other.

    - root: the extracted submission; notebooks are found with ``grader.assemble.locate_notebooks``
      (beside ``student_package`` first, then anywhere)
    - specs: the manifest's ``[[notebooks]]`` (its pydantic models, or dicts)
    - package_dir: the assembled ``cs231n`` package (the one given to the Sandbox)
    - artifacts: folder for the executed notebooks (``artifacts_dir(results.json)``); each result's
      ``executed`` is then relative to its parent (the folder of results.json). None: no artifacts
    - keep_files: names of files the notebooks save (``best_model.npz``) copied into ``artifacts`` too
      (regular files up to ``keep_max_bytes``), listed in ``extra_data["notebook_files"]``
    - slow: the student's code that did not finish in time in the code questions (``SlowCode``)
    - deadline: ``time.monotonic()`` by which all notebooks must be done (the grade's budget): each one gets
      at most the time left, and those that find none left are not run (status ``timeout``)
    - datasets_dir: the instructor's datasets folder (``cifar-10-batches-py/``), see ``run_notebook``

    All notebooks share one scratch working folder (as they share the assignment folder of a student), so a
    file saved by one (``best_model.npz``) is visible to the next. A notebook that fails never stops the
    others; a kernel that cannot start at all (``NotebookInfraError``) is recorded for that notebook.
    """
    specs = notebook_specs(specs)
    found = locate_notebooks(Path(root), [s.name for s in specs],
                             package=Path(student_package) if student_package is not None else None)
    out = Path(artifacts) if artifacts is not None else None
    keep_files = list(keep_files)
    if out is not None:   # what an earlier grade wrote here must not pass for this one's
        for name in [s.name for s in specs] + keep_files:
            (out / name).unlink(missing_ok=True)
    results: list[NotebookResult] = []
    workdir = private_tmpdir("nb-work-")
    try:
        for spec in specs:
            total = spec.total_timeout
            if deadline is not None:
                total = min(total, deadline - time.monotonic())
                if total < MIN_NOTEBOOK_SECONDS:
                    results.append(NotebookResult(
                        name=spec.name, status="timeout", message="not run: the time this submission may take to "
                        "grade was used up by the code questions and the notebooks before this one"))
                    continue
            try:
                result = run_notebook(found.get(spec.name), name=spec.name, package_dir=package_dir,
                                      data_dir=data_dir, cell_timeout=spec.cell_timeout, total_timeout=total,
                                      workdir=workdir, artifact=out / spec.name if out is not None else None,
                                      sandboxed=sandboxed, slow=slow, datasets_dir=datasets_dir)
            except NotebookInfraError as e:
                result = NotebookResult(name=spec.name, status="error", message=f"grader problem: {e}",
                                        grader_problem=True)
            if result.executed and out is not None:
                result.executed = os.path.relpath(result.executed, out.resolve().parent)
            results.append(result)
        saved = _keep_saved(workdir, keep_files, out, keep_max_bytes) if out is not None else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _grades(results, specs, saved)
