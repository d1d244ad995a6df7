"""The nets and the Trainer of the mlp solutions: gradients by backpropagation against numerical gradients,
initialization scales, weight decay, integer and one-hot labels, training, and the data loader."""
import numpy as np
import pytest


def _rel(a, b):
    """The largest difference relative to the largest entry (numerical_gradient's step h = 1e-4 leaves an
    absolute error of about h**2, which an elementwise relative error magnifies on entries near zero)."""
    return np.max(np.abs(a - b)) / max(1e-3, np.max(np.abs(a) + np.abs(b)))   # (b1 before a batch norm: 0)


def _data(n=6, d=8, c=4, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n, d), rng.randint(c, size=n)


def _check(net, x, t, tol=2e-5):
    grads, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    assert set(grads) == set(net.params) == set(numerical)
    for k in grads:
        assert grads[k].shape == net.params[k].shape
        assert _rel(grads[k], numerical[k]) < tol, k


def test_three_layer_net_gradient_and_layers(mlp):
    np.random.seed(1)
    net = mlp("three_layer_net").ThreeLayerNet(input_size=8, hidden_size1=7, hidden_size2=6, output_size=4)
    assert list(net.layers) == ["Affine1", "LeakyRelu1", "Affine2", "LeakyRelu2", "Affine3"]
    x, t = _data()
    _check(net, x, t)


def test_three_layer_net_default_shape(mlp):
    net = mlp("three_layer_net").ThreeLayerNet()
    assert [net.params[f"W{i}"].shape for i in (1, 2, 3)] == [(784, 300), (300, 300), (300, 10)]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid"])
def test_multi_layer_net_gradient_with_weight_decay(mlp, activation):
    np.random.seed(2)
    net = mlp("multi_layer_net").MultiLayerNet(8, [7, 6], 4, activation=activation, weight_decay_lambda=0.1)
    x, t = _data(seed=3)
    _check(net, x, t)


def test_weight_decay_in_the_loss(mlp):
    np.random.seed(3)
    MLN = mlp("multi_layer_net").MultiLayerNet
    a = MLN(8, [5], 4, weight_decay_lambda=0.0)
    b = MLN(8, [5], 4, weight_decay_lambda=0.3)
    for k in a.params:
        b.params[k][...] = a.params[k]
    x, t = _data()
    penalty = 0.5 * 0.3 * (np.sum(a.params["W1"] ** 2) + np.sum(a.params["W2"] ** 2))
    np.testing.assert_allclose(b.loss(x, t) - a.loss(x, t), penalty, rtol=1e-10)


def test_extend_gradient_with_batchnorm(mlp):
    np.random.seed(4)
    net = mlp("multi_layer_net_extend").MultiLayerNetExtend(8, [7, 6], 4, use_batchnorm=True,
                                                             weight_decay_lambda=0.05)
    assert {"gamma1", "beta1", "gamma2", "beta2"} <= set(net.params)
    assert list(net.layers)[:4] == ["Affine1", "BatchNorm1", "Activation_function1", "Affine2"]
    x, t = _data(n=10, seed=5)
    _check(net, x, t)


def test_extend_dropout_only_at_training(mlp):
    np.random.seed(5)
    net = mlp("multi_layer_net_extend").MultiLayerNetExtend(8, [50, 50], 4, use_dropout=True, dropout_ration=0.5)
    x, _ = _data()
    np.testing.assert_array_equal(net.predict(x), net.predict(x))              # test: deterministic
    assert not np.allclose(net.predict(x, train_flg=True), net.predict(x, train_flg=True))


def test_integer_and_one_hot_labels_give_the_same_loss_gradient_and_accuracy(mlp):
    np.random.seed(6)
    net = mlp("multi_layer_net").MultiLayerNet(8, [5], 4)
    x, t = _data()
    hot = np.eye(4)[t]
    np.testing.assert_allclose(net.loss(x, t), net.loss(x, hot), rtol=1e-12)
    g1, g2 = net.gradient(x, t), net.gradient(x, hot)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], atol=1e-14)
    assert net.accuracy(x, t) == net.accuracy(x, hot)


@pytest.mark.parametrize("init, expected", [(0.05, lambda n: 0.05), ("he", lambda n: np.sqrt(2 / n)),
                                            ("relu", lambda n: np.sqrt(2 / n)),
                                            ("xavier", lambda n: np.sqrt(1 / n)),
                                            ("sigmoid", lambda n: np.sqrt(1 / n))])
def test_initialization_scales(mlp, init, expected):
    np.random.seed(7)
    net = mlp("multi_layer_net").MultiLayerNet(400, [300], 10, weight_init_std=init)
    for k, fan_in in (("W1", 400), ("W2", 300)):
        assert abs(net.params[k].std() / expected(fan_in) - 1) < 0.05
    assert np.all(net.params["b1"] == 0)


def test_the_layers_share_the_parameter_arrays(mlp):
    """An optimizer updates params in place: the layers must see the change."""
    np.random.seed(8)
    net = mlp("multi_layer_net").MultiLayerNet(8, [5], 4)
    x, _ = _data()
    before = net.predict(x)
    net.params["W2"] *= 0
    net.params["b2"] += 1
    np.testing.assert_allclose(net.predict(x), np.ones_like(before))


def test_trainer_trains_on_fashion_mnist(mlp):
    (x, t), (xt, tt) = mlp("mnist").load_mnist(normalize=True)
    assert x.dtype == np.float32 and x.shape[1] == 784 and 0 <= x.min() and x.max() <= 1 and t.dtype == np.int64
    np.random.seed(9)
    net = mlp("multi_layer_net").MultiLayerNet(784, [50], 10)
    trainer = mlp("trainer").Trainer(net, x[:2000], t[:2000], xt[:500], tt[:500], epochs=2, mini_batch_size=100,
                                     optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False)
    acc = trainer.train()
    assert len(trainer.train_loss_list) == 40 and len(trainer.test_acc_list) == 2
    assert trainer.train_loss_list[-1] < trainer.train_loss_list[0]
    assert acc > 0.6


def test_load_mnist_one_hot_and_images(mlp):
    (x, t), _ = mlp("mnist").load_mnist(normalize=False, flatten=False, one_hot_label=True)
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.uint8
    assert t.shape == (60000, 10) and np.all(t.sum(axis=1) == 1)


def test_load_mnist_prefers_mnist_folder(mlp, tmp_path, monkeypatch):
    """A data folder with mnist/ IDX files is MNIST; without, the loader falls back to Fashion-MNIST."""
    import gzip
    import struct

    mnist = mlp("mnist")
    folder = tmp_path / "mnist"
    folder.mkdir()
    for kind, n in (("train", 3), ("t10k", 2)):
        with gzip.open(folder / f"{kind}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">4B3I", 0, 0, 8, 3, n, 28, 28) + bytes(range(n)) * 784)
        with gzip.open(folder / f"{kind}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">4BI", 0, 0, 8, 1, n) + bytes(range(n)))
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    assert mnist.find_dataset() == (folder, "mnist")
    (x, t), (xt, tt) = mnist.load_mnist()
    assert x.shape == (3, 784) and list(t) == [0, 1, 2] and xt.shape == (2, 784)
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path / "nothing"))
    assert mnist.find_dataset()[1] == "fashion-mnist"
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    assert mnist.find_dataset("fashion-mnist")[1] == "fashion-mnist"


def test_float32_end_to_end(mlp):
    """A float32 net stays float32 through a training step with Adam (no silent float64 arithmetic)."""
    np.random.seed(10)
    net = mlp("three_layer_net").ThreeLayerNet(input_size=8, hidden_size1=7, hidden_size2=6, output_size=4,
                                               dtype=np.float32)
    x, t = _data()
    x = x.astype(np.float32)
    grads = net.gradient(x, t)
    assert all(g.dtype == np.float32 for g in grads.values())
    opt = mlp("optimizer").Adam()
    opt.update(net.params, grads)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(m.dtype == np.float32 for m in opt.m.values()) and net.predict(x).dtype == np.float32
