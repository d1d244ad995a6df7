"""Training checks: the student's model and the Solver train in the sandbox; accuracy is measured here.

Only the training part of the task (``references.sandbox_training_data(salt, check)``: flat rows, or images
``(N, 1, 14, 14)`` for the convolutional check) is sent into the sandbox.
The task is the one of the submission's salt (``ref.salt``, see ``grader.secret``): a salted choice of
training images and a salted derangement of the class labels, so weights trained beforehand (and loaded
by the constructor) do not fit it. The parameters are fetched right after construction and again after
``Solver.train()``: they must have changed. The trained parameters come back as plain data
(``sb.getattr(model, 'params')``), are validated strictly (exact keys, shapes, finite values), and are
evaluated on the trusted side with the *reference* forward pass on held-out images the sandbox never
sees. The threshold was calibrated on the reference over many seeds and salts (see
``grader.references.calibrate``); a submission's salt and the seed are fixed, so grading is deterministic.
The Solver's loss and accuracy histories go to the report (``extra_data.training_curves``), whatever the
outcome.
"""
from __future__ import annotations

import numpy as np

from grader import checks, references, report
from grader.sandbox.proxy import SandboxError
from grader.suites._common import PKG, new_model
from grader.suites.plugin import OutOfTime

HISTORIES = ("loss_history", "train_acc_history", "val_acc_history")   # the Solver's, for the report
MIN_MOVEMENT = 1e-6   # relative change of the parameters during training below which they "did not change"


def _params(value, expected: dict[str, tuple], when: str) -> dict[str, np.ndarray]:
    checks.mapping(value, f"model.params {when}", expected.keys(), exact=True)
    return {k: checks.array(value[k], f"model.params[{k!r}] {when}", shape=shape) for k, shape in expected.items()}


def _record_curve(sb, solver, check) -> None:
    """Fetch the Solver's histories into ``sb.submission.training_curves`` (feedback for the report: the
    values are cleaned by ``grader.report.training_curve``; nothing here can fail the test)."""
    info = getattr(sb, "submission", None)
    if info is None:
        return
    try:
        histories = {key: sb.getattr(solver, key) for key in HISTORIES}
    except (SandboxError, OutOfTime):
        return
    title = f"{check.question}: {check.model.rsplit('.', 1)[-1]} trained by the Solver"
    info.training_curves.append(report.training_curve(check.name, title, **histories))


def run_training_check(sb, ref, name: str, seed: int, limits) -> float:
    check = references.TRAINING_CHECKS[name]
    threshold = ref.threshold(name)
    calibrated = ref.manifest["calibration"][name]
    salt = getattr(ref, "salt", None)
    expected = {k: v.shape for k, v in references.reference_model(check).params.items()}
    data = sb.put(references.sandbox_training_data(salt, check))   # images shaped for the model
    model = new_model(sb, check.model, seed, **check.model_kwargs)
    initial = _params(sb.getattr(model, "params"), expected, "after construction")
    solver = sb.new(f"{PKG}.solver.Solver", model, data, **check.solver_kwargs)
    sb.call_method(solver, "train", timeout=limits.train_timeout)
    _record_curve(sb, solver, check)
    trained = _params(sb.getattr(model, "params"), expected, "after training")
    moved = np.sqrt(sum(float(np.sum((trained[k] - initial[k]) ** 2)) for k in expected))
    scale = np.sqrt(sum(float(np.sum(initial[k] ** 2)) for k in expected))
    if not moved > MIN_MOVEMENT * max(scale, 1e-12):
        checks.fail("the model's parameters did not change while the Solver trained it: the Solver must update "
                    "model.params with the gradients of model.loss")
    accuracy = references.evaluate_params(check, trained, salt)
    if not accuracy >= threshold:
        typical = float(np.median(calibrated["accuracies"]))
        checks.fail(f"after training with the Solver, the model classifies {accuracy:.1%} of held-out "
                    f"images correctly; at least {threshold:.0%} is required (a correct implementation "
                    f"reaches about {typical:.0%})")
    return accuracy
