"""Q3: the softmax loss (classifiers/softmax.py), naive and vectorized: loss and gradient against the
reference (also with scores in the thousands), a numerical gradient check, and the speed of the vectorized
version against the submission's naive one."""
import pytest

from grader import checks
from grader.assignments.assignment1.speed import check_speedup
from grader.assignments.assignment1.losses import check_gradient, check_loss
from grader.suites._common import call

pytestmark = pytest.mark.files("classifiers/softmax.py")

MODULE = "classifiers.softmax"


def test_softmax_loss_naive(sb, ref, hint):
    check_loss(sb, ref("Q3/softmax_loss"), MODULE, "softmax_loss_naive", hint)


def test_softmax_loss_vectorized(sb, ref, hint):
    check_loss(sb, ref("Q3/softmax_loss"), MODULE, "softmax_loss_vectorized", hint)


def _large(sb, c, fn, hint):
    loss, dW = call(sb, MODULE, fn, 400 * c["W"], c["X"], c["y"], 0.0, n=2)
    checks.close_scalar(loss, c["loss_big"], f"{fn} loss (scores in the thousands)", 1e-10,
                        hint=hint.softmax_stability(loss))
    checks.close(dW, c["dW_big"], f"{fn} gradient (scores in the thousands)", 1e-8)


def test_softmax_large_scores(sb, ref, hint):
    c = ref("Q3/softmax_loss")
    for fn in ("softmax_loss_naive", "softmax_loss_vectorized"):
        _large(sb, c, fn, hint)


def test_softmax_gradient_check(sb, ref):
    check_gradient(sb, ref("Q3/softmax_loss"), MODULE, "softmax_loss_vectorized")


def test_softmax_vectorized_speed(sb, seed, limits):
    check_speedup(sb, MODULE, "softmax_loss_naive", "softmax_loss_vectorized", seed, limits)
