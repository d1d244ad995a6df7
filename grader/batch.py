"""Grade a folder of submissions: ``python -m grader grade-batch DIR --assignment A --out-dir OUT --jobs N``.

Every ``.zip`` (or ``.tar``/``.tar.gz``/``.tgz``) file and every folder directly inside ``DIR`` is one
submission. Each is graded by its own subprocess running the single-submission grade
(``python -m grader grade SUB --assignment A --out OUT/<name>/results.json``, run and read by
``grader.child.run_grade``, the same code as the grading service's workers), ``N`` at a time, so one
submission that crashes, hangs (``--timeout``) or exhausts memory never stops the batch: it gets a row with
status ``failed`` or ``timeout`` and its log in ``OUT/<name>/grade.log``.

Outputs:

- ``OUT/<name>/results.json`` and what the grade writes beside it (the executed notebooks in
  ``OUT/<name>/results_notebooks/``, see ``grader.notebooks.artifacts_dir``), and ``OUT/<name>/grade.log``;
- ``OUT/<name>/batch.json``: the fingerprint of the graded submission, the exit status and the duration;
  a re-run skips every submission whose ``results.json`` is present and whose fingerprint is unchanged
  (``--force`` grades everything again);
- ``OUT/grades.csv``: one row per submission: ``submission, status, score, max_score``, one column per
  question id (in the order of the first results that list them), ``seconds`` and ``message``. Text cells
  that a spreadsheet would evaluate as a formula (``=...``, ``+``, ``-``, ``@``, tab, CR) start with ``'``.

Progress goes to stderr as a tqdm bar with the number done, the rate and the ETA.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from grader.child import GradeFailed, ResultsError, child_env, grade_argv, read_results, run_grade
from grader.text import csv_cell

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
RESULTS = "results.json"
STAMP = "batch.json"
LOG = "grade.log"
CSV_NAME = "grades.csv"
DEFAULT_TIMEOUT = 1800.0
MESSAGE_LOG_CHARS = 400   # characters of the log's end quoted in the message of a failed grade


@dataclass
class Submission:
    """One entry of the batch: ``name`` (unique, used for ``OUT/<name>/``) and ``path`` (zip or folder)."""

    name: str
    path: Path


@dataclass
class Outcome:
    """What happened to one submission.

    - status: ``graded`` (new results), ``skipped`` (results kept from an earlier run), ``failed``
      (the grade exited non-zero or wrote no valid results), ``timeout`` (killed after ``timeout`` s)
    - results: the parsed results.json (None unless graded/skipped)
    """

    submission: Submission
    status: str
    seconds: float = 0.0
    message: str = ""
    results: dict[str, Any] | None = None


@dataclass
class BatchSummary:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    csv_path: Path | None = None

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def _strip_suffix(name: str) -> str:
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_submissions(directory: str | Path, exclude: Sequence[Path] = ()) -> list[Submission]:
    """The submissions directly inside ``directory``, sorted by name.

    Hidden entries and ``exclude`` (e.g. the output folder when it lies inside ``directory``) are skipped.
    Names are the file names without the archive suffix; when two entries would share a name (``a.zip``
    and a folder ``a``), both keep their full file name instead.
    """
    directory = Path(directory)
    excluded = {Path(p).resolve() for p in exclude}
    entries = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.resolve() in excluded or path.is_symlink():
            continue
        if path.is_dir() or (path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)):
            entries.append(path)
    stems = [_strip_suffix(p.name) for p in entries]
    return [Submission(name=stem if stems.count(stem) == 1 else p.name, path=p)
            for stem, p in zip(stems, entries)]


def fingerprint(path: Path) -> str:
    """A hash of a submission's content: the bytes of an archive, or (path, size, mtime) of a folder's files."""
    digest = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    else:
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                st = full.lstat()
                digest.update(f"{full.relative_to(path).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_results(path: Path) -> dict[str, Any] | None:
    """A results file validated (``grader.child.read_results``), as plain data; None when missing or invalid."""
    try:
        return read_results(path).model_dump(mode="json")
    except ResultsError:
        return None


def already_graded(sub: Submission, out: Path) -> dict[str, Any] | None:
    """The results of an earlier run for ``sub`` if they are complete and match its current content."""
    stamp = _read_json(out / STAMP)
    if not stamp or stamp.get("status") != "graded" or stamp.get("fingerprint") != fingerprint(sub.path):
        return None
    return _read_results(out / RESULTS)


def grade_command(sub: Submission, assignment: str, results_path: Path) -> list[str]:
    """The command that grades one submission (the single-submission CLI, in a fresh interpreter), with one
    worker at a time: the batch uses the cores by grading ``--jobs`` submissions at once."""
    return grade_argv(sub.path, assignment, results_path, train_ahead=False)


def grade_one(sub: Submission, assignment: str, out_dir: Path, *, timeout: float = DEFAULT_TIMEOUT,
              command=grade_command) -> Outcome:
    """Grade ``sub`` in a subprocess into ``out_dir/<name>/`` (``grader.child.run_grade``); never raises for
    what the grade does."""
    out = out_dir / sub.name
    out.mkdir(parents=True, exist_ok=True)
    for stale in (out / RESULTS, out / STAMP):
        stale.unlink(missing_ok=True)
    digest = fingerprint(sub.path)
    results = None
    try:
        graded = run_grade(command(sub, assignment, out / RESULTS), out / RESULTS, out / LOG, timeout=timeout,
                           env=child_env())
    except GradeFailed as exc:
        code, seconds = exc.returncode, exc.seconds
        if exc.timed_out:
            status, message = "timeout", f"grading took longer than {timeout:.0f} s and was stopped"
        elif exc.returncode:
            status, message = "failed", f"{exc}: {exc.log_tail(MESSAGE_LOG_CHARS).strip()}"
        else:
            status, message = "failed", str(exc)
    else:
        code, seconds = 0, graded.seconds
        status, message, results = "graded", "", graded.results.model_dump(mode="json")
    (out / STAMP).write_text(json.dumps({
        "submission": str(sub.path), "fingerprint": digest, "exit_code": code,
        "status": status, "seconds": round(seconds, 3), "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }, indent=1))
    return Outcome(sub, status, seconds, message, results)


def _questions(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list((results.get("extra_data") or {}).get("questions") or [])


def _score(results: dict[str, Any]) -> tuple[float | None, float | None]:
    extra = results.get("extra_data") or {}
    score = results.get("score")
    if score is None:
        score = sum(float(q.get("score") or 0) for q in _questions(results))
    max_score = extra.get("max_score", results.get("max_score"))
    return score, max_score


def write_csv(outcomes: Sequence[Outcome], path: Path) -> Path:
    """``grades.csv``: one row per submission (sorted by name), one column per question id.

    Text cells go through ``grader.text.csv_cell``: a submission's name is a file name the student chose
    and the message may quote the grader's log, so a cell such as ``=HYPERLINK(...)`` must stay text.
    """
    columns: list[str] = []
    for o in outcomes:
        for q in _questions(o.results or {}):
            if str(q.get("id")) not in columns:
                columns.append(str(q.get("id")))
    header = ["submission", "status", "score", "max_score", *map(csv_cell, columns), "seconds", "message"]
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for o in sorted(outcomes, key=lambda o: o.submission.name):
            results = o.results or {}
            by_id = {str(q.get("id")): q.get("score") for q in _questions(results)}
            score, max_score = _score(results) if o.results else (None, None)
            status = o.status
            grader_status = (results.get("extra_data") or {}).get("status")
            if o.results and grader_status and grader_status != "ok":
                status = f"{o.status}:{grader_status}"
            writer.writerow([csv_cell(o.submission.name), csv_cell(status), _fmt(score), _fmt(max_score),
                             *[_fmt(by_id.get(c)) for c in columns], f"{o.seconds:.1f}",
                             csv_cell(o.message or _results_message(results), 500)])
    tmp.replace(path)
    return path


def _results_message(results: dict[str, Any]) -> str:
    return " ".join(str(results.get("output") or "").split())[:300] if results else ""


def _fmt(value: Any) -> str:
    """A number cell: ``''`` for None, ``%g`` for floats; anything else is text (:func:`csv_cell`)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return csv_cell(value, 100)


def grade_batch(directory: str | Path, *, assignment: str, out_dir: str | Path, jobs: int = 1,
                force: bool = False, timeout: float = DEFAULT_TIMEOUT, progress: bool = True,
                command=grade_command) -> BatchSummary:
    """Grade every submission in ``directory`` into ``out_dir`` with ``jobs`` parallel grader processes."""
    directory, out_dir = Path(directory), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subs = find_submissions(directory, exclude=[out_dir])
    summary = BatchSummary()
    todo = []
    for sub in subs:
        previous = None if force else already_graded(sub, out_dir / sub.name)
        if previous is not None:
            summary.outcomes.append(Outcome(sub, "skipped", results=previous,
                                            seconds=float((_read_json(out_dir / sub.name / STAMP) or {})
                                                          .get("seconds", 0.0))))
        else:
            todo.append(sub)
    bar = tqdm(total=len(subs), initial=len(subs) - len(todo), unit="sub", desc="grading",
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, sub, assignment, out_dir, timeout=timeout, command=command): sub
                       for sub in todo}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    outcome = future.result()
                except Exception as e:  # an OSError writing the log, a missing submission: record, go on
                    outcome = Outcome(sub, "failed", message=f"{type(e).__name__}: {e}")
                summary.outcomes.append(outcome)
                bar.set_postfix_str(f"{sub.name}: {outcome.status}", refresh=False)
                bar.update(1)
    finally:
        bar.close()
        summary.seconds = time.monotonic() - started
        summary.csv_path = write_csv(summary.outcomes, out_dir / CSV_NAME)
    return summary


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="python -m grader grade-batch", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="folder holding one .zip or folder per submission")
    parser.add_argument("--assignment", required=True, help="the assignment's name (`python -m grader list`)")
    parser.add_argument("--out-dir", type=Path, required=True, help="where results and grades.csv go")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    parser.add_argument("--force", action="store_true", help="grade again submissions already graded")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds allowed per submission (default {DEFAULT_TIMEOUT:.0f})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit status 0 when the batch ran (whatever the grades), 2 for a bad argument."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the batch for arguments parsed by ``build_parser`` (the ``grade-batch`` subcommand)."""
    if not args.directory.is_dir():
        print(f"grade-batch: {args.directory} is not a folder", file=sys.stderr)
        return 2
    summary = grade_batch(args.directory, assignment=args.assignment, out_dir=args.out_dir, jobs=args.jobs,
                          force=args.force, timeout=args.timeout, progress=not args.no_progress)
    print(f"{len(summary.outcomes)} submissions: {summary.count('graded')} graded, "
          f"{summary.count('skipped')} skipped, {summary.count('failed')} failed, "
          f"{summary.count('timeout')} timed out in {summary.seconds:.1f} s; {summary.csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
