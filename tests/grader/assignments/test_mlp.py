"""The mlp assignment graded end to end by the CLI: its package is ``common`` (not cs231n), its classes are
driven through the sandbox, its training checks run with the Trainer. A submission with three classic
mistakes loses exactly those tests, with the hint of each; the selftest (notebooks included) passes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from support.paths import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")]

ENV = dict(os.environ, GRADER_SECRET="mlp-test-secret-0123456789", OPENBLAS_NUM_THREADS="1")


def _grader(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def _replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_classic_mistakes_lose_their_tests_only(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions" / "mlp", sub, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    common = sub / "common"
    # AdaBelief with Adam's second moment, dropout without the test-time scaling, weight decay without its 0.5
    _replace(common / "optimizer.py", "((grads[key] - self.m[key]) ** 2 - self.s[key])", "(grads[key] ** 2 - self.s[key])")
    _replace(common / "layers.py", "out = x * (1.0 - self.dropout_ratio)", "out = x")
    _replace(common / "multi_layer_net.py", "weight_decay += 0.5 * self.weight_decay_lambda", "weight_decay += self.weight_decay_lambda")
    out = tmp_path / "results.json"
    proc = _grader("grade", str(sub), "--assignment", "mlp", "--no-notebooks", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    lost = {t["extra_data"]["test"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert set(lost) == {"test_adabelief", "test_dropout_forward_test", "test_extend_dropout", "test_weight_decay_loss"}
    assert "(g - m)**2" in lost["test_adabelief"]
    assert "scaled by 1 - dropout_ratio" in lost["test_dropout_forward_test"]
    assert "with the 0.5" in lost["test_weight_decay_loss"]
    curves = {c["id"] for c in results["extra_data"]["training_curves"]}
    assert curves == {"mlp_adam", "batchnorm_net"}


def test_a_net_that_does_not_learn_fails_the_training_checks(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions" / "mlp", sub, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    # the update rules do nothing: the nets keep their initial weights
    _replace(sub / "common" / "optimizer.py", "params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)",
             "pass")
    _replace(sub / "common" / "optimizer.py", "params[key] -= self.lr * grads[key]\n", "pass\n")
    out = tmp_path / "results.json"
    proc = _grader("grade", str(sub), "--assignment", "mlp", "--no-notebooks", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    scores = {t["extra_data"]["test"]: (t["score"], t["output"]) for t in json.loads(out.read_text())["tests"]}
    for name in ("test_mlp_training", "test_batchnorm_training"):
        score, output = scores[name]
        assert score == 0 and "did not change while the Trainer trained it" in output
    assert scores["test_mlp_gradient"][0] > 0


def test_selftest_with_the_notebooks():
    proc = _grader("selftest", "--assignment", "mlp", "--notebooks", timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the starter gets zero" in proc.stdout
