"""Training checks: the student's model and the Solver train in the sandbox; accuracy is measured here.

Only the training part of the task (``references.sandbox_training_data``) is sent into the sandbox. The
trained parameters come back as plain data (``sb.getattr(model, 'params')``), are validated strictly
(exact keys, shapes, finite values), and are evaluated on the trusted side with the *reference* forward
pass on held-out images the sandbox never sees. The threshold was calibrated on the reference (see
``grader.references.calibrate``); the same seed is used at every grade, so grading is deterministic.
"""
from __future__ import annotations

import numpy as np

from grader import checks, references
from grader.suites._common import PKG, new_model


def run_training_check(sb, ref, name: str, seed: int, limits) -> float:
    check = references.TRAINING_CHECKS[name]
    threshold = ref.threshold(name)
    calibrated = ref.manifest["calibration"][name]
    data = sb.put(references.sandbox_training_data())
    model = new_model(sb, check.model, seed, **check.model_kwargs)
    solver = sb.new(f"{PKG}.solver.Solver", model, data, **check.solver_kwargs)
    sb.call_method(solver, "train", timeout=limits.train_timeout)
    params = sb.getattr(model, "params")
    expected = {k: v.shape for k, v in references.reference_model(check).params.items()}
    checks.mapping(params, "model.params after training", expected.keys(), exact=True)
    trained = {k: checks.array(params[k], f"model.params[{k!r}] after training", shape=shape)
               for k, shape in expected.items()}
    accuracy = references.evaluate_params(check, trained)
    if not accuracy >= threshold:
        typical = float(np.median(calibrated["accuracies"]))
        checks.fail(f"after training with the Solver, the model classifies {accuracy:.1%} of held-out "
                    f"images correctly; at least {threshold:.0%} is required (a correct implementation "
                    f"reaches about {typical:.0%})")
    return accuracy
