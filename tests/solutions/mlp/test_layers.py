"""The layer classes of the mlp solutions: every backward pass against a numerical gradient, batch
normalization's running statistics, dropout at train and test, and one-hot against integer labels."""
import numpy as np
import pytest


def _num_grad(f, x, dout, h=1e-5):
    """d sum(f(x) * dout) / dx by centred differences."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.sum(f(x) * dout)
        x[i] = old - h
        neg = np.sum(f(x) * dout)
        x[i] = old
        grad[i] = (pos - neg) / (2 * h)
        it.iternext()
    return grad


def _rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@pytest.mark.parametrize("name", ["Relu", "LeakyRelu", "Sigmoid"])
def test_activation_backward(mlp, name):
    rng = np.random.RandomState(1)
    layer = getattr(mlp("layers"), name)()
    x = rng.randn(4, 5)
    dout = rng.randn(4, 5)
    layer.forward(x)
    dx = layer.backward(dout)
    assert _rel(dx, _num_grad(lambda v: getattr(mlp("layers"), name)().forward(v), x.copy(), dout)) < 1e-7


def test_leaky_relu_slope(mlp):
    layer = mlp("layers").LeakyRelu()
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 3.0]])), [[-0.02, 3.0]])
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 1.0]])), [[0.01, 1.0]])
    np.testing.assert_allclose(mlp("layers").LeakyRelu(alpha=0.2).forward(np.array([-1.0])), [-0.2])


def test_affine_forward_backward_on_images(mlp):
    rng = np.random.RandomState(2)
    Affine = mlp("layers").Affine
    x, W, b = rng.randn(3, 2, 2, 3), rng.randn(12, 5), rng.randn(5)
    layer = Affine(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(3, 12) @ W + b)
    dout = rng.randn(3, 5)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    assert _rel(dx, _num_grad(lambda v: Affine(W, b).forward(v), x.copy(), dout)) < 1e-7
    assert _rel(layer.dW, _num_grad(lambda v: Affine(v, b).forward(x), W.copy(), dout)) < 1e-7
    assert _rel(layer.db, dout.sum(axis=0)) < 1e-12


def test_softmax_with_loss_integer_and_one_hot_labels(mlp):
    rng = np.random.RandomState(3)
    layers = mlp("layers")
    x = rng.randn(6, 4)
    t = np.array([0, 3, 1, 1, 2, 0])
    one_hot = np.eye(4)[t]
    a, b = layers.SoftmaxWithLoss(), layers.SoftmaxWithLoss()
    loss_int, loss_hot = a.forward(x, t), b.forward(x, one_hot)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss_int, -np.mean(np.log(p[np.arange(6), t])), rtol=1e-6)
    np.testing.assert_allclose(loss_int, loss_hot, rtol=1e-12)
    np.testing.assert_allclose(a.backward(), b.backward(), atol=1e-15)
    np.testing.assert_allclose(a.backward(), (p - one_hot) / 6, atol=1e-12)
    big = layers.SoftmaxWithLoss().forward(1000 * x, t)      # stable for large scores
    assert np.isfinite(big)


def test_batchnorm_backward(mlp):
    rng = np.random.RandomState(4)
    BN = mlp("layers").BatchNormalization
    x, gamma, beta = rng.randn(8, 5) * 3 + 1, rng.rand(5) + 0.5, rng.randn(5)
    dout = rng.randn(8, 5)
    layer = BN(gamma, beta)
    layer.forward(x, train_flg=True)
    dx = layer.backward(dout)
    assert _rel(dx, _num_grad(lambda v: BN(gamma, beta).forward(v, True), x.copy(), dout)) < 1e-6
    assert _rel(layer.dgamma, _num_grad(lambda v: BN(v, beta).forward(x, True), gamma.copy(), dout)) < 1e-6
    assert _rel(layer.dbeta, dout.sum(axis=0)) < 1e-12


def test_batchnorm_train_and_running_statistics(mlp):
    rng = np.random.RandomState(5)
    layer = mlp("layers").BatchNormalization(np.ones(3), np.zeros(3), momentum=0.9)
    x = rng.randn(200, 3) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.0]
    out = layer.forward(x, train_flg=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.1 * x.var(axis=0), rtol=1e-12)
    for _ in range(100):
        layer.forward(x, train_flg=True)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=0), rtol=1e-4)
    test_out = layer.forward(x[:5], train_flg=False)        # the running statistics, not the batch's
    np.testing.assert_allclose(test_out, (x[:5] - layer.running_mean) / np.sqrt(layer.running_var + 1e-6),
                               rtol=1e-9)


def test_batchnorm_takes_images(mlp):
    layer = mlp("layers").BatchNormalization(np.ones(12), np.zeros(12))
    x = np.random.RandomState(6).randn(4, 3, 2, 2)
    out = layer.forward(x, train_flg=True)
    assert out.shape == x.shape and layer.backward(np.ones_like(x)).shape == x.shape


def test_dropout_train_and_test(mlp):
    Dropout = mlp("layers").Dropout
    x = np.ones((500, 200))
    np.random.seed(7)
    layer = Dropout(dropout_ratio=0.3)
    out = layer.forward(x, train_flg=True)
    kept = np.mean(out != 0)
    assert abs(kept - 0.7) < 0.01                      # the ratio DROPPED is 0.3
    assert set(np.unique(out)) <= {0.0, 1.0}           # no rescaling at training time
    dout = np.random.randn(500, 200)
    np.testing.assert_array_equal(layer.backward(dout), dout * (out != 0))
    np.testing.assert_allclose(layer.forward(x, train_flg=False), 0.7 * x)
