"""A function that changes its input arrays in place: a forward pass or a loss fails (the notebooks'
numerical gradient checks call it again on the same array), with feedback saying so; a backward pass that
overwrites ``dout`` costs nothing, with a note. (Before: ``softmax_loss`` with ``x -= x.max(...)`` passed.)"""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, grade_code, make_submission

pytestmark = pytest.mark.slow

IN_PLACE = """
def softmax_loss(x, y):
    x -= np.max(x, axis=1, keepdims=True)          # changes the caller's scores
    p = np.exp(x)
    p /= p.sum(axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.log(p[np.arange(N), y]).mean()
    p[np.arange(N), y] -= 1
    return loss, p / N


def relu_backward(dout, cache):
    dout[cache <= 0] = 0                            # overwrites the upstream gradient: harmless
    return dout


def leaky_relu_forward(x, alpha=0.01):
    cache = (x.copy(), alpha)
    x[x < 0] *= alpha                               # changes the caller's x
    return x, cache
"""


def test_changed_inputs_fail_forward_passes_and_losses_and_are_noted_for_backward_passes(tmp_path):
    results = grade_code(make_submission(tmp_path, append={"layers.py": IN_PLACE}))
    tests = by_test(results)
    assert {"test_softmax_loss", "test_softmax_loss_large_scores", "test_leaky_relu"} <= failed(results)
    for name in ("test_softmax_loss", "test_leaky_relu"):
        assert "changed its input array (argument 1) in place" in tests[name].output, tests[name].output
    assert tests["test_relu_backward"].status == "passed"
    assert "relu_backward changed its input array (argument 1) in place" in tests["test_relu_backward"].output
    # the update rules may update w in place (the provided sgd does): not even a note
    assert tests["test_sgd_momentum"].output == ""
