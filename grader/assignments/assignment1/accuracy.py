"""Running assignment 1's accuracy checks (``training.py``) in the submission's sandbox and judging them here."""
from __future__ import annotations

import numpy as np

from grader import checks
from grader.suites._common import new_model

from .shapes import two_layer_shape
from .training import accuracy_task, solver_data

PARAMS = ("W1", "b1", "W2", "b2")


def run_accuracy_check(sb, ref, name: str, seed: int, limits) -> float:
    """Accuracy check ``name`` on the task of the submission's salt; fails below the calibrated threshold."""
    check = ref.training_checks[name]
    task = accuracy_task(ref.salt)
    pkg = sb.package
    if check.kind != "two_layer":
        sb.seed(seed)
        clf = sb.new(f"{pkg}.{check.cls}")
    if check.kind == "knn":
        sb.call_method(clf, "train", task["X_train"], task["y_train"])
        pred = checks.array(sb.call_method(clf, "predict", task["X_test"], timeout=limits.train_timeout,
                                           **check.predict_kwargs),
                            f"predict(X_test, {', '.join(f'{k}={v}' for k, v in check.predict_kwargs.items())})",
                            shape=task["y_test"].shape)
        accuracy = check.accuracy(pred, task)
        what = f"kNN ({', '.join(f'{k}={v}' for k, v in check.predict_kwargs.items())})"
    elif check.kind == "two_layer":
        accuracy, what = _train_two_layer(sb, ref, check, task, seed, limits)
    else:
        history = sb.call_method(clf, "train", task["X_train"], task["y_train"], timeout=limits.train_timeout,
                                 **check.train_kwargs)
        checks.sequence(history, check.train_kwargs["num_iters"], "the loss history train() returns")
        W = checks.array(sb.getattr(clf, "W"), "W after train()", shape=(task["X_train"].shape[1], 10))
        accuracy = check.linear_accuracy(W, task)
        what = f"{check.cls.rsplit('.', 1)[-1]} trained with {check.train_kwargs}"
    threshold = ref.threshold(name)
    if not accuracy >= threshold:
        typical = float(np.median(ref.manifest["calibration"][name]["accuracies"]))
        checks.fail(f"{what} classifies {accuracy:.1%} of the 500 held-out Fashion-MNIST images correctly; at "
                    f"least {threshold:.0%} is required (a correct implementation reaches about {typical:.0%})")
    return accuracy


def _train_two_layer(sb, ref, check, task, seed: int, limits) -> tuple[float, str]:
    """The net of the shape the submission has, trained in the sandbox: the 2021+ one by the Solver with
    the check's settings, the 2016-2020 one by its own ``train`` with the same ones."""
    shape = two_layer_shape(sb)
    m = check.model_kwargs
    model = new_model(sb, shape.model, seed, **shape.kwargs(m["input_dim"], m["hidden_dim"], m["num_classes"],
                                                            m["weight_scale"]))
    data = solver_data(task)
    t = check.train_kwargs
    if shape.old:
        iterations = t["num_epochs"] * len(data["y_train"]) // t["batch_size"]
        sb.call_method(model, "train", data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                       learning_rate=t["optim_config"]["learning_rate"], learning_rate_decay=1.0, reg=0.0,
                       num_iters=iterations, batch_size=t["batch_size"], verbose=False, timeout=limits.train_timeout)
        what = f"the 2016-2020 TwoLayerNet trained by its train() ({iterations} iterations)"
    else:
        solver = sb.new(f"{sb.package}.solver.Solver", model, sb.put(data), **t)
        sb.call_method(solver, "train", timeout=limits.train_timeout)
        what = f"TwoLayerNet trained by the Solver ({t['num_epochs']} epochs)"
    shapes = {"W1": (m["input_dim"], m["hidden_dim"]), "b1": (m["hidden_dim"],),
              "W2": (m["hidden_dim"], m["num_classes"]), "b2": (m["num_classes"],)}
    params = checks.mapping(sb.getattr(model, "params"), "model.params after training", PARAMS, exact=True)
    params = {k: checks.array(params[k], f"model.params[{k!r}] after training", shape=shapes[k]) for k in PARAMS}
    return check.net_accuracy(ref.package, params, task), what
