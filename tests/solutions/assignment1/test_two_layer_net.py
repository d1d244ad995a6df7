"""canonical_checks.md section 7 (the 2021+ TwoLayerNet of classifiers/fc_net.py, on layers.py) and the
layer checks two_layer_net.ipynb runs since 2021 (sections 1-6), replayed against assignment 1's
solutions, which must pass them, and its starter, which must fail them cleanly. (Section 8, the
2016-2020 net, is tests/grader/assignments/test_assignment1_shapes.py's: the starter does not ship it.)"""
import numpy as np

from support.checking import numerical_gradient, numerical_gradient_array, rel_error, verify


def test_affine_forward(cs):
    def check(cs):
        x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
        w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
        b = np.linspace(-0.3, 0.1, num=3)
        out, _ = cs("layers").affine_forward(x, w, b)
        correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                                [3.25553199, 3.5141327, 3.77273342]])
        assert rel_error(out, correct_out) < 1e-8
    verify(cs, check)


def test_affine_backward(cs):
    def check(cs):
        L = cs("layers")
        np.random.seed(231)
        x = np.random.randn(10, 2, 3)
        w = np.random.randn(6, 5)
        b = np.random.randn(5)
        dout = np.random.randn(10, 5)
        _, cache = L.affine_forward(x, w, b)
        dx, dw, db = L.affine_backward(dout, cache)
        for analytic, arr in ((dx, x), (dw, w), (db, b)):
            num = numerical_gradient_array(lambda: L.affine_forward(x, w, b)[0], arr, dout)
            assert rel_error(num, analytic) < 1e-9
    verify(cs, check)


def test_relu(cs):
    def check(cs):
        L = cs("layers")
        out, _ = L.relu_forward(np.linspace(-0.5, 0.5, num=12).reshape(3, 4))
        correct_out = np.array([[0., 0., 0., 0.],
                                [0., 0., 0.04545455, 0.13636364],
                                [0.22727273, 0.31818182, 0.40909091, 0.5]])
        assert rel_error(out, correct_out) < 1e-7
        np.random.seed(231)
        x = np.random.randn(10, 10)
        dout = np.random.randn(*x.shape)
        _, cache = L.relu_forward(x)
        dx = L.relu_backward(dout, cache)
        assert rel_error(numerical_gradient_array(lambda: L.relu_forward(x)[0], x, dout), dx) < 1e-11
    verify(cs, check)


def test_affine_relu(cs):
    def check(cs):
        U = cs("layer_utils")
        np.random.seed(231)
        x = np.random.randn(2, 3, 4)
        w = np.random.randn(12, 10)
        b = np.random.randn(10)
        dout = np.random.randn(2, 10)
        _, cache = U.affine_relu_forward(x, w, b)
        dx, dw, db = U.affine_relu_backward(dout, cache)
        for analytic, arr in ((dx, x), (dw, w), (db, b)):
            num = numerical_gradient_array(lambda: U.affine_relu_forward(x, w, b)[0], arr, dout)
            assert rel_error(num, analytic) < 1e-9
    verify(cs, check)


def test_svm_loss(cs):
    def check(cs):
        np.random.seed(231)
        x = 0.001 * np.random.randn(50, 10)
        y = np.random.randint(10, size=50)
        loss, dx = cs("layers").svm_loss(x, y)
        assert abs(loss - 9) < 0.01       # "around 9": 9 margins of about 1
        assert rel_error(numerical_gradient(lambda: cs("layers").svm_loss(x, y)[0], x), dx) < 1e-8
    verify(cs, check)


def test_softmax_loss(cs):
    def check(cs):
        np.random.seed(231)
        x = 0.001 * np.random.randn(50, 10)
        y = np.random.randint(10, size=50)
        loss, dx = cs("layers").softmax_loss(x, y)
        assert abs(loss - 2.302545844500738) < 1e-12
        dx_num = numerical_gradient(lambda: cs("layers").softmax_loss(x, y)[0], x)
        assert rel_error(dx_num, dx) < 1e-7
    verify(cs, check)


def _net(cs):
    np.random.seed(231)
    N, D, H, C = 3, 5, 50, 7
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    model = cs("classifiers.fc_net").TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    return model, X, y


def test_two_layer_init(cs):
    def check(cs):
        model, _, _ = _net(cs)
        W1, b1, W2, b2 = (model.params[k] for k in ("W1", "b1", "W2", "b2"))
        assert abs(W1.std() - 1e-3) < 1e-4 and abs(W2.std() - 1e-3) < 1e-4
        assert np.all(b1 == 0) and np.all(b2 == 0)
    verify(cs, check)


def _set_canonical_params(model):
    model.params["W1"] = np.linspace(-0.7, 0.3, num=250).reshape(5, 50)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=50)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=350).reshape(50, 7)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=7)
    return np.linspace(-5.5, 4.5, num=15).reshape(5, 3).T


def test_two_layer_scores_and_losses(cs):
    def check(cs):
        model, _, _ = _net(cs)
        X = _set_canonical_params(model)
        correct_scores = np.asarray(
            [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
             [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
             [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
        assert np.abs(model.loss(X) - correct_scores).sum() < 1e-6
        y = np.array([0, 5, 1])
        assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
        model.reg = 1.0
        assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10
    verify(cs, check)


def test_two_layer_gradients(cs):
    def check(cs):
        # as the notebook does: right after the loss checks, at the linspace parameters and inputs
        model, _, _ = _net(cs)
        X, y = _set_canonical_params(model), np.array([0, 5, 1])
        for reg in (0.0, 0.7):
            model.reg = reg
            _, grads = model.loss(X, y)
            assert sorted(grads) == ["W1", "W2", "b1", "b2"]
            for name in sorted(grads):
                num = numerical_gradient(lambda: model.loss(X, y)[0], model.params[name])
                assert rel_error(num, grads[name]) < 1e-6, (reg, name)
    verify(cs, check)
