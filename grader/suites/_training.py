"""Training checks: the student's model and the Solver train in the sandbox; accuracy is measured here.

Only the training part of the task (``training.sandbox_training_data(salt, check)``: flat rows, or images
``(N, 1, 14, 14)`` for the convolutional check) is sent into the sandbox.
The task is the one of the submission's salt (``ref.salt``, see ``grader.secret``): a salted choice of
training images and a salted derangement of the class labels, so weights trained beforehand (and loaded
by the constructor) do not fit it. The parameters are fetched right after construction and again after
``Solver.train()``: they must have changed. The trained parameters come back as plain data
(``sb.getattr(model, 'params')``), are validated strictly (exact keys, shapes, finite values), and are
evaluated on the trusted side with the *reference* forward pass on held-out images the sandbox never
sees. The threshold was calibrated on the reference over many seeds and salts (see
``grader.references.training.calibrate``); a submission's salt and the seed are fixed, so grading is deterministic.
The Solver's loss and accuracy histories go to the report (``extra_data.training_curves``), whatever the
outcome.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np

from grader import checks, report
from grader.references import training
from grader.sandbox.proxy import SandboxError
from grader.suites._common import new_model
from grader.suites.plugin import OutOfTime

MIN_MOVEMENT = 1e-6   # relative change of the parameters during training below which they "did not change"


def _params(value, expected: dict[str, tuple], when: str) -> dict[str, np.ndarray]:
    checks.mapping(value, f"model.params {when}", expected.keys(), exact=True)
    return {k: checks.array(value[k], f"model.params[{k!r}] {when}", shape=shape) for k, shape in expected.items()}


_SHAPES: dict[tuple[str, str], dict[str, tuple]] = {}


def _expected_shapes(refs, name: str) -> dict[str, tuple]:
    """The parameter shapes of the reference model of check ``name`` (cached: ``TrainingRunner`` fills the
    cache from the main thread, so its own thread never touches NumPy's global random state, which
    reference_model saves and restores)."""
    key = (refs.assignment.name, name)
    if key not in _SHAPES:
        model = training.reference_model(refs.training_checks[name], refs.package)
        _SHAPES[key] = {k: v.shape for k, v in model.params.items()}
    return dict(_SHAPES[key])


def _histories(sb, trainer, check) -> dict | None:
    """The training's histories (feedback for the report; nothing here can fail the test)."""
    try:
        return {key: sb.getattr(trainer, attr) for key, attr in check.HISTORIES.items()}
    except (SandboxError, OutOfTime):
        return None


def train_in_sandbox(sb, refs, name: str, seed: int, limits) -> tuple:
    """The sandbox part of training check ``name``: construct the model (RNG seeded with ``seed``), train
    it with the Solver on the task of the salt of ``refs`` -> ``(params after construction, histories or
    None, params after training)``; the parameters after training as they came back (validated by
    ``judge_training``)."""
    check = refs.training_checks[name]
    data = training.sandbox_training_data(refs.salt, check)   # images shaped for the model
    model = new_model(sb, check.model, seed, **check.model_kwargs)
    initial = _params(sb.getattr(model, "params"), _expected_shapes(refs, name), "after construction")
    trainer = check.sandbox_train(sb, refs.assignment.package, model, data, limits.train_timeout)
    histories = _histories(sb, trainer, check)
    return initial, histories, sb.getattr(model, "params")


def run_training_check(sb, ref, name: str, seed: int, limits) -> float:
    """Training check ``name``: trained in the second sandbox started ahead (``TrainingRunner``, when the
    grade has one), else here in ``sb``; judged on this side."""
    info = getattr(sb, "submission", None)
    runner = getattr(info, "trainings", None)
    if runner is not None and runner.has(name):
        initial, histories, trained = runner.result(name)    # re-raises what the sandbox part raised
    else:
        initial, histories, trained = train_in_sandbox(sb, ref, name, seed, limits)
    return judge_training(ref, name, initial, histories, trained, info)


def judge_training(ref, name: str, initial, histories, trained, info) -> float:
    check = ref.training_checks[name]
    if histories is not None and info is not None:
        title = f"{check.question}: {check.model.rsplit('.', 1)[-1]} trained by the {check.TRAINER}"
        info.training_curves.append(report.training_curve(check.name, title, **histories))
    expected = _expected_shapes(ref, name)
    trained = _params(trained, expected, "after training")
    moved = np.sqrt(sum(float(np.sum((trained[k] - initial[k]) ** 2)) for k in expected))
    scale = np.sqrt(sum(float(np.sum(initial[k] ** 2)) for k in expected))
    if not moved > MIN_MOVEMENT * max(scale, 1e-12):
        checks.fail(f"the model's parameters did not change while the {check.TRAINER} trained it: the "
                    f"{check.TRAINER} must update model.params with the gradients of the model's loss")
    threshold = ref.threshold(name)
    accuracy = training.evaluate_params(check, ref.package, trained, ref.salt)
    if not accuracy >= threshold:
        typical = float(np.median(ref.manifest["calibration"][name]["accuracies"]))
        checks.fail(f"after training with the {check.TRAINER}, the model classifies {accuracy:.1%} of held-out "
                    f"images correctly; at least {threshold:.0%} is required (a correct implementation "
                    f"reaches about {typical:.0%})")
    return accuracy


class TrainingRunner:
    """Runs the sandbox part of the training checks ahead, in a second sandbox of the same submission, in a
    thread: they train while the unit checks run in the first one (two processes, two cores). The tests
    then take their results (``result``) and judge them on the trusted side.

    Each check seeds the RNG itself, so its result does not depend on which worker trained it. The thread
    lives until ``close`` (bubblewrap's --die-with-parent follows the thread that started the worker).
    """

    def __init__(self, factory, package_dir, limits, names, seed: int, refs, info):
        self._futures = {name: Future() for name in names}
        for name in names:
            _expected_shapes(refs, name)
            training.sandbox_training_data(refs.salt)     # the task, computed once here (cached)
        self._factory, self._package_dir, self._limits = factory, package_dir, limits
        self._seed, self._refs, self._info = seed, refs, info
        self._release = threading.Event()
        self.sandbox = None
        self._thread = threading.Thread(target=self._run, name="training-runner", daemon=True)
        self._thread.start()

    def has(self, name: str) -> bool:
        return name in self._futures

    def result(self, name: str) -> tuple:
        return self._futures[name].result()

    def _run(self) -> None:
        try:
            self.sandbox = self._factory(self._package_dir, self._limits)
            sb = _WithSubmission(self.sandbox, self._info, self._refs.assignment.package)
            for name, future in self._futures.items():
                try:
                    future.set_result(train_in_sandbox(sb, self._refs, name, self._seed, self._limits))
                except BaseException as exc:  # noqa: BLE001 - raised again in the test that takes it
                    future.set_exception(exc)
        except BaseException as exc:  # noqa: BLE001 - the sandbox did not start: every check gets the error
            for future in self._futures.values():
                if not future.done():
                    future.set_exception(exc)
        self._release.wait()

    def close(self) -> None:
        try:
            if self.sandbox is not None:
                self.sandbox.close()
        finally:
            self._release.set()
            self._thread.join(timeout=10)


class _WithSubmission:
    """A sandbox seen with the submission's facts (constructor keywords), as the suites' ``sb`` is."""

    def __init__(self, sandbox, info, package: str):
        self._sb, self.submission, self.package = sandbox, info, package

    def __getattr__(self, name):
        return getattr(self._sb, name)
