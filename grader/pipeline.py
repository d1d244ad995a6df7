"""One grade, as a declared list of named steps over one state object.

Trusted side. ``grade`` runs ``STEPS`` in order, each a function of :class:`GradeState` with one concern:

    unpack            the upload (.zip, tar or folder) into a private folder (``grader.unpack``)
    assemble          the package the sandbox imports: graded files from the submission, the rest provided
    start sandbox     the worker, in a thread, with the imports probed (``grader.session``); the training
                      checks start ahead in a second sandbox
    run suites        the hidden suites with pytest in THIS process; student code only runs in the sandbox;
                      the hidden inputs are those of the submission's salt (``grader.secret``)
    probe             the assignment's probes (e.g. its dropout convention), then the sandbox is closed
    run notebooks     the manifest's notebooks, each with its kernel in a sandbox of its own
    score             outcomes -> tests -> questions (the notebooks' too) -> results, once

A step that finds the submission unusable records the problem and the later steps see what is missing
(an upload that cannot be unpacked scores zero with the reason, still a finished grade). Errors of the
grader itself (a bad manifest, missing reference outputs, no working sandbox) raise ``GraderError``.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader import compat
from grader.assemble import AssemblyReport, assemble_package, locate_package
from grader.assignments import Assignment, ManifestError, load_assignment
from grader.errors import GraderError
from grader.references import ReferenceError, References
from grader.sandbox import launch
from grader.scoring import Results, build_results
from grader.secret import SecretError, files_digest, grader_secret, submission_salt
from grader.session import SandboxStarter, default_sandbox_factory, start_trainings, warm_up
from grader.suites.plugin import SubmissionInfo, SuitePlugin
from grader.suites.runner import run_suites
from grader.tmpdirs import private_tmpdir
from grader.unpack import ArchiveError, safe_extract

__all__ = ["GradeOptions", "GradeState", "GraderError", "STEPS", "grade"]


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: ``sandboxed`` (False: no isolation at all), ``notebooks`` (False: the code questions
    only, the maximum then leaves the notebooks' points out), ``artifacts_dir`` (where the executed
    notebooks go; None: not kept), ``train_ahead`` (the training checks train in a second sandbox while the
    unit checks run), ``sandbox_factory(package_dir, limits)`` (default: ``grader.sandbox.proxy.Sandbox``),
    ``datasets_dir`` (the instructor's datasets folder holding ``cifar-10-batches-py/``, seen read-only by the
    notebooks; None: ``$GRADER_DATASETS_DIR`` if set)."""

    sandboxed: bool = True
    notebooks: bool = True
    artifacts_dir: Path | None = None
    train_ahead: bool = True
    sandbox_factory: Callable | None = None
    datasets_dir: Path | None = None


@dataclass
class GradeState:
    """Everything one grade knows; each step reads and adds to it."""

    submission: Path
    assignment: Assignment
    refs: References
    options: GradeOptions
    tmp: Path
    started: float = field(default_factory=time.monotonic)
    root: Path | None = None                  # the unpacked submission
    package: Path | None = None               # the student's package inside it
    assembled: AssemblyReport | None = None   # the package the sandbox imports
    info: SubmissionInfo = field(default_factory=SubmissionInfo)
    starter: SandboxStarter | None = None
    trainings: object | None = None           # suites._training.TrainingRunner
    outcomes: dict = field(default_factory=dict)
    notebooks: object | None = None           # notebooks.NotebookGrades, once they ran
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # extra_data.submission
    sandbox_info: dict = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)
    results: Results | None = None

    @property
    def sandbox(self):
        return self.starter.sandbox if self.starter is not None else None


# ---------------------------------------------------------------------------------------------- steps
def unpack(state: GradeState) -> None:
    try:
        state.root = safe_extract(Path(state.submission), state.tmp / "submission")
    except ArchiveError as exc:
        state.problems.append(f"The submission could not be unpacked: {exc}")


def assemble(state: GradeState) -> None:
    a, info = state.assignment, state.info
    if state.root is None:
        return
    try:
        state.package = locate_package(state.root, a.graded_files, a.package)
    except ArchiveError as exc:
        state.problems.append(str(exc))
    report = assemble_package(state.package, a.provided_package, a.graded_files + a.optional_files,
                              state.tmp / "assembled" / a.package,
                              search_root=state.root, best_model=a.best_model.file if a.best_model else None)
    state.assembled = report
    info.best_model = report.best_model
    info.constructor_params = compat.constructor_parameters(report.package, a.model_classes)
    for f in report.missing:
        info.substituted[f] = "is missing from your submission"
    for f, why in report.rejected.items():
        info.substituted[f] = f"was not used: {why}"
    if state.package is not None:
        state.problems += [f"{a.package}/{f} is missing from your submission; its tests score zero."
                           for f in report.missing if f not in a.optional_files]
        state.problems += [f"{a.package}/{f} was not used ({why}); its tests score zero."
                           for f, why in report.rejected.items()]
    unused = report.extra
    if unused:
        shown = ", ".join(f"{a.package}/{f}" for f in unused[:20])
        shown += f" and {len(unused) - 20} more" if len(unused) > 20 else ""
        state.notes.append(f"These files of your {a.package} package were ignored (only the graded files are "
                           f"used, with the course's provided files): {shown}")
    if report.provided_changed:
        state.notes.append("These files are provided and were not graded; the grader used its own copy: "
                           + ", ".join(f"{a.package}/{f}" for f in report.provided_changed))
    root = state.root
    state.meta.update(package=str(state.package.relative_to(root)) if state.package is not None else None,
                      graded_from_submission=report.from_submission, missing=report.missing,
                      rejected=report.rejected, provided_changed=report.provided_changed,
                      best_model=str(report.best_model.relative_to(root)) if report.best_model else None)
    # Hidden inputs of this submission: drawn from the salt of its assembled graded files (whose digest also
    # tells the service which submissions hold the same code)
    digest = files_digest(report.package, a.graded_files + a.optional_files)
    state.meta["graded_sha256"] = digest
    state.refs = state.refs.with_salt(submission_salt(digest))


def start_sandbox(state: GradeState) -> None:
    a, opts = state.assignment, state.options
    if state.package is None or set(a.graded_files) <= set(state.info.substituted):
        return    # nothing of the student's to run
    factory = opts.sandbox_factory or default_sandbox_factory(opts.sandboxed)
    state.starter = SandboxStarter(factory, state.assembled.package, a, state.info)
    if opts.train_ahead:
        state.trainings = start_trainings(factory, state.assembled.package, a, state.info, state.refs, state.starter)


def run_the_suites(state: GradeState) -> None:
    if state.root is None:
        return
    starter = state.starter
    plugin = SuitePlugin(sandbox=state.sandbox, refs=state.refs, assignment=state.assignment, submission=state.info,
                         started=state.started,
                         prepare=(lambda: starter.ready(lambda: warm_up(state.refs))) if starter is not None else None)
    run_suites(plugin, state.assignment)
    state.outcomes = plugin.outcomes
    if starter is not None:
        state.timing.update(starter.timing)
    for f, modules in state.info.missing_imports.items():
        state.problems.append(f"{state.assignment.package}/{f} imports {', '.join(modules)}, which the grader does "
                              "not have: only the tests that use it fail.")
    for f, why in state.info.broken.items():
        state.problems.append(f"{state.assignment.package}/{f} could not be imported, its tests score zero: {why}")
    if state.info.timed_out:    # what hung: the notebooks give cells that use it a short limit
        state.meta["timed_out"] = sorted(state.info.timed_out)


def numpy1_names_used(sandbox) -> list[str]:
    """The NumPy 1.x names the submission's code used in its sandbox (``shims/numpy1_compat.py``); plain
    strings only, cleaned (the worker's answer is the student's data)."""
    from grader.sandbox.proxy import SandboxError
    from grader.text import clean

    try:
        used = sandbox.call("numpy1_compat.report", timeout=5.0)
    except SandboxError:
        return []
    return [clean(u, 60) for u in used[:20] if type(u) is str] if type(used) is list else []


def probe(state: GradeState) -> None:
    """The assignment's probes on the submission's worker, then the worker is freed for the notebooks."""
    sandbox = state.sandbox
    if sandbox is None:
        return
    unusable = set(state.info.substituted) | set(state.info.broken)
    for p in state.assignment.probes:
        if not set(p.files) & unusable and set(p.absent) <= set(state.info.substituted):
            value, note = p.run(sandbox, state.assignment)
            state.meta[p.name] = value
            if note:
                state.notes.append(note)
    removed = numpy1_names_used(sandbox)
    if removed:
        state.notes.append("Your code uses names NumPy 2 removed: " + ", ".join(removed) + ". They were kept "
                           "working with their NumPy 1.x meaning for grading; today's NumPy needs int, float, "
                           "np.nan, np.inf, np.prod, reshape(a, shape) ... instead.")
    state.sandbox_info = dict(sandbox.info)
    if state.trainings is not None and state.trainings.sandbox is not None:
        state.sandbox_info["training_worker_starts"] = state.trainings.sandbox.starts
    _close(state)


def run_notebooks(state: GradeState) -> None:
    a, opts = state.assignment, state.options
    if not a.notebooks:
        return
    if not opts.notebooks:
        if a.notebook_points > 0:
            state.notes.append(f"The notebooks were not run (code questions only): the maximum score leaves out "
                               f"their {a.notebook_points:g} points.")
        return
    from grader import notebooks   # nbclient, zmq: imported only when notebooks run

    if state.root is None or state.assembled is None:
        state.notebooks = notebooks.not_run(a.notebooks, "not run: the submission could not be unpacked (the reason "
                                                       "is at the top of the result)")
        return
    model, limits = a.best_model, a.limits
    slow = notebooks.SlowCode(frozenset(state.info.timed_out), limits.slow_cell_timeout)
    state.notebooks = notebooks.grade_notebooks(
        state.root, a.notebooks, package_dir=state.assembled.package, student_package=state.package,
        artifacts=opts.artifacts_dir, sandboxed=opts.sandboxed, keep_files=[model.file] if model is not None else [],
        slow=slow if slow.names else None,
        deadline=state.started + limits.grade_budget if limits.grade_budget is not None else None,
        datasets_dir=datasets_dir(opts), **({"keep_max_bytes": model.max_bytes} if model is not None else {}))
    for r in state.notebooks.results:
        if r.status == "not_gradable":
            state.notes.append(f"{r.name}: {r.message.splitlines()[0]}. Its points are left out of the maximum.")


def datasets_dir(opts: GradeOptions) -> Path | None:
    """The instructor's datasets folder: the option, else ``$GRADER_DATASETS_DIR``, else None."""
    if opts.datasets_dir is not None:
        return Path(opts.datasets_dir)
    env = os.environ.get("GRADER_DATASETS_DIR")
    return Path(env) if env else None


def score(state: GradeState) -> None:
    unpackable = state.root is None and bool(state.problems)
    state.timing["total"] = time.monotonic() - state.started
    state.results = build_results(
        state.assignment, state.outcomes, problems=state.problems, notes=state.notes,
        sandbox_info=state.sandbox_info or {"sandboxed": state.options.sandboxed}, submission=state.meta,
        execution_time=state.timing["total"], timing={k: round(v, 3) for k, v in state.timing.items()},
        notebooks=state.notebooks, training_curves=state.info.training_curves, measures=state.info.measures,
        not_run_reason="Not graded: the submission could not be unpacked (the reason is at the top of the result)."
        if unpackable
        else "Not graded: this test did not run.")


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[GradeState], None]


STEPS: tuple[Step, ...] = (
    Step("unpack", unpack),
    Step("assemble", assemble),
    Step("start sandbox", start_sandbox),
    Step("run suites", run_the_suites),
    Step("probe", probe),
    Step("run notebooks", run_notebooks),
    Step("score", score),
)
TIMED = {"unpack": "unpack", "run suites": "suites", "run notebooks": "notebooks"}   # step -> timing key


def _close(state: GradeState) -> None:
    for closing in (state.trainings, state.starter):
        if closing is not None:
            try:
                closing.close()
            except Exception:  # noqa: BLE001 - closing is best effort; the grade is already decided
                pass
    state.trainings = state.starter = None


# ---------------------------------------------------------------------------------------------- grade
def grade(submission: Path, assignment_name: str, *, refs: References | None = None, **options) -> Results:
    """Grade ``submission`` (a .zip/.tar or a folder) for ``assignment_name`` -> :class:`Results`;
    ``options``: the fields of :class:`GradeOptions`.

    Raises :class:`GraderError` for configuration errors only (never for anything the submission does)."""
    started = time.monotonic()
    options = GradeOptions(**options)
    launch.tune_malloc()
    try:
        assignment = load_assignment(assignment_name)
        refs = refs or References(assignment)
        grader_secret()    # a missing or unusable secret is a configuration error, found before any work
    except (ManifestError, ReferenceError, SecretError) as exc:
        raise GraderError(str(exc)) from None
    if not assignment.provided_package.is_dir():
        raise GraderError(f"the provided files of {assignment.name} are missing (run "
                          f"`python -m grader make-starter --assignment {assignment.name}`)")
    state = GradeState(Path(submission), assignment, refs, options, private_tmpdir("grade-"), started=started,
                       meta={"name": Path(submission).name})
    try:
        for step in STEPS:
            t0 = time.monotonic()
            step.run(state)
            if step.name in TIMED:
                state.timing[TIMED[step.name]] = time.monotonic() - t0
    finally:
        _close(state)
        shutil.rmtree(state.tmp, ignore_errors=True)
    for e in state.results.extra_data.grader_errors:
        print(f"grader error in {e['test']}:\n{e['error']}", file=sys.stderr)
    return state.results
