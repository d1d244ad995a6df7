"""ThreeLayerConvNet (classifiers/cnn.py) and the conv sandwich layers (layer_utils.py).

Canonical checks, sections 19 (sandwich layers) and 20 (ThreeLayerConvNet). The ThreeLayerConvNet
checks run on the solutions, which must pass them, and on the generated starter, which has no solution
code: there each check must fail with a plain assertion (``fails_cleanly_on_the_starter``), never crash.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from support.checking import numerical_gradient, numerical_gradient_array, rel_error
from support.paths import STARTER

PARAM_NAMES = {"W1", "b1", "W2", "b2", "W3", "b3"}



@pytest.fixture(params=["solutions", "starter"])
def cnn(request, solutions, starter):
    """The cnn module of the solutions or of the starter."""
    assert (STARTER / "cs231n" / "classifiers" / "cnn.py").is_file(), "starter/ is generated and committed"
    load = solutions if request.param == "solutions" else starter
    return load("classifiers.cnn")


def fails_cleanly_on_the_starter(test):
    """The check must pass on the solutions; on the starter (placeholders instead of solution code) it must
    fail with an AssertionError, not crash with another exception."""
    @functools.wraps(test)
    def run(cnn, *args, **kwargs):
        if cnn.__name__.startswith("_starter_"):
            with pytest.raises(AssertionError):
                test(cnn, *args, **kwargs)
        else:
            test(cnn, *args, **kwargs)
    return run


def assert_close_in_norm(num_grad, grad, name):
    """||num - grad|| within 1e-3 of ||num||, plus a floor for the rounding noise of the numerical
    gradient (about eps * loss / h = 5e-10 per entry with h = 1e-6)."""
    diff = np.linalg.norm(num_grad - grad)
    assert diff <= 1e-3 * np.linalg.norm(num_grad) + 1e-8, (name, diff, np.linalg.norm(num_grad))


def assert_has_params(model):
    assert set(model.params) == PARAM_NAMES, sorted(model.params)


# --------------------------------------------------------------------------- ThreeLayerConvNet (20)


@fails_cleanly_on_the_starter
def test_cnn_initial_loss_is_about_log_C(cnn):
    np.random.seed(231)
    model = cnn.ThreeLayerConvNet()
    assert_has_params(model)
    N = 50
    X = np.random.randn(N, 3, 32, 32)
    y = np.random.randint(10, size=N)

    scores = model.loss(X)
    assert scores is not None and scores.shape == (N, 10)

    loss, grads = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01, loss                    # observed 2.302586
    assert set(grads) == PARAM_NAMES

    model.reg = 0.5
    loss_reg, _ = model.loss(X, y)
    assert 2.4 < loss_reg < 2.6, loss_reg                         # observed 2.508256


@fails_cleanly_on_the_starter
def test_cnn_parameter_shapes_and_dtype(cnn):
    model = cnn.ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=4, filter_size=5,
                                  hidden_dim=9, num_classes=6, weight_scale=0.1)
    assert_has_params(model)
    expected = {"W1": (4, 3, 5, 5), "b1": (4,), "W2": (4 * 8 * 8, 9), "b2": (9,),
                "W3": (9, 6), "b3": (6,)}
    assert {k: v.shape for k, v in model.params.items()} == expected
    assert all(v.dtype == np.float32 for v in model.params.values())      # default dtype
    for k in ("b1", "b2", "b3"):
        assert not model.params[k].any(), k                                # biases start at zero
    # Weights are Gaussian with standard deviation weight_scale.
    assert abs(model.params["W2"].std() - 0.1) < 0.01


@fails_cleanly_on_the_starter
def test_cnn_gradient_check(cnn):
    num_inputs = 2
    input_dim = (3, 16, 16)
    num_classes = 10
    np.random.seed(231)
    X = np.random.randn(num_inputs, *input_dim)
    y = np.random.randint(num_classes, size=num_inputs)
    model = cnn.ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=input_dim, hidden_dim=7,
                                  dtype=np.float64)
    assert_has_params(model)

    loss, grads = model.loss(X, y)
    assert set(grads) == PARAM_NAMES
    for name in sorted(model.params):
        num_grad = numerical_gradient(lambda: model.loss(X, y)[0], model.params[name], h=1e-6)
        # "correct implementations may have relative errors up to the order of e-2" (observed:
        # W2 1.8e-2, from kinks of ReLU/max pool and tiny gradient entries) ...
        assert rel_error(num_grad, grads[name]) < 5e-2, name
        # ... but the gradient as a whole must agree closely.
        assert_close_in_norm(num_grad, grads[name], name)


@fails_cleanly_on_the_starter
def test_cnn_gradient_check_with_regularization(cnn):
    np.random.seed(0)
    X = np.random.randn(2, 2, 8, 8)
    y = np.random.randint(5, size=2)
    model = cnn.ThreeLayerConvNet(input_dim=(2, 8, 8), num_filters=2, filter_size=3, hidden_dim=5,
                                  num_classes=5, weight_scale=0.1, reg=0.7, dtype=np.float64)
    assert_has_params(model)
    loss, grads = model.loss(X, y)
    reg_term = 0.5 * 0.7 * sum(np.sum(model.params[k] ** 2) for k in ("W1", "W2", "W3"))
    model.reg = 0.0
    assert loss == pytest.approx(model.loss(X, y)[0] + reg_term, rel=1e-10)
    model.reg = 0.7
    for name in sorted(model.params):
        num_grad = numerical_gradient(lambda: model.loss(X, y)[0], model.params[name], h=1e-6)
        assert rel_error(num_grad, grads[name]) < 5e-2, name
        assert_close_in_norm(num_grad, grads[name], name)


@fails_cleanly_on_the_starter
def test_cnn_overfits_small_fashion_mnist(cnn, solutions):
    """100 Fashion-MNIST images (1x28x28), 15 epochs, batch 50, adam 1e-3: it should clearly overfit."""
    data = solutions("data_utils").get_assignment_data(num_training=100, num_validation=200,
                                                       dataset="fashion_mnist")
    assert data["X_train"].shape == (100, 1, 28, 28)
    small_data = {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")}

    np.random.seed(231)
    model = cnn.ThreeLayerConvNet(input_dim=(1, 28, 28), weight_scale=1e-2)
    assert_has_params(model)
    solver = solutions("solver").Solver(model, small_data, num_epochs=15, batch_size=50,
                                        update_rule="adam", optim_config={"learning_rate": 1e-3},
                                        verbose=False)
    solver.train()

    train_acc, val_acc = solver.train_acc_history[-1], solver.val_acc_history[-1]
    assert train_acc >= 0.9, solver.train_acc_history                     # observed 0.99
    assert train_acc - val_acc >= 0.15, (train_acc, val_acc)              # observed val ~0.7
    assert solver.loss_history[-1] < 0.25 * solver.loss_history[0], solver.loss_history


def test_cnn_shapes_for_other_filter_sizes(solutions):
    """Even filter sizes and non-square inputs: the padding (F-1)//2 then shrinks the image by one."""
    cnn = solutions("classifiers.cnn")
    for filter_size, input_dim in ((4, (2, 10, 12)), (5, (1, 9, 7)), (1, (3, 6, 6))):
        model = cnn.ThreeLayerConvNet(input_dim=input_dim, num_filters=3, filter_size=filter_size,
                                      hidden_dim=4, num_classes=3, dtype=np.float64)
        X = np.random.RandomState(0).randn(2, *input_dim)
        assert model.loss(X).shape == (2, 3)
        loss, grads = model.loss(X, np.array([0, 2]))
        assert np.isfinite(loss)
        assert all(grads[k].shape == model.params[k].shape for k in PARAM_NAMES)


# --------------------------------------------------------------------------- sandwich layers (19)


@pytest.fixture(scope="module")
def layer_utils(solutions):
    return solutions("layer_utils")


def test_conv_relu_pool_sandwich(layer_utils):
    np.random.seed(231)
    x = np.random.randn(2, 3, 16, 16)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    out, cache = layer_utils.conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    assert out.shape == (2, 3, 8, 8)
    dx, dw, db = layer_utils.conv_relu_pool_backward(dout, cache)

    def forward():
        return layer_utils.conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]

    # "around e-8 or less"
    assert rel_error(dx, numerical_gradient_array(forward, x, dout)) < 1e-7
    assert rel_error(dw, numerical_gradient_array(forward, w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient_array(forward, b, dout)) < 1e-7


def test_conv_relu_sandwich(layer_utils):
    np.random.seed(231)
    x = np.random.randn(2, 3, 8, 8)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}

    out, cache = layer_utils.conv_relu_forward(x, w, b, conv_param)
    assert out.shape == (2, 3, 8, 8) and out.min() >= 0
    dx, dw, db = layer_utils.conv_relu_backward(dout, cache)

    def forward():
        return layer_utils.conv_relu_forward(x, w, b, conv_param)[0]

    assert rel_error(dx, numerical_gradient_array(forward, x, dout)) < 1e-7
    assert rel_error(dw, numerical_gradient_array(forward, w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient_array(forward, b, dout)) < 1e-7


def test_conv_bn_relu_sandwich(layer_utils):
    np.random.seed(231)
    x = np.random.randn(2, 3, 8, 8)
    w = np.random.randn(4, 3, 3, 3)
    b = np.random.randn(4,)
    gamma = np.random.randn(4,)
    beta = np.random.randn(4,)
    dout = np.random.randn(2, 4, 4, 4)
    conv_param = {"stride": 2, "pad": 1}

    def forward():
        return layer_utils.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param,
                                                {"mode": "train"})[0]

    out, cache = layer_utils.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param,
                                                  {"mode": "train"})
    assert out.shape == (2, 4, 4, 4)
    dx, dw, db, dgamma, dbeta = layer_utils.conv_bn_relu_backward(dout, cache)

    assert rel_error(dx, numerical_gradient_array(forward, x, dout)) < 1e-6
    assert rel_error(dw, numerical_gradient_array(forward, w, dout)) < 1e-6
    assert rel_error(dgamma, numerical_gradient_array(forward, gamma, dout)) < 1e-6
    assert rel_error(dbeta, numerical_gradient_array(forward, beta, dout)) < 1e-6
    # Batch normalization removes any per-channel constant, so the conv bias has no effect: both
    # gradients are ~0 and a relative error would be meaningless; compare absolutely.
    assert np.abs(db).max() < 1e-8
    assert np.abs(numerical_gradient_array(forward, b, dout)).max() < 1e-7
