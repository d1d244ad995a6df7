"""End to end: real submissions through the real sandbox.

Broken submissions are the solutions with code APPENDED to a graded file that redefines one function
(a later ``def`` wins), so each test knows exactly which tests must fail and which must still pass.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from support.paths import ROOT, SOLUTIONS, STARTER
from grader.pipeline import GraderError
from grader.pipeline import grade as grade_all

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (ROOT / "reference_outputs" / "assignment2" / "manifest.json").is_file(),
                                reason="reference outputs not generated")]
HAS_MODEL = (SOLUTIONS / "best_model.npz").is_file()
Q7_TESTS = {"test_best_model_loads", "test_best_model_accuracy_70", "test_best_model_accuracy_80",
            "test_best_model_accuracy_85"}


def grade(submission: Path, **kwargs):
    """The code questions only (the notebooks are graded once, by tests/notebook_run.py's fixture)."""
    return grade_all(submission, "assignment2", notebooks=False, **kwargs)


def make_submission(tmp_path: Path, appended: dict[str, str] | None = None, remove=()) -> Path:
    sub = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, sub, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for rel, code in (appended or {}).items():
        path = sub / "cs231n" / rel
        path.write_text(path.read_text() + "\n\n# ---- appended by the test ----\n" + textwrap.dedent(code))
    for rel in remove:
        (sub / "cs231n" / rel).unlink()
    return sub


def failed_tests(results) -> set[str]:
    return {t.extra_data["test"] for t in results.tests if t.status != "passed"}


def output_of(results, test: str) -> str:
    return next(t.output for t in results.tests if t.extra_data["test"] == test)


def expected_failures(*names) -> set[str]:
    return set(names) | (set() if HAS_MODEL else Q7_TESTS)


# --------------------------------------------------------------------------------------------------
def test_cli_grades_the_solutions_zip_with_full_marks(tmp_path):
    """The CLI on solutions.zip (built by make-zips): exit 0, full marks, a valid results.json."""
    from grader.assignments import load_assignment
    from grader.authoring import build_assignment_zips

    zips = build_assignment_zips(tmp_path / "zips", load_assignment("assignment2"))
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(zips["solutions"]), "--assignment",
                           "assignment2", "--out", str(out), "--no-notebooks"],   # notebooks: tests/notebook_run.py
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["extra_data"]["grader_errors"] == []
    assert results["extra_data"]["sandbox"]["sandboxed"] is True
    failed = {t["extra_data"]["test"] for t in results["tests"] if t["status"] != "passed"}
    assert failed == expected_failures()
    for q in results["extra_data"]["questions"]:
        if q["id"] != "Q7" or HAS_MODEL:
            assert q["score"] == q["max_score"], q
    assert "Q1" in proc.stdout and "total" in proc.stdout          # the per-question table


def test_starter_gets_zero_on_every_test_without_grader_errors():
    results = grade(STARTER)
    assert results.score == 0
    assert all(t.score == 0 and t.status == "failed" and t.output for t in results.tests)
    for training in ("test_two_layer_training", "test_fc_net_training", "test_three_layer_convnet_training"):
        assert "model.params after construction" in output_of(results, training), output_of(results, training)
    assert results.extra_data.grader_errors == []
    assert "internal grader error" not in json.dumps([t.output for t in results.tests])


BROKEN_ADAM_AND_SVM = {
    "optim.py": '''
    def adam(w, dw, config=None):
        """Adam without bias correction (a classic mistake)."""
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("m", np.zeros_like(w))
        config.setdefault("v", np.zeros_like(w))
        config.setdefault("t", 0)
        config["t"] += 1
        config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
        config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw * dw
        next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
        return next_w, config
    ''',
    "layers.py": '''
    _svm_loss_correct = svm_loss
    def svm_loss(x, y):
        """dx not averaged over N."""
        loss, dx = _svm_loss_correct(x, y)
        return loss, dx * x.shape[0]
    ''',
}


def test_partial_credit_and_determinism(tmp_path):
    sub = make_submission(tmp_path, BROKEN_ADAM_AND_SVM)
    first = grade(sub)
    assert failed_tests(first) == expected_failures("test_adam", "test_adam_default_state", "test_svm_loss")
    assert "bias correction" in output_of(first, "test_adam")
    assert "averaged over the N" in output_of(first, "test_svm_loss")
    q = {x.id: x for x in first.extra_data.questions}
    assert q["Q4"].score == q["Q4"].max_score - 4 and q["Q1"].score == q["Q1"].max_score - 1
    assert q["Q2"].score == q["Q2"].max_score
    second = grade(sub)
    summary = [(t.number, t.score, t.status, t.output) for t in first.tests]
    assert summary == [(t.number, t.score, t.status, t.output) for t in second.tests]
    assert first.score == second.score


def test_a_hanging_and_a_crashing_function_cost_only_their_tests(tmp_path):
    sub = make_submission(tmp_path, {"layers.py": '''
    import os as _os
    def conv_forward_naive(x, w, b, conv_param):
        while True:
            pass
    def max_pool_forward_naive(x, pool_param):
        _os._exit(3)
    '''})
    results = grade(sub)
    assert failed_tests(results) == expected_failures("test_conv_forward", "test_conv_backward",
                                                      "test_max_pool_forward", "test_max_pool_backward")
    assert "did not finish in time" in output_of(results, "test_conv_forward")
    assert "died" in output_of(results, "test_max_pool_forward")
    assert results.extra_data.grader_errors == []
    assert results.extra_data.sandbox["worker_starts"] >= 5   # a fresh worker after each timeout/crash


WRONG_RESULTS = {
    "layers.py": '''
    class _Opaque:
        pass
    class _Sub(np.ndarray):
        pass
    _orig = dict(max_pool=max_pool_forward_naive, leaky=leaky_relu_forward, svm=svm_loss,
                 conv=conv_forward_naive, gn=spatial_groupnorm_forward)
    def max_pool_forward_naive(x, pool_param):
        out, cache = _orig["max_pool"](x, pool_param)
        return _Opaque(), cache                      # not an array: stays in the sandbox as a Handle
    def leaky_relu_forward(x, alpha=0.01):
        out, cache = _orig["leaky"](x, alpha)
        return out.T.copy(), cache                   # wrong shape
    def svm_loss(x, y):
        loss, dx = _orig["svm"](x, y)
        return loss, dx.view(_Sub)                   # an ndarray subclass (correct values)
    def conv_forward_naive(x, w, b, conv_param):
        out, cache = _orig["conv"](x, w, b, conv_param)
        return out * 1.001, cache                    # wrong values
    def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
        out, cache = _orig["gn"](x, gamma, beta, G, gn_param)
        return out * np.nan, cache                   # NaN
    ''',
    "optim.py": '''
    _orig_rmsprop = rmsprop
    def rmsprop(w, dw, config=None):
        next_w, config = _orig_rmsprop(w, dw, config)
        return next_w.tolist(), config               # a list, not an array
    ''',
}


def test_wrong_results_fail_with_clear_messages(tmp_path):
    results = grade(make_submission(tmp_path, WRONG_RESULTS))
    messages = {
        "test_max_pool_forward": "not plain data",
        "test_leaky_relu": "expected shape",
        "test_conv_forward": "relative error",
        "test_spatial_groupnorm_forward": "NaN or infinite",
        "test_rmsprop": "got a list",
    }
    assert failed_tests(results) == expected_failures(*messages)
    for test, fragment in messages.items():
        assert fragment in output_of(results, test), (test, output_of(results, test))
    # The subclass crosses the sandbox boundary as a plain array (its methods never run here): its values are
    # right, so the test passes. (checks.array rejects subclasses too; see test_grader_checks.py.)
    assert "test_svm_loss" not in failed_tests(results)
    assert results.extra_data.grader_errors == []


LINEAR_TWO_LAYER_NET = {"classifiers/fc_net.py": '''
def _linear_loss(self, X, y=None):
    """affine - affine - softmax: no ReLU, so the network is a linear classifier."""
    h, c1 = affine_forward(X, self.params["W1"], self.params["b1"])
    scores, c2 = affine_forward(h, self.params["W2"], self.params["b2"])
    if y is None:
        return scores
    loss, dscores = softmax_loss(scores, y)
    grads = {}
    dh, grads["W2"], grads["b2"] = affine_backward(dscores, c2)
    _, grads["W1"], grads["b1"] = affine_backward(dh, c1)
    return loss, grads
TwoLayerNet.loss = _linear_loss
'''}

NO_SGD_UPDATE = {"optim.py": '''
def sgd(w, dw, config=None):
    """Forgets to update: the model stays untrained."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w, config
'''}


LINEAR_CONVNET = {"classifiers/cnn.py": '''
from ..fast_layers import conv_backward_fast, conv_forward_fast
def _linear_cnn_loss(self, X, y=None):
    """conv - keep every other pixel (times 1/4) - affine - affine - softmax: no ReLU and no max pooling, so
    the network (with the parameters and shapes of the real one) is a linear classifier. (The 1/4 keeps
    plain SGD at the check's learning rate from diverging, so it fails on accuracy, not on NaN.)"""
    X = X.astype(self.dtype, copy=False)
    W1, b1, W2, b2, W3, b3 = (self.params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    a, conv_cache = conv_forward_fast(X, W1, b1, {"stride": 1, "pad": (self.filter_size - 1) // 2})
    Hp, Wp = a.shape[2] // 2, a.shape[3] // 2
    s = 0.25 * a[:, :, 0:2 * Hp:2, 0:2 * Wp:2]
    h, c1 = affine_forward(s, W2, b2)
    scores, c2 = affine_forward(h, W3, b3)
    if y is None:
        return scores
    loss, dscores = softmax_loss(scores, y)
    grads = {}
    dh, grads["W3"], grads["b3"] = affine_backward(dscores, c2)
    ds, grads["W2"], grads["b2"] = affine_backward(dh, c1)
    da = np.zeros_like(a)
    da[:, :, 0:2 * Hp:2, 0:2 * Wp:2] = 0.25 * ds
    _, grads["W1"], grads["b1"] = conv_backward_fast(da, conv_cache)
    return loss, grads
ThreeLayerConvNet.loss = _linear_cnn_loss
'''}


def test_linear_and_untrained_models_fail_the_training_checks(tmp_path):
    linear = grade(make_submission(tmp_path / "linear", {**LINEAR_TWO_LAYER_NET, **LINEAR_CONVNET}))
    failed = failed_tests(linear)
    assert "test_two_layer_training" in failed and "test_fc_net_training" not in failed
    assert "held-out" in output_of(linear, "test_two_layer_training")
    # The linear convnet has the right parameters (init passes) and trains, but stays far below the threshold.
    assert "test_three_layer_convnet_training" in failed and "test_three_layer_convnet_init" not in failed
    assert "held-out" in output_of(linear, "test_three_layer_convnet_training")
    untrained = grade(make_submission(tmp_path / "untrained", NO_SGD_UPDATE))
    assert failed_tests(untrained) == expected_failures("test_two_layer_training", "test_fc_net_training",
                                                        "test_three_layer_convnet_training")
    assert "did not change" in output_of(untrained, "test_three_layer_convnet_training")


def test_missing_and_unimportable_files_cost_only_their_tests(tmp_path):
    sub = make_submission(tmp_path, {"classifiers/cnn.py": "def broken(:\n"}, remove=["optim.py"])
    results = grade(sub)
    q4 = {"test_sgd_momentum", "test_rmsprop", "test_adam", "test_adam_default_state"}
    cnn = {"test_three_layer_convnet_init", "test_three_layer_convnet_scores", "test_three_layer_convnet_loss",
           "test_three_layer_convnet_training"}
    assert failed_tests(results) == expected_failures(*q4, *cnn)
    assert "missing from your submission" in output_of(results, "test_adam")
    assert "could not be imported" in output_of(results, "test_three_layer_convnet_loss")
    assert "SyntaxError" in output_of(results, "test_three_layer_convnet_loss")
    assert "cs231n/optim.py is missing" in results.output and "cs231n/classifiers/cnn.py could not be imported" \
        in results.output


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"), "could not be unpacked"),
    (lambda p: p.write_text("hello"), "not a zip archive"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("notes/readme.txt", "no code here"), "no cs231n package found"),
])
def test_archive_problems_give_zero_with_the_message(tmp_path, make, fragment):
    upload = tmp_path / "submission.zip"
    make(upload)
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(upload), "--assignment", "assignment2",
                           "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["score"] == 0
    assert fragment in results["output"]
    assert all(t["score"] == 0 for t in results["tests"])


def test_without_a_working_sandbox_grading_refuses_unless_no_sandbox(tmp_path, monkeypatch):
    from grader.__main__ import main
    from grader.sandbox import launch

    monkeypatch.setattr(launch, "probe", lambda *a, **k: {"ok": False, "reason": "disabled by the test"})
    with pytest.raises(GraderError, match="no-sandbox"):
        grade(STARTER)
    assert main(["grade", str(STARTER), "--assignment", "assignment2", "--out", str(tmp_path / "r.json"),
                 "--no-notebooks"]) == 2
    assert not (tmp_path / "r.json").exists()
    assert main(["grade", str(STARTER), "--assignment", "assignment2", "--out", str(tmp_path / "r.json"),
                 "--no-sandbox", "--no-notebooks"]) == 0
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["extra_data"]["sandbox"]["sandboxed"] is False
    assert "WITHOUT a sandbox" in results["output"] and results["score"] == 0


@pytest.mark.skipif(not HAS_MODEL, reason="solutions/best_model.npz not generated yet (FullyConnectedNets.ipynb)")
def test_selftest_passes():
    proc = subprocess.run([sys.executable, "-m", "grader", "selftest"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "selftest passed" in proc.stdout
    assert proc.stdout.count("[ok]") >= 7 and "[FAIL]" not in proc.stdout


def test_a_sandbox_that_does_not_start_is_a_grader_error():
    from grader.sandbox.proxy import SandboxCrash

    class NeverStarts:
        info: dict = {}

        def __init__(self, package_dir, limits):
            pass

        def start(self):
            raise SandboxCrash("the worker did not say hello")

        def close(self):
            pass

    with pytest.raises(GraderError, match="did not start"):
        grade(SOLUTIONS, sandbox_factory=NeverStarts)


READ_ONLY_PARAMS = {"classifiers/fc_net.py": '''
import types as _types
_fc_init = FullyConnectedNet.__init__
def _read_only_init(self, *args, **kwargs):
    _fc_init(self, *args, **kwargs)
    self.params = _types.MappingProxyType(self.params)     # model.params[k] = v raises TypeError
FullyConnectedNet.__init__ = _read_only_init
'''}


def test_an_error_of_a_request_sent_ahead_fails_its_own_test_only(tmp_path):
    """The grader pipelines ``model.params[k] = v`` (no round trip of its own): its TypeError must fail the
    FullyConnectedNet tests that sent it, with the student's message, and no test after them."""
    results = grade(make_submission(tmp_path, READ_ONLY_PARAMS))
    failed = failed_tests(results) - expected_failures()
    assert {"test_fc_net_loss", "test_fc_net_training"} <= failed
    assert "mappingproxy" in output_of(results, "test_fc_net_loss")
    for test in failed:
        assert "mappingproxy" in output_of(results, test) or "model.params" in output_of(results, test), \
            (test, output_of(results, test))
    q = {x.id: x for x in results.extra_data.questions}
    for unaffected in ("Q1", "Q2", "Q4", "Q8"):      # Q4 runs right after the failing Q3 tests
        assert q[unaffected].score == q[unaffected].max_score, q[unaffected]
    assert results.extra_data.grader_errors == []


CRASHING_FIRST_TRAINING = {"classifiers/fc_net.py": '''
import os as _os
_two_layer_loss = TwoLayerNet.loss
def _crash_on_training_batches(self, X, y=None):
    if y is not None and X.shape[0] >= 50:     # the Solver's minibatches; the unit checks use a few rows
        _os._exit(3)
    return _two_layer_loss(self, X, y)
TwoLayerNet.loss = _crash_on_training_batches
'''}


def test_training_checks_run_ahead_in_a_second_sandbox_and_a_crash_costs_one_check(tmp_path):
    """The training checks train in a sandbox of their own while the unit checks run; the worker dying in the
    first one is restarted for the next ones."""
    results = grade(make_submission(tmp_path, CRASHING_FIRST_TRAINING))
    assert failed_tests(results) == expected_failures("test_two_layer_training")
    assert "died" in output_of(results, "test_two_layer_training")
    sandbox = results.extra_data.sandbox
    assert sandbox["training_worker_starts"] == 2 and sandbox["worker_starts"] == 1
    assert results.extra_data.grader_errors == []


def test_training_ahead_or_inline_gives_the_same_grade(tmp_path):
    """``train_ahead=False`` (what grade-batch asks for) trains in the first worker after the unit checks:
    the same scores, outputs and training curves as training ahead in a second worker."""
    sub = make_submission(tmp_path, BROKEN_ADAM_AND_SVM)
    ahead, inline = grade(sub), grade(sub, train_ahead=False)
    assert "training_worker_starts" in ahead.extra_data.sandbox
    assert "training_worker_starts" not in inline.extra_data.sandbox
    assert [(t.number, t.score, t.status, t.output) for t in ahead.tests] == \
        [(t.number, t.score, t.status, t.output) for t in inline.tests]
    assert ahead.extra_data.training_curves == inline.extra_data.training_curves
    assert len(inline.extra_data.training_curves) == 3
