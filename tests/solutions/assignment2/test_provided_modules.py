"""The provided modules that stand for the official starters' im2col.py and compiled im2col_cython:
the same functions, arguments and layout, checked against the naive convolution of layers.py."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from support.paths import SOLUTIONS

CASES = [  # N, C, H, W, F, HH, WW, stride, pad
    (2, 3, 7, 7, 4, 3, 3, 2, 1), (2, 2, 6, 5, 3, 2, 3, 1, 0), (1, 3, 8, 8, 2, 4, 4, 2, 1), (3, 1, 5, 5, 2, 3, 3, 1, 2)]


@pytest.mark.parametrize("case", CASES)
def test_im2col_and_im2col_cython_give_the_naive_convolution_and_its_gradient(solutions, case):
    im2col, cython, layers = solutions("im2col"), solutions("im2col_cython"), solutions("layers")
    N, C, H, W, F, HH, WW, s, p = case
    rng = np.random.default_rng(sum(case))
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    out, cache = layers.conv_forward_naive(x, w, b, {"stride": s, "pad": p})
    dout = rng.standard_normal(out.shape)
    dx = layers.conv_backward_naive(dout, cache)[0]
    H_out, W_out = out.shape[2:]
    cols_a = im2col.im2col_indices(x, HH, WW, p, s)
    cols_b = cython.im2col_cython(x, HH, WW, p, s)
    assert cols_a.shape == cols_b.shape == (C * HH * WW, H_out * W_out * N)
    np.testing.assert_array_equal(cols_a, cols_b)
    conv = (w.reshape(F, -1) @ cols_a + b[:, None]).reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    np.testing.assert_allclose(conv, out, rtol=1e-12, atol=1e-12)
    dcols = w.reshape(F, -1).T @ dout.transpose(1, 2, 3, 0).reshape(F, -1)
    np.testing.assert_allclose(im2col.col2im_indices(dcols, x.shape, HH, WW, p, s), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cython.col2im_cython(dcols, N, C, H, W, HH, WW, p, s), dx, rtol=1e-12, atol=1e-12)
    dcols6 = dcols.reshape(C, HH, WW, H_out, W_out, N).transpose(0, 1, 2, 5, 3, 4)
    np.testing.assert_allclose(cython.col2im_6d_cython(dcols6, N, C, H, W, HH, WW, p, s), dx, rtol=1e-12,
                               atol=1e-12)
    k, i, j = im2col.get_im2col_indices(x.shape, HH, WW, p, s)
    assert k.shape == (C * HH * WW, 1) and i.shape == j.shape == (C * HH * WW, H_out * W_out)


def test_im2col_cython_keeps_float32(solutions):
    cython = solutions("im2col_cython")
    x = np.ones((2, 3, 5, 5), np.float32)
    assert cython.im2col_cython(x, 3, 3, 1, 1).dtype == np.float32
    assert cython.col2im_cython(np.ones((27, 50), np.float32), 2, 3, 5, 5, 3, 3, 1, 1).dtype == np.float32


def test_setup_py_builds_nothing_and_succeeds(tmp_path):
    proc = subprocess.run([sys.executable, str(SOLUTIONS / "cs231n" / "setup.py"), "build_ext", "--inplace"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "nothing to build" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_other_provided_helpers_of_the_official_starters(solutions):
    gc, vis, data = solutions("gradient_check"), solutions("vis_utils"), solutions("data_utils")
    rows = [[np.full((2, 2, 1), v, float) for v in (1, 2)], [np.full((2, 2, 1), 3.0), np.zeros((2, 2, 1))]]
    grid = vis.vis_nn(rows)
    assert grid.shape == (7, 7, 1) and grid[0, 0, 0] == 3 and grid[1, 1, 0] == 1 and grid[4, 4, 0] == 0
    assert callable(gc.eval_numerical_gradient_net)
    for name in ("load_pickle", "load_tiny_imagenet", "load_models", "load_imagenet_val"):
        assert callable(getattr(data, name))
