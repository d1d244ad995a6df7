"""Q2: the multiclass SVM loss (classifiers/linear_svm.py), naive and vectorized: loss and gradient against
the reference, a numerical gradient check of the submission's own loss, and the speed of the vectorized
version against the submission's naive one."""
import pytest

from grader.assignments.assignment1.speed import check_speedup
from grader.assignments.assignment1.losses import check_gradient, check_loss

pytestmark = pytest.mark.files("classifiers/linear_svm.py")

MODULE = "classifiers.linear_svm"


def test_svm_loss_naive(sb, ref, hint):
    check_loss(sb, ref("Q2/svm_loss"), MODULE, "svm_loss_naive", hint)


def test_svm_loss_vectorized(sb, ref, hint):
    check_loss(sb, ref("Q2/svm_loss"), MODULE, "svm_loss_vectorized", hint)


def test_svm_gradient_check(sb, ref):
    check_gradient(sb, ref("Q2/svm_loss"), MODULE, "svm_loss_vectorized")


def test_svm_vectorized_speed(sb, seed, limits):
    check_speedup(sb, MODULE, "svm_loss_naive", "svm_loss_vectorized", seed, limits)
