"""The fast convolution / max-pooling layers (solutions/cs231n/fast_layers.py).

They are checked against the naive layers of layers.py (canonical checks, section 19) on the canonical
shapes, on a set of odd cases (strides, pads, non-square kernels and inputs, overlapping and
non-tiling pooling, ties), against numerical gradients, and for dtype preservation.
"""
from __future__ import annotations

import numpy as np
import pytest

from support.checking import numerical_gradient_array, rel_error
from support.paths import SOLUTIONS


@pytest.fixture(scope="module")
def naive(solutions):
    return solutions("layers")


@pytest.fixture(scope="module")
def fast(solutions):
    return solutions("fast_layers")


# --------------------------------------------------------------------------- the file itself


def test_fast_layers_is_a_provided_file_without_solution_regions():
    text = (SOLUTIONS / "cs231n" / "fast_layers.py").read_text()
    assert "START OF YOUR CODE" not in text and "END OF YOUR CODE" not in text
    # Pure NumPy: no compiled extension, no framework.
    for forbidden in ("import torch", "im2col_cython", "Cython", "from cs231n"):
        assert forbidden not in text


def test_classic_names_exist(fast):
    for name in ("conv_forward_fast", "conv_backward_fast", "conv_forward_strides",
                 "conv_backward_strides", "conv_forward_im2col", "conv_backward_im2col",
                 "max_pool_forward_fast", "max_pool_backward_fast", "max_pool_forward_reshape",
                 "max_pool_backward_reshape", "max_pool_forward_im2col", "max_pool_backward_im2col"):
        assert callable(getattr(fast, name)), name


# --------------------------------------------------------------------------- canonical (section 19)


def test_conv_fast_matches_naive_canonical(naive, fast):
    np.random.seed(231)
    x = np.random.randn(100, 3, 31, 31)
    w = np.random.randn(25, 3, 3, 3)
    b = np.random.randn(25,)
    dout = np.random.randn(100, 25, 16, 16)
    conv_param = {"stride": 2, "pad": 1}

    out_naive, cache_naive = naive.conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = fast.conv_forward_fast(x, w, b, conv_param)
    assert out_fast.shape == (100, 25, 16, 16)
    assert rel_error(out_naive, out_fast) <= 1e-9

    dx_naive, dw_naive, db_naive = naive.conv_backward_naive(dout, cache_naive)
    dx_fast, dw_fast, db_fast = fast.conv_backward_fast(dout, cache_fast)
    assert dx_fast.shape == x.shape and dw_fast.shape == w.shape and db_fast.shape == b.shape
    assert rel_error(dx_naive, dx_fast) <= 1e-9
    assert rel_error(dw_naive, dw_fast) <= 1e-9
    assert rel_error(db_naive, db_fast) <= 1e-9


def test_max_pool_fast_matches_naive_canonical(naive, fast):
    np.random.seed(231)
    x = np.random.randn(100, 3, 32, 32)
    dout = np.random.randn(100, 3, 16, 16)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    out_naive, cache_naive = naive.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = fast.max_pool_forward_fast(x, pool_param)
    assert cache_fast[0] == "reshape"           # windows tile the input: the reshape path
    assert out_fast.shape == (100, 3, 16, 16)
    assert rel_error(out_naive, out_fast) == 0.0   # "close to 0.0": the same elements are picked

    dx_naive = naive.max_pool_backward_naive(dout, cache_naive)
    dx_fast = fast.max_pool_backward_fast(dout, cache_fast)
    assert rel_error(dx_naive, dx_fast) == 0.0


# --------------------------------------------------------------------------- odd convolutions

CONV_CASES = [
    # (x shape, w shape, stride, pad)
    ((3, 2, 7, 7), (4, 2, 3, 3), 1, 0),
    ((3, 2, 7, 7), (4, 2, 3, 3), 1, 2),          # pad wider than needed
    ((2, 3, 9, 11), (5, 3, 3, 3), 2, 0),         # non-square input, stride 2, no pad
    ((2, 3, 10, 13), (3, 3, 4, 3), 3, 2),        # stride 3, pad 2, non-square kernel
    ((2, 2, 8, 9), (3, 2, 2, 5), 2, 1),          # even / wide kernel
    ((2, 1, 6, 6), (2, 1, 6, 6), 1, 0),          # kernel as large as the input: 1x1 output
    ((2, 3, 5, 5), (4, 3, 1, 1), 1, 0),          # 1x1 convolution
    ((2, 2, 12, 12), (3, 2, 5, 5), 1, 2),        # large overlap between windows
    ((1, 2, 11, 11), (2, 2, 3, 3), 4, 1),        # stride larger than the kernel: gaps
    ((2, 3, 8, 8), (2, 3, 3, 3), 2, 1),          # H + 2*pad - HH not divisible by the stride
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_fast_matches_naive_odd_cases(naive, fast, x_shape, w_shape, stride, pad):
    rng = np.random.RandomState(sum(x_shape) + 7 * sum(w_shape) + stride + pad)
    x = rng.randn(*x_shape)
    w = rng.randn(*w_shape)
    b = rng.randn(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    x_before = x.copy()

    out_naive, cache_naive = naive.conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = fast.conv_forward_fast(x, w, b, conv_param)
    H_out = 1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride
    W_out = 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    assert out_fast.shape == (x_shape[0], w_shape[0], H_out, W_out)
    assert rel_error(out_naive, out_fast) <= 1e-9

    dout = rng.randn(*out_fast.shape)
    for got, want in zip(fast.conv_backward_fast(dout, cache_fast),
                         naive.conv_backward_naive(dout, cache_naive)):
        assert got.shape == want.shape
        assert rel_error(want, got) <= 1e-9
    assert np.array_equal(x, x_before)          # the input is not modified


@pytest.mark.parametrize("stride, pad, kernel", [(1, 1, (3, 3)), (2, 0, (3, 2)), (3, 2, (4, 4))])
def test_conv_fast_backward_matches_numerical_gradient(fast, stride, pad, kernel):
    """Independent of the naive layer: compare with centred differences of the fast forward pass."""
    rng = np.random.RandomState(231)
    x = rng.randn(2, 2, 7, 8)
    w = rng.randn(3, 2, *kernel)
    b = rng.randn(3)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = fast.conv_forward_fast(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    dx, dw, db = fast.conv_backward_fast(dout, cache)

    def forward():
        return fast.conv_forward_fast(x, w, b, conv_param)[0]

    assert rel_error(dx, numerical_gradient_array(forward, x, dout)) < 1e-7
    assert rel_error(dw, numerical_gradient_array(forward, w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient_array(forward, b, dout)) < 1e-7


def test_conv_fast_rejects_mismatched_channels(fast):
    with pytest.raises(ValueError):
        fast.conv_forward_fast(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)), np.zeros(2),
                               {"stride": 1, "pad": 0})


# --------------------------------------------------------------------------- odd poolings

POOL_CASES = [
    # (x shape, pool_height, pool_width, stride, expected method)
    ((2, 3, 8, 8), 2, 2, 2, "reshape"),
    ((2, 3, 9, 12), 3, 3, 3, "reshape"),        # non-square input, 3x3 tiles
    ((2, 3, 9, 9), 3, 3, 2, "im2col"),          # overlapping 3x3 windows, stride 2
    ((2, 3, 11, 10), 3, 3, 2, "im2col"),        # overlapping, non-square input
    ((2, 2, 9, 9), 2, 2, 2, "im2col"),          # 2x2/2 but 9 not divisible: last row/col dropped
    ((2, 2, 7, 8), 2, 3, 1, "im2col"),          # non-square window, stride 1
    ((2, 2, 8, 8), 2, 2, 3, "im2col"),          # stride larger than the window: gaps
]


@pytest.mark.parametrize("x_shape, ph, pw, stride, method", POOL_CASES)
def test_max_pool_fast_matches_naive_odd_cases(naive, fast, x_shape, ph, pw, stride, method):
    rng = np.random.RandomState(sum(x_shape) + ph * pw + stride)
    x = rng.randn(*x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}

    out_naive, cache_naive = naive.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = fast.max_pool_forward_fast(x, pool_param)
    assert cache_fast[0] == method
    assert out_fast.shape == out_naive.shape
    assert rel_error(out_naive, out_fast) == 0.0

    dout = rng.randn(*out_fast.shape)
    dx_naive = naive.max_pool_backward_naive(dout, cache_naive)
    dx_fast = fast.max_pool_backward_fast(dout, cache_fast)
    assert dx_fast.shape == x.shape
    # Overlapping windows sum their gradients, possibly in another order: rounding only.
    assert rel_error(dx_naive, dx_fast) <= 1e-12


@pytest.mark.parametrize("ph, stride", [(2, 2), (3, 2)])
def test_max_pool_fast_ties_go_to_first_maximum(naive, fast, ph, stride):
    """With many ties (small integers, as after a ReLU), the gradient goes to the first maximum."""
    rng = np.random.RandomState(0)
    x = rng.randint(0, 3, size=(3, 2, 8, 8)).astype(np.float64)
    pool_param = {"pool_height": ph, "pool_width": ph, "stride": stride}
    out_naive, cache_naive = naive.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = fast.max_pool_forward_fast(x, pool_param)
    assert np.array_equal(out_naive, out_fast)
    dout = rng.randn(*out_fast.shape)
    dx_fast = fast.max_pool_backward_fast(dout, cache_fast)
    assert rel_error(naive.max_pool_backward_naive(dout, cache_naive), dx_fast) <= 1e-12
    # Exactly one element of each window gets the gradient, so the totals agree.
    assert np.isclose(dx_fast.sum(), dout.sum())


def test_max_pool_im2col_and_reshape_paths_agree(fast):
    rng = np.random.RandomState(1)
    x = rng.randn(4, 3, 12, 12)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_r, cache_r = fast.max_pool_forward_reshape(x, pool_param)
    out_i, cache_i = fast.max_pool_forward_im2col(x, pool_param)
    assert np.array_equal(out_r, out_i)
    dout = rng.randn(*out_r.shape)
    assert np.array_equal(fast.max_pool_backward_reshape(dout, cache_r),
                          fast.max_pool_backward_im2col(dout, cache_i))
    with pytest.raises(ValueError):
        fast.max_pool_forward_reshape(x, {"pool_height": 3, "pool_width": 3, "stride": 2})


# --------------------------------------------------------------------------- dtypes


def test_float32_in_float32_out(fast):
    rng = np.random.RandomState(2)
    x = rng.randn(2, 3, 9, 9).astype(np.float32)
    w = rng.randn(4, 3, 3, 3).astype(np.float32)
    b = rng.randn(4).astype(np.float32)
    out, cache = fast.conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
    assert out.dtype == np.float32
    grads = fast.conv_backward_fast(np.ones_like(out), cache)
    assert [g.dtype for g in grads] == [np.float32] * 3

    # Agrees with the float64 computation to float32 precision.
    out64, _ = fast.conv_forward_fast(x.astype(np.float64), w.astype(np.float64),
                                      b.astype(np.float64), {"stride": 2, "pad": 1})
    assert np.allclose(out, out64, rtol=1e-4, atol=1e-4)

    for pool_param in ({"pool_height": 2, "pool_width": 2, "stride": 2},      # reshape path
                       {"pool_height": 3, "pool_width": 3, "stride": 2}):     # im2col path
        xp = rng.randn(2, 3, 8, 8).astype(np.float32)
        pooled, pool_cache = fast.max_pool_forward_fast(xp, pool_param)
        assert pooled.dtype == np.float32
        assert fast.max_pool_backward_fast(np.ones_like(pooled), pool_cache).dtype == np.float32
