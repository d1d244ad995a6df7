"""Q4: the linear classifier (classifiers/linear_classifier.py): minibatch SGD and predict, then LinearSVM and
Softmax trained on Fashion-MNIST."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment1.accuracy import run_accuracy_check
from grader.assignments.assignment1.cases import SGD_STEPS

pytestmark = pytest.mark.files("classifiers/linear_classifier.py")

CLS = "classifiers.linear_classifier"


def _sgd(sb, ref, name):
    """Every row of the training set is the same, so whatever rows a step samples, SGD_STEPS steps from W0
    end at one W."""
    c = ref("Q4/sgd")
    X = np.tile(c["row"], (20, 1))
    y = np.full(20, c["label"])
    clf = sb.new(f"{sb.package}.{CLS}.{name}")
    sb.setattr(clf, "W", c["W0"].copy())
    history = sb.call_method(clf, "train", X, y, learning_rate=c["learning_rate"], reg=c["reg"],
                             num_iters=SGD_STEPS, batch_size=5)
    history = checks.array(np.asarray(checks.sequence(history, SGD_STEPS, "the loss history train() returns"),
                                      dtype=np.float64), "the loss history", shape=(SGD_STEPS,))
    checks.close(history, c[f"history_{name}"], f"{name}.train() loss history", 1e-8)
    checks.close(sb.getattr(clf, "W"), c[f"W_{name}"], f"{name}.W after {SGD_STEPS} SGD steps", 1e-8)


@pytest.mark.files("classifiers/linear_classifier.py", "classifiers/softmax.py")
def test_sgd_softmax(sb, ref):
    _sgd(sb, ref, "Softmax")


@pytest.mark.files("classifiers/linear_classifier.py", "classifiers/linear_svm.py")
def test_sgd_svm(sb, ref):
    _sgd(sb, ref, "LinearSVM")


def test_predict(sb, ref):
    c = ref("Q4/sgd")
    clf = sb.new(f"{sb.package}.{CLS}.Softmax")
    sb.setattr(clf, "W", c["W_pred"])
    pred = checks.array(sb.call_method(clf, "predict", c["X_pred"]), "predict(X)", shape=c["y_pred"].shape)
    wrong = int(np.sum(pred != c["y_pred"]))
    if wrong:
        checks.fail(f"predict(X): {wrong} of {len(pred)} labels are not the class of the highest score X.dot(W)")


@pytest.mark.files("classifiers/linear_classifier.py", "classifiers/linear_svm.py")
def test_linear_svm_accuracy(sb, ref, seed, limits):
    run_accuracy_check(sb, ref, "linear_svm", seed, limits)


@pytest.mark.files("classifiers/linear_classifier.py", "classifiers/softmax.py")
def test_softmax_accuracy(sb, ref, seed, limits):
    run_accuracy_check(sb, ref, "softmax", seed, limits)
