"""Checks of the solutions beyond the canonical notebook cells: Nesterov momentum and AdaGrad
against independent formulas, LeakyReLU, optimizer defaults and state, float32 end to end,
FullyConnectedNet options, the Solver, the gradient-check helpers and vis_utils."""
import inspect

import numpy as np
import pytest

from support.checking import rel_error


@pytest.fixture(scope="module")
def layers(solutions):
    return solutions("layers")


@pytest.fixture(scope="module")
def optim(solutions):
    return solutions("optim")


@pytest.fixture(scope="module")
def fc_net(solutions):
    return solutions("classifiers.fc_net")


def _gradient_sequence(steps, shape, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for _ in range(steps)]


# --------------------------------------------------------------------------------------------
# Nesterov momentum and AdaGrad: several steps against independent formulations
# --------------------------------------------------------------------------------------------

def test_nesterov_momentum_matches_sutskever_form(optim):
    """Track the 'true' parameters theta of Sutskever et al. (2013):
        v <- mu v - lr grad(theta + mu v);  theta <- theta + v
    The update rule works on the look-ahead point w = theta + mu v, so after every step
    next_w must equal theta + mu v, and config['velocity'] must equal v."""
    lr, mu = 0.05, 0.8
    rng = np.random.RandomState(1)
    w = rng.randn(3, 4)
    v0 = 0.1 * rng.randn(3, 4)
    config = {"learning_rate": lr, "momentum": mu, "velocity": v0.copy()}
    theta, v = w - mu * v0, v0.copy()
    for dw in _gradient_sequence(5, w.shape):
        w, config = optim.nesterov_momentum(w, dw, config)
        v = mu * v - lr * dw
        theta = theta + v
        assert rel_error(w, theta + mu * v) < 1e-12
        assert rel_error(config["velocity"], v) < 1e-12


def test_nesterov_momentum_defaults_and_fresh_state(optim):
    w = np.ones((2, 3))
    dw = np.full((2, 3), 2.0)
    next_w, config = optim.nesterov_momentum(w.copy(), dw)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    # From v = 0: v = -lr dw, next_w = w + (1 + mu) v
    np.testing.assert_allclose(config["velocity"], -0.02)
    np.testing.assert_allclose(next_w, 1 - 1.9 * 0.02)


def test_adagrad_matches_sum_of_squares(optim):
    """cache_t = sum of all squared gradients so far; w_t = w_{t-1} - lr g_t / (sqrt(cache_t) + eps)."""
    lr, eps = 0.1, 1e-8
    rng = np.random.RandomState(2)
    w = rng.randn(4, 2)
    grads = _gradient_sequence(5, w.shape, seed=3)
    config = {"learning_rate": lr}
    expected_w = w.copy()
    for t, dw in enumerate(grads):
        w, config = optim.adagrad(w, dw, config)
        sum_sq = np.sum(np.square(grads[:t + 1]), axis=0)
        expected_w = expected_w - lr * dw / (np.sqrt(sum_sq) + eps)
        assert rel_error(w, expected_w) < 1e-12
        assert rel_error(config["cache"], sum_sq) < 1e-12
    assert config["epsilon"] == 1e-8


def test_adagrad_defaults_and_fresh_state(optim):
    w, dw = np.zeros(3), np.array([1.0, -2.0, 0.5])
    next_w, config = optim.adagrad(w.copy(), dw)
    assert config["learning_rate"] == 1e-2 and config["epsilon"] == 1e-8
    np.testing.assert_allclose(config["cache"], dw**2)
    # first step: dw / |dw| = sign(dw)
    np.testing.assert_allclose(next_w, -1e-2 * np.sign(dw), rtol=1e-7)


# --------------------------------------------------------------------------------------------
# The other update rules: defaults, state, several steps
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, defaults, state", [
    ("sgd", {"learning_rate": 1e-2}, []),
    ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9}, ["velocity"]),
    ("nesterov_momentum", {"learning_rate": 1e-2, "momentum": 0.9}, ["velocity"]),
    ("adagrad", {"learning_rate": 1e-2, "epsilon": 1e-8}, ["cache"]),
    ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}, ["cache"]),
    ("adam", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, ["m", "v"]),
])
def test_update_rule_defaults_state_and_float32(optim, rule, defaults, state):
    update = getattr(optim, rule)
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    dw = np.linspace(0.5, -0.5, 12, dtype=np.float32).reshape(3, 4)
    next_w, config = update(w.copy(), dw, None)
    for k, v in defaults.items():
        assert config[k] == v, (rule, k)
    for k in state:
        assert config[k].shape == w.shape and config[k].dtype == np.float32, (rule, k)
    # one step from zero state moves every weight against its gradient, in float32
    assert next_w.dtype == np.float32
    assert np.all(np.sign(next_w - w) == -np.sign(dw))
    for _ in range(3):
        next_w, config = update(next_w, dw, config)
        assert next_w.dtype == np.float32
        for k in state:
            assert config[k].dtype == np.float32, (rule, k)


def test_adam_several_steps_against_formula(optim):
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    w = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    grads = _gradient_sequence(5, w.shape, seed=4)
    config = {"learning_rate": lr}
    m = v = np.zeros_like(w)
    expected = w.copy()
    for t, dw in enumerate(grads, start=1):
        w, config = optim.adam(w, dw, config)
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw**2
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        assert config["t"] == t
        assert rel_error(w, expected) < 1e-10


# --------------------------------------------------------------------------------------------
# Leaky ReLU
# --------------------------------------------------------------------------------------------

def test_leaky_relu_default_slope(layers):
    assert inspect.signature(layers.leaky_relu_forward).parameters["alpha"].default == 0.01
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    out, _ = layers.leaky_relu_forward(x)
    np.testing.assert_allclose(out, [[-0.02, -0.005, 0.0, 0.5, 3.0]])


@pytest.mark.parametrize("alpha", [0.01, 0.2, 1.5])
def test_leaky_relu_gradient_and_slope(layers, gc, alpha):
    np.random.seed(231)
    x = np.random.randn(10, 10)
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of the kink for the numeric derivative
    dout = np.random.randn(*x.shape)
    out, cache = layers.leaky_relu_forward(x, alpha)
    np.testing.assert_allclose(out, np.where(x > 0, x, alpha * x))
    dx = layers.leaky_relu_backward(dout, cache)
    dx_num = gc.eval_numerical_gradient_array(lambda v: layers.leaky_relu_forward(v, alpha)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-10
    np.testing.assert_allclose(dx[x < 0], alpha * dout[x < 0])


def test_leaky_relu_keeps_float32(layers):
    x = np.linspace(-1, 1, 10, dtype=np.float32)
    out, cache = layers.leaky_relu_forward(x, 0.1)
    assert out.dtype == np.float32
    assert layers.leaky_relu_backward(np.ones_like(x), cache).dtype == np.float32


# --------------------------------------------------------------------------------------------
# Normalization and dropout details
# --------------------------------------------------------------------------------------------

def test_batchnorm_running_averages_and_modes(layers):
    rng = np.random.RandomState(5)
    x = (3 * rng.randn(50, 4) + 2).astype(np.float32)
    gamma, beta = np.ones(4, np.float32), np.zeros(4, np.float32)
    bn_param = {"mode": "train"}
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    # running averages start from zeros (of x's dtype) and use momentum 0.9
    assert bn_param["running_mean"].dtype == np.float32 and out.dtype == np.float32
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-5)
    # explicit momentum and eps are honoured; test mode uses (and does not change) the averages
    bn_param = {"mode": "train", "momentum": 0.5, "eps": 1e-3}
    layers.batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.5 * x.mean(axis=0), rtol=1e-5)
    bn_param["mode"] = "test"
    rm, rv = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, (x - rm) / np.sqrt(rv + 1e-3), rtol=1e-5)
    assert np.array_equal(bn_param["running_mean"], rm)


def test_batchnorm_rejects_unknown_mode(layers):
    with pytest.raises(ValueError):
        layers.batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), {"mode": "eval"})


def test_dropout_seed_float32_and_keep_all(layers):
    x = np.random.RandomState(6).randn(40, 30).astype(np.float32) + 3
    out1, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.6, "seed": 7})
    out2, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.6, "seed": 7})
    out3, _ = layers.dropout_forward(x, {"mode": "train", "p": 0.6, "seed": 8})
    assert np.array_equal(out1, out2) and not np.array_equal(out1, out3)
    assert out1.dtype == np.float32
    assert layers.dropout_backward(np.ones_like(x), cache).dtype == np.float32
    out, _ = layers.dropout_forward(x, {"mode": "train", "p": 1.0})
    assert np.array_equal(out, x)


def test_loss_functions_keep_float32(layers):
    rng = np.random.RandomState(8)
    x = rng.randn(20, 5).astype(np.float32)
    y = rng.randint(5, size=20)
    for loss_fn in (layers.softmax_loss, layers.svm_loss):
        loss, dx = loss_fn(x, y)
        assert dx.dtype == np.float32 and np.isfinite(loss)
        loss64, dx64 = loss_fn(x.astype(np.float64), y)
        assert abs(loss - loss64) < 1e-5 and rel_error(dx, dx64) < 1e-4


def test_softmax_loss_is_stable_for_large_scores(layers):
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]])
    loss, dx = layers.softmax_loss(x, np.array([0, 0]))
    assert np.isfinite(loss) and abs(loss - 1000.0) < 1e-9
    assert np.all(np.isfinite(dx))


# --------------------------------------------------------------------------------------------
# FullyConnectedNet options
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("dropout", [1, 0.5])
def test_fc_net_float32_end_to_end(fc_net, normalization, dropout):
    rng = np.random.RandomState(9)
    X = rng.randn(16, 12).astype(np.float32)
    y = rng.randint(4, size=16)
    model = fc_net.FullyConnectedNet([10, 8], input_dim=12, num_classes=4, dropout=dropout,
                                     normalization=normalization, reg=0.1, seed=1)
    assert all(v.dtype == np.float32 for v in model.params.values())
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert sorted(grads) == sorted(model.params)
    for k, g in grads.items():
        assert g.dtype == np.float32 and g.shape == model.params[k].shape, k
    scores = model.loss(X)
    assert scores.dtype == np.float32 and scores.shape == (16, 4)
    # float64 input is cast to the model's dtype
    assert model.loss(X.astype(np.float64)).dtype == np.float32


def test_fc_net_params_layout(fc_net):
    model = fc_net.FullyConnectedNet([7, 6, 5], input_dim=9, num_classes=3, normalization="batchnorm")
    expected = {"W1": (9, 7), "b1": (7,), "gamma1": (7,), "beta1": (7,),
                "W2": (7, 6), "b2": (6,), "gamma2": (6,), "beta2": (6,),
                "W3": (6, 5), "b3": (5,), "gamma3": (5,), "beta3": (5,),
                "W4": (5, 3), "b4": (3,)}
    assert {k: v.shape for k, v in model.params.items()} == expected
    assert model.num_layers == 4 and len(model.bn_params) == 3
    assert np.all(model.params["gamma2"] == 1) and np.all(model.params["beta3"] == 0)
    assert not model.use_dropout and model.dropout_param == {}


def test_fc_net_mode_switching(fc_net):
    rng = np.random.RandomState(10)
    X = rng.randn(8, 6)
    y = rng.randint(3, size=8)
    model = fc_net.FullyConnectedNet([5], input_dim=6, num_classes=3, dropout=0.5,
                                     normalization="batchnorm", dtype=np.float64)
    model.loss(X, y)
    assert model.bn_params[0]["mode"] == "train" and model.dropout_param["mode"] == "train"
    running_mean = model.bn_params[0]["running_mean"].copy()
    assert np.any(running_mean != 0)
    s1, s2 = model.loss(X), model.loss(X)
    assert model.bn_params[0]["mode"] == "test" and model.dropout_param["mode"] == "test"
    assert np.array_equal(s1, s2), "test mode must be deterministic (no dropout)"
    assert np.array_equal(model.bn_params[0]["running_mean"], running_mean)


def test_fc_net_layernorm_gradients(fc_net, gc):
    np.random.seed(231)
    X = np.random.randn(3, 7)
    y = np.random.randint(4, size=3)
    model = fc_net.FullyConnectedNet([6, 5], input_dim=7, num_classes=4, reg=0.3,
                                     normalization="layernorm", weight_scale=0.3,
                                     dtype=np.float64, dropout=0.7, seed=3)
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        num = gc.eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                         verbose=False)
        # dropout nets: "Relative errors should be around e-6 or less"
        assert rel_error(num, grads[name]) < 1e-5, name


def test_fc_net_regularization_convention(fc_net):
    rng = np.random.RandomState(11)
    X, y = rng.randn(4, 5), rng.randint(3, size=4)
    model = fc_net.FullyConnectedNet([6], input_dim=5, num_classes=3, normalization="batchnorm",
                                     dtype=np.float64)
    loss0, grads0 = model.loss(X, y)
    model.reg = 2.0
    loss2, grads2 = model.loss(X, y)
    penalty = 0.5 * 2.0 * (np.sum(model.params["W1"]**2) + np.sum(model.params["W2"]**2))
    assert abs(loss2 - loss0 - penalty) < 1e-10
    np.testing.assert_allclose(grads2["W1"] - grads0["W1"], 2.0 * model.params["W1"], atol=1e-12)
    for k in ("b1", "gamma1", "beta1"):  # only weights are regularized
        np.testing.assert_allclose(grads2[k], grads0[k], atol=1e-12)


@pytest.mark.parametrize("scale, std", [("he", np.sqrt(2.0 / 1000)),
                                        ("xavier", np.sqrt(2.0 / (1000 + 500))),
                                        (0.05, 0.05)])
def test_weight_scale_strings(fc_net, scale, std):
    np.random.seed(0)
    model = fc_net.FullyConnectedNet([500], input_dim=1000, num_classes=10, weight_scale=scale)
    assert abs(model.params["W1"].std() / std - 1) < 0.01
    two = fc_net.TwoLayerNet(input_dim=1000, hidden_dim=500, num_classes=10, weight_scale=scale)
    assert abs(two.params["W1"].std() / std - 1) < 0.01


def test_weight_scale_unknown_string(fc_net):
    with pytest.raises(ValueError):
        fc_net.FullyConnectedNet([5], input_dim=4, num_classes=2, weight_scale="glorot-ish")


def test_classifiers_package_exports(solutions):
    classifiers = solutions("classifiers")
    assert hasattr(classifiers, "TwoLayerNet") and hasattr(classifiers, "FullyConnectedNet")


# --------------------------------------------------------------------------------------------
# Solver
# --------------------------------------------------------------------------------------------

def _tiny_data(n_train=100, n_val=40, d=8, c=3, seed=12):
    rng = np.random.RandomState(seed)
    centers = 3 * rng.randn(c, d)
    def draw(n):
        y = rng.randint(c, size=n)
        return (centers[y] + rng.randn(n, d)).astype(np.float32), y
    X_train, y_train = draw(n_train)
    X_val, y_val = draw(n_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def test_solver_rejects_unknown_arguments(solutions, fc_net):
    Solver = solutions("solver").Solver
    model = fc_net.TwoLayerNet(input_dim=8, hidden_dim=5, num_classes=3)
    with pytest.raises(ValueError, match="Unrecognized arguments"):
        Solver(model, _tiny_data(), learning_rate=1e-3, verbose=False)
    for rule in ["nope", "_private", "np"]:
        with pytest.raises(ValueError):
            Solver(model, _tiny_data(), update_rule=rule, verbose=False)


def test_solver_trains_restores_best_and_keeps_histories(solutions, fc_net, tmp_path):
    Solver = solutions("solver").Solver
    data = _tiny_data()
    np.random.seed(13)
    model = fc_net.FullyConnectedNet([10], input_dim=8, num_classes=3, weight_scale=0.1)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-2},
                    lr_decay=0.5, batch_size=25, num_epochs=3, num_train_samples=50,
                    checkpoint_name=str(tmp_path / "ckpt"), verbose=False)
    solver.train()
    # 100 samples / batch 25 = 4 iterations per epoch; accuracy after the first iteration and
    # after each epoch
    assert len(solver.loss_history) == 12
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4
    assert solver.epoch == 3
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert solver.best_val_acc == max(solver.val_acc_history) > 0.8
    # best parameters are in the model at the end (val accuracy uses every val sample)
    assert model.params is solver.best_params
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    # each parameter has its own config, decayed once per epoch
    configs = solver.optim_configs
    assert len({id(c) for c in configs.values()}) == len(model.params)
    assert all(abs(c["learning_rate"] - 1e-2 * 0.5**3) < 1e-15 for c in configs.values())
    assert all(c["t"] == 12 for c in configs.values())
    # plain-.npz checkpoints, one per accuracy check with the epoch in the name
    ckpt = tmp_path / "ckpt_epoch_3.npz"
    assert ckpt.is_file() and (tmp_path / "ckpt_epoch_0.npz").is_file()
    with np.load(ckpt, allow_pickle=False) as f:
        assert str(f["update_rule"]) == "adam" and int(f["epoch"]) == 3
        assert f["loss_history"].shape == (12,)
        assert set(k for k in f.files if k.startswith("param_")) == {"param_W1", "param_b1",
                                                                     "param_W2", "param_b2"}


def test_solver_check_accuracy_batches_and_subsamples(solutions, fc_net):
    Solver = solutions("solver").Solver
    data = _tiny_data(n_train=230)
    model = fc_net.FullyConnectedNet([4], input_dim=8, num_classes=3)
    solver = Solver(model, data, verbose=False)
    scores = model.loss(data["X_train"])
    expected = np.mean(np.argmax(scores, axis=1) == data["y_train"])
    assert solver.check_accuracy(data["X_train"], data["y_train"], batch_size=7) == expected
    acc = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=50)
    assert 0 <= acc <= 1 and (acc * 50) == int(round(acc * 50))


# --------------------------------------------------------------------------------------------
# Gradient-check helpers and vis_utils
# --------------------------------------------------------------------------------------------

def test_numerical_gradients(gc, capsys):
    x = np.linspace(-1, 2, 6).reshape(2, 3)
    x0 = x.copy()
    grad = gc.eval_numerical_gradient(lambda v: np.sum(v**3), x, verbose=False)
    np.testing.assert_allclose(grad, 3 * x0**2, rtol=1e-8)
    assert np.array_equal(x, x0), "x must be restored"
    df = np.arange(6.0).reshape(2, 3)
    grad = gc.eval_numerical_gradient_array(lambda v: np.sin(v), x, df)
    np.testing.assert_allclose(grad, np.cos(x0) * df, rtol=1e-8, atol=1e-12)
    gc.eval_numerical_gradient(lambda v: np.sum(v), x, verbose=True)
    assert "(1, 2)" in capsys.readouterr().out
    errors = gc.grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x0, num_checks=5)
    assert len(errors) == 5 and max(errors) < 1e-8
    assert gc.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert abs(gc.rel_error(np.array([1.0]), np.array([3.0])) - 0.5) < 1e-15


def test_numerical_gradient_blobs(gc):
    class Blob:
        def __init__(self, vals, diffs=None):
            self.vals = vals
            self.diffs = np.zeros_like(vals) if diffs is None else diffs

    a, b = Blob(np.array([1.0, 2.0])), Blob(np.array([3.0, -1.0]))
    out = Blob(np.zeros(2), np.array([1.0, 0.5]))

    def f(a, b, out):
        out.vals = a.vals * b.vals

    da, db = gc.eval_numerical_gradient_blobs(f, (a, b), out)
    np.testing.assert_allclose(da, b.vals * out.diffs)
    np.testing.assert_allclose(db, a.vals * out.diffs)


def test_visualize_grid(solutions):
    vis = solutions("vis_utils")
    rng = np.random.RandomState(14)
    Xs = rng.randn(5, 4, 3, 2)
    grid = vis.visualize_grid(Xs, ubound=255.0, padding=1)
    # 3x3 grid of 4x3 images with 1-pixel padding
    assert grid.shape == (3 * 4 + 2, 3 * 3 + 2, 2)
    assert grid.min() == 0.0 and abs(grid.max() - 255.0) < 1e-9
    first = grid[0:4, 0:3]
    np.testing.assert_allclose(first, 255 * (Xs[0] - Xs[0].min()) / (Xs[0].max() - Xs[0].min()))
    assert np.all(grid[4, :] == 0) and np.all(grid[-4:, 3:] == 0)  # padding and empty cells
    flat = vis.visualize_grid(np.ones((1, 2, 2, 1)))  # constant image: no division by zero
    assert np.all(np.isfinite(flat))
