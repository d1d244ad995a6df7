"""grader.checks and assignment 2's hints: every check can fail, and the known-mistake detectors recognise
their mistakes (and nothing else). Pure trusted-side code: no sandbox, fast."""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment2 import hints
from grader.sandbox.proxy import Handle


class _Owner:
    _generation = 1


def _handle():
    return Handle(_Owner(), 1, 7)


class Sub(np.ndarray):
    pass


GOOD = np.arange(6, dtype=np.float64).reshape(2, 3) + 1.0


# ---- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, fragment", [
    (None, "got None"),
    (GOOD.tolist(), "got a list of length 2"),
    (GOOD.view(Sub), "subclass of numpy.ndarray"),
    (_handle(), "not plain data"),
    (GOOD > 2, "numeric array, got dtype bool"),
    (np.array([[1, "a", 2]] * 2, dtype=object), "numeric array, got dtype object"),
    (GOOD.T.copy(), "expected shape (2, 3), got (3, 2)"),
    (np.where(GOOD > 3, np.nan, GOOD), "NaN or infinite"),
    (np.where(GOOD > 3, np.inf, GOOD), "NaN or infinite"),
    (GOOD.reshape(1, 6), "expected shape (2, 3), got (1, 6)"),
    (np.array([1.0, 2.0]), "expected shape (2, 3), got (2,)"),
    ("3.0", "got a value of type str"),
])
def test_array_validation_rejects(value, fragment):
    with pytest.raises(checks.CheckFailure) as info:
        checks.array(value, "out", shape=(2, 3))
    assert fragment in str(info.value)
    assert str(info.value).startswith("out: ")


def test_array_validation_accepts_numeric_exact_arrays():
    for arr in (GOOD, GOOD.astype(np.float32), GOOD.astype(np.int64), GOOD.astype(">f8")):
        out = checks.array(arr, "out", shape=(2, 3))
        assert type(out) is np.ndarray and out.dtype == np.float64
        np.testing.assert_array_equal(out, GOOD)


def test_close_fails_on_wrong_values_and_reports_only_magnitudes():
    wrong = GOOD * (1 + 1e-4)
    with pytest.raises(checks.CheckFailure) as info:
        checks.close(wrong, GOOD, "dx", 1e-8)
    msg = str(info.value)
    assert "relative error" in msg and "1e-08" in msg
    for v in GOOD.ravel():  # never the expected values
        assert repr(float(v)) not in msg or float(v) < 10
    assert checks.close(GOOD + 1e-13, GOOD, "dx", 1e-8) <= 1e-8


def test_close_nan_never_passes_even_with_huge_tolerance():
    bad = GOOD.copy()
    bad[0, 0] = np.nan
    with pytest.raises(checks.CheckFailure):
        checks.close(bad, GOOD, "out", 1e300)
    with pytest.raises(checks.CheckFailure):
        checks.close_scalar(float("nan"), 1.0, "loss", 1e300)
    with pytest.raises(checks.CheckFailure):
        checks.close_scalar(float("inf"), 1.0, "loss", 1e300)


def test_close_carries_the_hint():
    with pytest.raises(checks.CheckFailure) as info:
        checks.close(None, GOOD, "out", 1e-8, hint="try this")
    assert str(info.value).endswith("Hint: try this")


@pytest.mark.parametrize("value", [True, np.bool_(True), None, "1.0", [1.0], np.array([1.0, 2.0]), _handle()])
def test_scalar_rejects_non_numbers(value):
    with pytest.raises(checks.CheckFailure):
        checks.scalar(value, "loss")


@pytest.mark.parametrize("value", [2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2), np.array(2.0)])
def test_scalar_accepts_numbers(value):
    checks.take_notes()
    assert checks.scalar(value, "loss") == 2.0
    assert checks.take_notes() == []


# ---- equal values in another shape or type: right, with a note naming the expected shape ----------------
@pytest.mark.parametrize("value, shape, fragment", [
    (np.ones((1, 3)), (3,), "expected shape (3,), got (1, 3)"),
    (np.ones((3, 1)), (3,), "expected shape (3,), got (3, 1)"),
    (np.ones(3), (1, 3), "expected shape (1, 3), got (3,)"),
    (np.ones((2, 1, 3)), (2, 3), "expected shape (2, 3), got (2, 1, 3)"),
    (1, (3,), "expected an array of shape (3,), got a scalar"),
    (1.0, (2, 3), "expected an array of shape (2, 3), got a scalar"),
    (np.float32(1.0), (3,), "got a scalar"),
    (np.array(1.0), (3,), "got a scalar"),
])
def test_unit_dimensions_and_scalars_are_graded_with_a_note(value, shape, fragment):
    checks.take_notes()
    out = checks.array(value, "dgamma", shape=shape)
    assert out.shape == shape and np.all(out == 1.0)
    assert checks.close(value, np.ones(shape), "dgamma", 1e-12) == 0.0
    notes = checks.take_notes()
    assert len(notes) == 1 and notes[0].startswith("dgamma: ") and fragment in notes[0]


def test_another_shape_with_wrong_values_still_fails():
    with pytest.raises(checks.CheckFailure, match="relative error"):
        checks.close(np.ones((1, 3)) * 2, np.ones(3), "running_mean", 1e-8)
    with pytest.raises(checks.CheckFailure, match="relative error"):
        checks.close(0, np.arange(3.0), "b1", 1e-8)


def test_a_size_one_array_is_a_scalar_with_a_note():
    checks.take_notes()
    assert checks.scalar(np.array([[2.5]]), "loss") == 2.5
    assert "expected a scalar, got an array of shape (1, 1)" in checks.take_notes()[0]


def test_matches_makes_no_notes():
    checks.take_notes()
    assert checks.matches(np.ones((1, 3)), np.ones(3), 1e-8)
    assert checks.take_notes() == []


def test_sequence_and_mapping():
    assert checks.sequence((1, 2), 2, "f") == (1, 2)
    assert checks.sequence([1, 2], 2, "f") == (1, 2)
    for bad in (GOOD, (1, 2, 3), None):
        with pytest.raises(checks.CheckFailure):
            checks.sequence(bad, 2, "f")
    checks.mapping({"a": 1, "b": 2}, "grads", ["a", "b"], exact=True)
    with pytest.raises(checks.CheckFailure, match="missing key"):
        checks.mapping({"a": 1}, "grads", ["a", "b"])
    with pytest.raises(checks.CheckFailure, match="unexpected key"):
        checks.mapping({"a": 1, "b": 2, "c": 3}, "grads", ["a", "b"], exact=True)
    with pytest.raises(checks.CheckFailure, match="expected a dict"):
        checks.mapping([("a", 1)], "grads", ["a"])


def test_integer():
    assert checks.integer(np.int32(7), "t") == 7 and checks.integer(7.0, "t") == 7
    for bad in (True, 7.5, "7", None):
        with pytest.raises(checks.CheckFailure):
            checks.integer(bad, "t")


def test_rel_error_matches_the_notebooks_and_grading_error_handles_cancellation():
    x = np.array([1.0, 2.0, 3.0])
    assert checks.rel_error(x, x) == 0.0
    assert math.isclose(checks.rel_error(np.array([1.0]), np.array([1.1])), 0.1 / 2.1)
    # An entry that should be ~0 (a cancellation) is judged against the array's scale.
    expected = np.array([1.0, 1e-13])
    actual = np.array([1.0, 3e-13])
    assert checks.rel_error(actual, expected) > 1e-6
    assert checks.grading_error(actual, expected) < 1e-9
    # ... but a genuinely wrong small entry still fails.
    assert checks.grading_error(np.array([1.0, 0.01]), expected) > 1e-3
    assert math.isnan(checks.grading_error(np.array([np.nan, 0.0]), expected))


def test_close_dict_requires_exact_keys_and_values():
    exp = {"W1": GOOD, "b1": np.zeros(3)}
    checks.close_dict({"W1": GOOD.copy(), "b1": np.zeros(3)}, exp, "grads", 1e-9)
    with pytest.raises(checks.CheckFailure, match="grads\\['b1'\\]"):
        checks.close_dict({"W1": GOOD.copy(), "b1": np.ones(3)}, exp, "grads", 1e-9)


# ---- numerical gradients and statistics ---------------------------------------------------------------
def test_numerical_gradient():
    rng = np.random.RandomState(0)
    x = rng.randn(3, 4)
    a = rng.randn(3, 4)
    grad = checks.numerical_gradient(lambda z: float(np.sum(a * z ** 2)), x.copy())
    assert checks.rel_error(grad, 2 * a * x) < 1e-7
    dout = rng.randn(3, 4)
    g2 = checks.numerical_gradient_array(lambda z: np.tanh(z), x.copy(), dout)
    assert checks.rel_error(g2, dout * (1 - np.tanh(x) ** 2)) < 1e-7
    assert abs(checks.directional_derivative(lambda t: (1 + t) ** 3) - 3.0) < 1e-8


def test_dropout_stats():
    rng = np.random.RandomState(1)
    x = rng.randn(200, 250) + 5
    p = 0.3
    mask = rng.rand(*x.shape) < p
    assert abs(checks.dropout_stats(x, x * mask / p, p, "out") - p) < 0.01
    with pytest.raises(checks.CheckFailure, match="divided by p"):
        checks.dropout_stats(x, x * mask, p, "out")          # not scaled
    with pytest.raises(checks.CheckFailure, match="probability of keeping"):
        checks.dropout_stats(x, x * ~mask / p, p, "out")     # p used as the drop probability


def test_normalized_stats():
    rng = np.random.RandomState(2)
    x = rng.randn(500, 4)
    gamma, beta = np.array([1.0, 2.0, 3.0, 0.5]), np.array([0.0, -1.0, 4.0, 2.0])
    xn = (x - x.mean(0)) / x.std(0)
    checks.normalized_stats(gamma * xn + beta, gamma, beta, 0, "out")
    with pytest.raises(checks.CheckFailure, match="means"):
        checks.normalized_stats(gamma * xn + beta + 0.1, gamma, beta, 0, "out")
    with pytest.raises(checks.CheckFailure, match="standard deviations"):
        checks.normalized_stats(2 * gamma * xn + beta, gamma, beta, 0, "out")


# ---- hints ---------------------------------------------------------------------------------------------
def test_hint_l2_without_half():
    params = {"W1": np.ones((2, 2)), "b1": np.ones(2)}
    loss_0, reg = 1.0, 0.5
    loss_reg = loss_0 + 0.5 * reg * 4
    assert "0.5" in hints.l2_regularization(loss_0 + reg * 4, loss_0, loss_reg, reg, params, ["W1"])
    assert "biases" in hints.l2_regularization(loss_reg + 0.5 * reg * 2, loss_0, loss_reg, reg, params, ["W1"])
    assert hints.l2_regularization(loss_reg, loss_0, loss_reg, reg, params, ["W1"]) is None
    assert hints.l2_regularization(None, loss_0, loss_reg, reg, params, ["W1"]) is None


def test_hint_adam_t_and_bias_correction():
    rng = np.random.RandomState(3)
    w, dw = rng.randn(4, 5), rng.randn(4, 5)
    config = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
              "m": rng.randn(4, 5), "v": np.abs(rng.randn(4, 5)), "t": 5}
    m = 0.9 * config["m"] + 0.1 * dw
    v = 0.999 * config["v"] + 0.001 * dw ** 2
    correct = w - 0.01 * (m / (1 - 0.9 ** 6)) / (np.sqrt(v / (1 - 0.999 ** 6)) + 1e-8)
    late_t = w - 0.01 * (m / (1 - 0.9 ** 5)) / (np.sqrt(v / (1 - 0.999 ** 5)) + 1e-8)
    no_bc = w - 0.01 * m / (np.sqrt(v) + 1e-8)
    assert hints.adam_next_w(correct, w, dw, config) is None
    assert "incremented before" in hints.adam_next_w(late_t, w, dw, config)
    assert "bias correction" in hints.adam_next_w(no_bc, w, dw, config)


def test_hint_dropout():
    rng = np.random.RandomState(4)
    x = rng.randn(100, 100) + 5
    p = 0.3
    keep = rng.rand(*x.shape) < p
    assert "divides the kept units by p" in hints.dropout_forward(x, x * keep, p)
    assert "KEEPING" in hints.dropout_forward(x, x * (rng.rand(*x.shape) < 1 - p) / (1 - p), p)
    assert hints.dropout_forward(x, x * keep / p, p) is None
    assert hints.dropout_forward(x, None, p) is None


def test_hint_softmax_stability():
    assert "numerically stable" in hints.softmax_stability(float("nan"))
    assert "numerically stable" in hints.softmax_stability(np.float64("inf"))
    assert hints.softmax_stability(2.3) is None
    assert hints.softmax_stability(None) is None


def test_hint_batchnorm_variance_and_momentum():
    rng = np.random.RandomState(5)
    x = rng.randn(10, 3) * 2 + 1
    gamma, beta, eps = np.array([1.0, 2.0, 0.5]), np.array([0.1, 0.2, 0.3]), 1e-5
    unbiased = gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta
    biased = gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta
    assert "biased variance" in hints.batchnorm_forward(unbiased, x, gamma, beta, eps)
    assert hints.batchnorm_forward(biased, x, gamma, beta, eps) is None
    old, stat = rng.randn(3), rng.randn(3)
    swapped = 0.1 * old + 0.9 * stat
    assert "momentum" in hints.batchnorm_running(swapped, old, stat, 0.9)
    assert hints.batchnorm_running(0.9 * old + 0.1 * stat, old, stat, 0.9) is None


def test_hints_never_raise_on_garbage():
    garbage = [None, "x", [1, 2], np.array(["a"]), _handle(), np.full((2, 2), np.nan)]
    w = np.ones((2, 2))
    for g in garbage:
        hints.first(g, {"msg": w})
        hints.adam_next_w(g, w, w, {"learning_rate": 0.1})
        hints.momentum_velocity(g, w)
        hints.conv_flipped(g, np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1), 1, 0)
        hints.maxpool_backward(g, np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)),
                               {"pool_height": 2, "pool_width": 2, "stride": 2})
