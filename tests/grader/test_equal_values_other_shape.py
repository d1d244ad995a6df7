"""Submissions whose values equal the reference in another shape or type earn the points, with a note
naming the expected shape (before: zero for each such test, up to 13 points)."""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, grade_code, make_submission

pytestmark = pytest.mark.slow

ROW_VECTORS = """
_bn_forward, _bn_backward, _bn_backward_alt = batchnorm_forward, batchnorm_backward, batchnorm_backward_alt


def batchnorm_forward(x, gamma, beta, bn_param):
    # running statistics kept as (1, D) rows, as x.mean(axis=0, keepdims=True) gives them
    out, cache = _bn_forward(x, gamma, beta, bn_param)
    for k in ("running_mean", "running_var"):
        bn_param[k] = bn_param[k].reshape(1, -1)
    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = _bn_backward(dout, cache)
    return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)


def batchnorm_backward_alt(dout, cache):
    dx, dgamma, dbeta = _bn_backward_alt(dout, cache)
    return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)
"""


def test_row_vector_statistics_and_gradients_earn_the_points(tmp_path):
    sub = make_submission(tmp_path, append={"layers.py": ROW_VECTORS})
    results = grade_code(sub)
    tests = by_test(results)
    assert failed(results) == set(), {t: tests[t].output for t in failed(results)}
    assert results.score == 100
    assert "expected shape" in tests["test_batchnorm_backward"].output
    assert "dgamma" in tests["test_batchnorm_backward"].output
    assert "(1, " in tests["test_batchnorm_forward_train"].output
    assert "grads['gamma" in tests["test_fc_batchnorm_loss"].output
    assert tests["test_affine_forward"].output == ""


def test_python_int_zero_biases_earn_the_points(tmp_path):
    sub = make_submission(tmp_path, replace={"classifiers/fc_net.py": (
        'self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])', 'self.params["b%d" % (i + 1)] = 0')})
    results = grade_code(sub)
    tests = by_test(results)
    assert failed(results) == set(), {t: tests[t].output for t in failed(results)}
    assert "got a scalar" in tests["test_two_layer_init"].output
    assert "model.params['b1']" in tests["test_two_layer_init"].output
