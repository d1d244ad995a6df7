"""The canonical checks of the layer parts of the convolutional notebook (canonical_checks.md
sections 16-19, 21 and 22: naive conv and pooling, the conv sandwich layers, spatial batchnorm and
spatial groupnorm), against the solutions (must pass) and the generated starter (must fail
cleanly); plus stride/padding variants of the naive layers, checked numerically.

Tolerances as in test_fc_canonical: "around e-N" is taken as "< 10^(1-N)".
"""
import numpy as np
import pytest

from support.checking import passes, rel_error, verify  # noqa: F401

# --------------------------------------------------------------------------------------------
# 16-17: naive convolution
# --------------------------------------------------------------------------------------------

def test_conv_forward_naive(cs):
    # "difference should be around e-8"
    def check(cs):
        x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
        x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
        w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
        b = np.linspace(-0.1, 0.2, num=3)
        out, _ = cs("layers").conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
        correct_out = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                                 [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                                 [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                                [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                                 [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                                 [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
        assert rel_error(out, correct_out) < 1e-7
    verify(cs, check)


def test_conv_backward_naive(cs, gc):
    # "around e-8 or less"
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(4, 3, 5, 5)
        w = np.random.randn(2, 3, 3, 3)
        b = np.random.randn(2,)
        dout = np.random.randn(4, 2, 5, 5)
        conv_param = {"stride": 1, "pad": 1}
        dx_num = gc.eval_numerical_gradient_array(
            lambda x: layers.conv_forward_naive(x, w, b, conv_param)[0], x, dout)
        dw_num = gc.eval_numerical_gradient_array(
            lambda w: layers.conv_forward_naive(x, w, b, conv_param)[0], w, dout)
        db_num = gc.eval_numerical_gradient_array(
            lambda b: layers.conv_forward_naive(x, w, b, conv_param)[0], b, dout)
        _, cache = layers.conv_forward_naive(x, w, b, conv_param)
        dx, dw, db = layers.conv_backward_naive(dout, cache)
        assert rel_error(dx, dx_num) < 1e-7
        assert rel_error(dw, dw_num) < 1e-7
        assert rel_error(db, db_num) < 1e-7
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 18-19: naive max pooling
# --------------------------------------------------------------------------------------------

def test_max_pool_forward_naive(cs):
    # "on the order of e-8"
    def check(cs):
        x_shape = (2, 3, 4, 4)
        x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
        pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
        out, _ = cs("layers").max_pool_forward_naive(x, pool_param)
        correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                                 [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                                 [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                                [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                                 [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                                 [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
        assert rel_error(out, correct_out) < 1e-7
    verify(cs, check)


def test_max_pool_backward_naive(cs, gc):
    # "on the order of e-12"
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        x = np.random.randn(3, 2, 8, 8)
        dout = np.random.randn(3, 2, 4, 4)
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        dx_num = gc.eval_numerical_gradient_array(
            lambda x: layers.max_pool_forward_naive(x, pool_param)[0], x, dout)
        _, cache = layers.max_pool_forward_naive(x, pool_param)
        dx = layers.max_pool_backward_naive(dout, cache)
        assert rel_error(dx, dx_num) < 1e-11
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 19: sandwich layers (layer_utils, on top of fast_layers)
# --------------------------------------------------------------------------------------------

def test_conv_relu_pool_sandwich(cs, gc):
    # "around e-8 or less"
    def check(cs):
        lu = cs("layer_utils")
        np.random.seed(231)
        x = np.random.randn(2, 3, 16, 16)
        w = np.random.randn(3, 3, 3, 3)
        b = np.random.randn(3,)
        dout = np.random.randn(2, 3, 8, 8)
        conv_param = {"stride": 1, "pad": 1}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        _, cache = lu.conv_relu_pool_forward(x, w, b, conv_param, pool_param)
        dx, dw, db = lu.conv_relu_pool_backward(dout, cache)
        f = lambda x, w, b: lu.conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]  # noqa
        dx_num = gc.eval_numerical_gradient_array(lambda x: f(x, w, b), x, dout)
        dw_num = gc.eval_numerical_gradient_array(lambda w: f(x, w, b), w, dout)
        db_num = gc.eval_numerical_gradient_array(lambda b: f(x, w, b), b, dout)
        assert rel_error(dx_num, dx) < 1e-7
        assert rel_error(dw_num, dw) < 1e-7
        assert rel_error(db_num, db) < 1e-7
    verify(cs, check)


def test_conv_relu_sandwich(cs, gc):
    # "around e-8 or less"
    def check(cs):
        lu = cs("layer_utils")
        np.random.seed(231)
        x = np.random.randn(2, 3, 8, 8)
        w = np.random.randn(3, 3, 3, 3)
        b = np.random.randn(3,)
        dout = np.random.randn(2, 3, 8, 8)
        conv_param = {"stride": 1, "pad": 1}
        _, cache = lu.conv_relu_forward(x, w, b, conv_param)
        dx, dw, db = lu.conv_relu_backward(dout, cache)
        f = lambda x, w, b: lu.conv_relu_forward(x, w, b, conv_param)[0]  # noqa: E731
        dx_num = gc.eval_numerical_gradient_array(lambda x: f(x, w, b), x, dout)
        dw_num = gc.eval_numerical_gradient_array(lambda w: f(x, w, b), w, dout)
        db_num = gc.eval_numerical_gradient_array(lambda b: f(x, w, b), b, dout)
        assert rel_error(dx_num, dx) < 1e-7
        assert rel_error(dw_num, dw) < 1e-7
        assert rel_error(db_num, db) < 1e-7
    verify(cs, check)


def test_conv_bn_relu_sandwich(solutions, gc):
    """Not a canonical check (solutions only): the conv-bn-relu sandwich of layer_utils."""
    lu = solutions("layer_utils")
    np.random.seed(231)
    x = np.random.randn(2, 3, 6, 6)
    w = np.random.randn(4, 3, 3, 3)
    b = np.random.randn(4)
    gamma, beta = np.random.randn(4), np.random.randn(4)
    dout = np.random.randn(2, 4, 6, 6)
    conv_param, bn_param = {"stride": 1, "pad": 1}, {"mode": "train"}
    _, cache = lu.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    grads = lu.conv_bn_relu_backward(dout, cache)
    f = lambda x, w, b, g, be: lu.conv_bn_relu_forward(x, w, b, g, be, conv_param, bn_param)[0]  # noqa
    args = [x, w, b, gamma, beta]
    for i, analytic in enumerate(grads):
        def fi(v, i=i):
            return f(*[v if j == i else a for j, a in enumerate(args)])
        numeric = gc.eval_numerical_gradient_array(fi, args[i], dout)
        # b sits right before batchnorm: its true gradient is zero
        if i == 2:
            assert np.abs(numeric).max() < 1e-8 and np.abs(analytic).max() < 1e-8
        else:
            assert rel_error(numeric, analytic) < 1e-6, i


# --------------------------------------------------------------------------------------------
# 21: spatial batchnorm
# --------------------------------------------------------------------------------------------

def test_spatial_batchnorm_forward_train(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, C, H, W = 2, 3, 4, 5
        x = 4 * np.random.randn(N, C, H, W) + 10
        np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), [9.33463814, 8.90909116, 9.11056338],
                                   atol=1e-7)
        np.testing.assert_allclose(x.std(axis=(0, 2, 3)), [3.61447857, 3.19347686, 3.5168142],
                                   atol=1e-7)
        out, _ = layers.spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})
        assert out.shape == x.shape
        assert np.abs(out.mean(axis=(0, 2, 3))).max() < 1e-12
        np.testing.assert_allclose(out.std(axis=(0, 2, 3)), [0.99999962, 0.99999951, 0.9999996],
                                   atol=1e-8)
        gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])
        out, _ = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
        np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), [6, 7, 8], atol=1e-11)
        np.testing.assert_allclose(out.std(axis=(0, 2, 3)), [2.99999885, 3.99999804, 4.99999798],
                                   atol=1e-8)
    verify(cs, check)


def test_spatial_batchnorm_forward_test_mode(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, C, H, W = 10, 4, 11, 12
        bn_param = {"mode": "train"}
        gamma, beta = np.ones(C), np.zeros(C)
        for _ in range(50):
            x = 2.3 * np.random.randn(N, C, H, W) + 13
            layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
        bn_param["mode"] = "test"
        x = 2.3 * np.random.randn(N, C, H, W) + 13
        a_norm, _ = layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
        np.testing.assert_allclose(a_norm.mean(axis=(0, 2, 3)),
                                   [-0.08034406, 0.07562881, 0.05716371, 0.04378383], atol=1e-8)
        np.testing.assert_allclose(a_norm.std(axis=(0, 2, 3)),
                                   [0.96718744, 1.0299714, 1.02887624, 1.00585577], atol=1e-8)
    verify(cs, check)


def test_spatial_batchnorm_backward(cs, gc):
    # "errors of magnitudes between 1e-12~1e-06". As in the notebook, fg and fb ignore their
    # argument and close over gamma and beta, which the numeric gradient perturbs in place.
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, C, H, W = 2, 3, 4, 5
        x = 5 * np.random.randn(N, C, H, W) + 12
        gamma = np.random.randn(C)
        beta = np.random.randn(C)
        dout = np.random.randn(N, C, H, W)
        bn_param = {"mode": "train"}
        fx = lambda x: layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa
        fg = lambda a: layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa
        fb = lambda b: layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa
        dx_num = gc.eval_numerical_gradient_array(fx, x, dout)
        da_num = gc.eval_numerical_gradient_array(fg, gamma, dout)
        db_num = gc.eval_numerical_gradient_array(fb, beta, dout)
        _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
        dx, dgamma, dbeta = layers.spatial_batchnorm_backward(dout, cache)
        assert rel_error(dx_num, dx) < 1e-5
        assert rel_error(da_num, dgamma) < 1e-5
        assert rel_error(db_num, dbeta) < 1e-5
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# 22: spatial groupnorm
# --------------------------------------------------------------------------------------------

def test_spatial_groupnorm_forward(cs):
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, C, H, W, G = 2, 6, 4, 5, 2
        x = 4 * np.random.randn(N, C, H, W) + 10
        x_g = x.reshape((N * G, -1))
        np.testing.assert_allclose(x_g.mean(axis=1), [9.72505327, 8.51114185, 8.9147544, 9.43448077],
                                   atol=1e-7)
        np.testing.assert_allclose(x_g.std(axis=1), [3.67070958, 3.09892597, 4.27043622, 3.97521327],
                                   atol=1e-7)
        gamma, beta = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
        out, _ = layers.spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
        out_g = out.reshape((N * G, -1))
        assert out.shape == x.shape
        assert np.abs(out_g.mean(axis=1)).max() < 1e-12
        np.testing.assert_allclose(out_g.std(axis=1),
                                   [0.99999963, 0.99999948, 0.99999973, 0.99999968], atol=1e-8)
    verify(cs, check)


def test_spatial_groupnorm_backward(cs, gc):
    # "between 1e-12~1e-07"; fg and fb close over gamma and beta as in the notebook.
    def check(cs):
        layers = cs("layers")
        np.random.seed(231)
        N, C, H, W, G = 2, 6, 4, 5, 2
        x = 5 * np.random.randn(N, C, H, W) + 12
        gamma = np.random.randn(1, C, 1, 1)
        beta = np.random.randn(1, C, 1, 1)
        dout = np.random.randn(N, C, H, W)
        gn_param = {}
        fx = lambda x: layers.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0]  # noqa
        fg = lambda a: layers.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0]  # noqa
        fb = lambda b: layers.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0]  # noqa
        dx_num = gc.eval_numerical_gradient_array(fx, x, dout)
        da_num = gc.eval_numerical_gradient_array(fg, gamma, dout)
        db_num = gc.eval_numerical_gradient_array(fb, beta, dout)
        _, cache = layers.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
        dx, dgamma, dbeta = layers.spatial_groupnorm_backward(dout, cache)
        assert dgamma.shape == (1, C, 1, 1) and dbeta.shape == (1, C, 1, 1)
        assert rel_error(dx_num, dx) < 1e-6
        assert rel_error(da_num, dgamma) < 1e-6
        assert rel_error(db_num, dbeta) < 1e-6
    verify(cs, check)


# --------------------------------------------------------------------------------------------
# Beyond the canonical inputs (solutions only): any stride and padding, overlapping pools
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stride, pad, hw, k", [(2, 0, (7, 6), (3, 2)), (3, 2, (5, 8), (3, 3)),
                                                 (1, 0, (4, 4), (1, 1))])
def test_conv_naive_any_stride_and_pad(solutions, gc, stride, pad, hw, k):
    layers = solutions("layers")
    rng = np.random.RandomState(0)
    x = rng.randn(2, 3, *hw)
    w = rng.randn(4, 3, *k)
    b = rng.randn(4)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = layers.conv_forward_naive(x, w, b, conv_param)
    H_out = 1 + (hw[0] + 2 * pad - k[0]) // stride
    W_out = 1 + (hw[1] + 2 * pad - k[1]) // stride
    assert out.shape == (2, 4, H_out, W_out)
    # forward against a direct sum over the receptive field of one output position
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    i, j = H_out - 1, W_out - 1
    field = xp[1, :, i * stride:i * stride + k[0], j * stride:j * stride + k[1]]
    assert abs(out[1, 2, i, j] - (np.sum(field * w[2]) + b[2])) < 1e-12
    dout = rng.randn(*out.shape)
    dx, dw, db = layers.conv_backward_naive(dout, cache)
    f = lambda x, w, b: layers.conv_forward_naive(x, w, b, conv_param)[0]  # noqa: E731
    assert rel_error(dx, gc.eval_numerical_gradient_array(lambda v: f(v, w, b), x, dout)) < 1e-7
    assert rel_error(dw, gc.eval_numerical_gradient_array(lambda v: f(x, v, b), w, dout)) < 1e-7
    assert rel_error(db, gc.eval_numerical_gradient_array(lambda v: f(x, w, v), b, dout)) < 1e-7


@pytest.mark.parametrize("ph, pw, stride", [(3, 3, 1), (2, 3, 2), (3, 2, 3)])
def test_max_pool_naive_overlapping_and_rectangular(solutions, gc, ph, pw, stride):
    layers = solutions("layers")
    rng = np.random.RandomState(1)
    x = rng.randn(2, 2, 7, 8)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = layers.max_pool_forward_naive(x, pool_param)
    assert out.shape == (2, 2, 1 + (7 - ph) // stride, 1 + (8 - pw) // stride)
    assert out[1, 1, -1, -1] == x[1, 1, (out.shape[2] - 1) * stride:(out.shape[2] - 1) * stride + ph,
                                  (out.shape[3] - 1) * stride:(out.shape[3] - 1) * stride + pw].max()
    dout = rng.randn(*out.shape)
    dx = layers.max_pool_backward_naive(dout, cache)
    dx_num = gc.eval_numerical_gradient_array(
        lambda v: layers.max_pool_forward_naive(v, pool_param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-10
