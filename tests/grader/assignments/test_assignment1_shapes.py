"""Real assignment-1 submissions in the shapes students hand in, built from the solutions with the small
hand-written files of tests/fixtures/assignment1_submissions and graded end to end (code questions, real
sandbox): the 2016-2020 two-layer net (classifiers/neural_net.py, graded and named in the output), Python 2
leftovers (``from past.builtins import xrange``), the 2025 submission without the SVM part (those tests
score zero with a note, nothing crashes), and the 2025 layout whose FullyConnectedNets part assignment 2's
suites grade from the same archive."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.assignments import load_assignment
from grader.pipeline import grade as grade_all

from support.checking import numerical_gradient, rel_error
from support.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "assignment1_submissions"
SHIMS = ROOT / "grader" / "sandbox" / "inside" / "shims"

Q5_LAYERS = {"test_affine", "test_relu", "test_svm_loss", "test_softmax_loss"}
SVM_TESTS = {"test_svm_loss_naive", "test_svm_loss_vectorized", "test_svm_gradient_check",
             "test_svm_vectorized_speed", "test_sgd_svm", "test_linear_svm_accuracy"}


def submission(tmp_path: Path, name: str, remove=(), add=None, edits=None) -> Path:
    """The composed solutions of assignment 1 as ``<name>/assignment1/cs231n``, edited."""
    sub = tmp_path / name
    shutil.copytree(load_assignment("assignment1").solution_tree(), sub / "assignment1",
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    pkg = sub / "assignment1" / "cs231n"
    for rel in remove:
        (pkg / rel).unlink()
    for rel, source in (add or {}).items():
        (pkg / rel).write_text(source.read_text() if isinstance(source, Path) else source)
    for rel, (old, new) in (edits or {}).items():
        text = (pkg / rel).read_text()
        assert old in text, (rel, old)
        (pkg / rel).write_text(text.replace(old, new))
    return sub


def graded(sub: Path, assignment: str = "assignment1"):
    results = grade_all(sub, assignment, notebooks=False)
    failed = {t.extra_data["test"] for t in results.tests if t.status != "passed"}
    return results, failed


# ------------------------------------------------------------------------ the 2016-2020 two-layer net

def _old_net():
    sys.path.insert(0, str(SHIMS))          # past.builtins, as the sandbox provides it
    try:
        import importlib.util
        spec = importlib.util.spec_from_file_location("_fixture_neural_net", FIXTURES / "neural_net.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.TwoLayerNet
    finally:
        sys.path.remove(str(SHIMS))


def test_the_old_net_fixture_reproduces_canonical_section_8():
    """canonical_checks.md section 8, on the hand-written 2016-2020 net the shape tests submit."""
    TwoLayerNet = _old_net()
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    correct_scores = np.asarray([[-0.81233741, -1.27654624, -0.70335995],
                                 [-0.17129677, -1.18803311, -0.47310444],
                                 [-0.51590475, -1.01354314, -0.8504215],
                                 [-0.15419291, -0.48629638, -0.52901952],
                                 [-0.00618733, -0.12435261, -0.15226949]])
    assert np.sum(np.abs(net.loss(X) - correct_scores)) < 1e-7
    loss, grads = net.loss(X, y, reg=0.05)
    assert abs(loss - 1.30378789133) < 1e-12
    for name in grads:
        num = numerical_gradient(lambda: net.loss(X, y, reg=0.05)[0], net.params[name])
        assert rel_error(num, grads[name]) < 1e-8, name
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    assert stats["loss_history"][-1] < 0.02


@pytest.mark.slow
def test_the_2016_2020_two_layer_net_is_graded_and_named(tmp_path):
    sub = submission(tmp_path, "old_net", remove=("classifiers/fc_net.py", "layers.py", "layer_utils.py"),
                     add={"classifiers/neural_net.py": FIXTURES / "neural_net.py"})
    results, failed = graded(sub)
    assert failed == Q5_LAYERS          # 2016-2020 had no layers.py; the net itself gets full marks
    assert "Q5 graded the 2016-2020 two-layer net: cs231n/classifiers/neural_net.py" in results.output
    assert results.extra_data.submission["two_layer_net_shape"] == "2016-2020"
    assert "neural_net.py is missing" not in results.output


@pytest.mark.slow
def test_a_wrong_old_net_loses_the_regularized_loss_with_a_hint(tmp_path):
    wrong = (FIXTURES / "neural_net.py").read_text().replace(
        "loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))", "loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))")
    sub = submission(tmp_path, "old_net_half_reg", remove=("classifiers/fc_net.py",),
                     add={"classifiers/neural_net.py": wrong})
    results, failed = graded(sub)
    assert failed == {"test_two_layer_loss_regularized"}
    out = next(t.output for t in results.tests if t.extra_data["test"] == "test_two_layer_loss_regularized")
    assert "without a factor 0.5" in out


@pytest.mark.slow
def test_the_2021_net_is_graded_when_both_shapes_are_there(tmp_path):
    sub = submission(tmp_path, "both", add={"classifiers/neural_net.py": FIXTURES / "neural_net.py"})
    results, failed = graded(sub)
    assert failed == set()
    assert "Q5 graded the 2021+ two-layer net" in results.output


# --------------------------------------------------------------------- Python 2 leftovers, a missing part

@pytest.mark.slow
def test_xrange_from_past_builtins_is_graded_unchanged(tmp_path):
    knn = "classifiers/k_nearest_neighbor.py"
    sub = submission(tmp_path, "py2", edits={knn: ("import numpy as np\n",
                                                   "from past.builtins import xrange\nimport numpy as np\n")})
    text = (sub / "assignment1" / "cs231n" / knn).read_text().replace("in range(", "in xrange(")
    (sub / "assignment1" / "cs231n" / knn).write_text(text)
    assert "xrange(num_test)" in text
    results, failed = graded(sub)
    assert failed == set(), [t.output for t in results.tests if t.status != "passed"]


@pytest.mark.slow
def test_a_submission_without_the_svm_scores_zero_there_with_a_note(tmp_path):
    """2025 dropped svm.ipynb: no linear_svm.py. Its tests (and the LinearSVM ones) score zero, unrun, with
    a note; everything else is graded as usual."""
    sub = submission(tmp_path, "no_svm", remove=("classifiers/linear_svm.py",))
    results, failed = graded(sub)
    assert failed == SVM_TESTS
    assert "cs231n/classifiers/linear_svm.py is missing from your submission; its tests score zero." in results.output
    for t in results.tests:
        if t.extra_data["test"] in SVM_TESTS:
            assert t.score == 0 and "linear_svm.py is missing" in t.output
    assert results.extra_data.grader_errors == []


@pytest.mark.slow
def test_the_2025_layout_is_graded_by_both_assignments_suites(tmp_path):
    """2025 moved FullyConnectedNets (the whole layers.py, fc_net.py with FullyConnectedNet, optim.py and
    solver.py) into assignment 1 and dropped the SVM. Assignment 1's suites grade the package as it is;
    assignment 2's suites grade its FullyConnectedNets part from the same archive."""
    a2 = ROOT / "solutions" / "assignment2" / "cs231n"
    sub = submission(tmp_path, "layout_2025", remove=("classifiers/linear_svm.py", "layers.py", "layer_utils.py",
                                                      "optim.py", "classifiers/fc_net.py"),
                     add={"layers.py": a2 / "layers.py", "layer_utils.py": a2 / "layer_utils.py",
                          "optim.py": a2 / "optim.py", "classifiers/fc_net.py": a2 / "classifiers" / "fc_net.py"})
    shutil.copy(ROOT / "solutions" / "assignment2" / "FullyConnectedNets.ipynb", sub / "assignment1")
    results, failed = graded(sub)
    assert failed == SVM_TESTS
    results2, failed2 = graded(sub, "assignment2")
    by_question = {q.id: q for q in results2.extra_data.questions}
    for qid in ("Q1", "Q2", "Q3", "Q4"):        # layers, two-layer net, FullyConnectedNet, update rules
        assert by_question[qid].score == by_question[qid].max_score, qid
    assert "cnn.py is missing" in results2.output


@pytest.mark.slow
def test_a_gradient_with_the_wrong_l2_term_gets_the_hint(tmp_path):
    """reg * W instead of 2 * reg * W in the vectorized SVM gradient: the loss tests say why, the naive loss
    (correct) still passes."""
    svm = "classifiers/linear_svm.py"
    sub = submission(tmp_path, "half_reg_gradient", edits={svm: ("dW = X.T.dot(coeff) / num_train + 2 * reg * W",
                                                                 "dW = X.T.dot(coeff) / num_train + reg * W")})
    results, failed = graded(sub)
    assert {"test_svm_loss_vectorized", "test_svm_gradient_check", "test_svm_vectorized_speed"} <= failed
    assert "test_svm_loss_naive" not in failed and not failed & {"test_softmax_loss_vectorized", "test_knn_accuracy"}
    out = next(t.output for t in results.tests if t.extra_data["test"] == "test_svm_loss_vectorized")
    assert "the gradient of reg * np.sum(W * W) is 2 * reg * W, not reg * W" in out


@pytest.mark.slow
def test_untrained_and_constant_classifiers_fail_the_accuracy_checks(tmp_path):
    """SGD that never updates W (the classifiers stay at their random start) and a kNN vote that always
    answers the first training label: the calibrated accuracy checks fail them, the rest passes."""
    sub = submission(tmp_path, "trivial", edits={
        "classifiers/linear_classifier.py": ("self.W -= learning_rate * grad", "pass"),
        "classifiers/k_nearest_neighbor.py": ("y_pred[i] = np.argmax(np.bincount(closest_y))",
                                              "y_pred[i] = self.y_train[0]")})
    results, failed = graded(sub)
    assert failed == {"test_sgd_softmax", "test_sgd_svm", "test_linear_svm_accuracy", "test_softmax_accuracy",
                      "test_predict_labels", "test_predict_labels_ties", "test_knn_accuracy"}
    out = next(t.output for t in results.tests if t.extra_data["test"] == "test_softmax_accuracy")
    stored = json.loads((load_assignment("assignment1").references_dir / "manifest.json").read_text())
    assert f"at least {stored['calibration']['softmax']['threshold']:.0%}" in out and "held-out Fashion-MNIST" in out


@pytest.mark.slow
def test_a_vectorized_loss_that_loops_fails_only_the_speed_check(tmp_path):
    sm = "classifiers/softmax.py"
    sub = submission(tmp_path, "looping_vectorized", edits={sm: (
        '''    Inputs and outputs are the same as softmax_loss_naive.
    """''', '''    Inputs and outputs are the same as softmax_loss_naive.
    """
    return softmax_loss_naive(W, X, y, reg)''')})
    results, failed = graded(sub)
    assert failed == {"test_softmax_vectorized_speed"}
    out = next(t.output for t in results.tests if t.extra_data["test"] == "test_softmax_vectorized_speed")
    assert "times faster; at least 3 times is required" in out
