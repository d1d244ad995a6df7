"""Each update rule of the mlp solutions against its formula on hand-computed steps: p = [1, -2],
g = [0.5, -0.25] (the same gradient at every step), lr = 0.1. The updates are in place and the state
lives in the optimizer."""
import numpy as np
import pytest

P0 = np.array([1.0, -2.0])
G = np.array([0.5, -0.25])


def _steps(optimizer, n):
    params = {"p": P0.copy()}
    same = params["p"]
    out = []
    for _ in range(n):
        optimizer.update(params, {"p": G.copy()})
        assert params["p"] is same, "update must change params in place"
        out.append(params["p"].copy())
    return out


def test_sgd(mlp):
    opt = mlp("optimizer")
    (p1,) = _steps(opt.SGD(lr=0.1), 1)
    np.testing.assert_allclose(p1, [0.95, -1.975], rtol=0, atol=1e-12)        # p - 0.1 g


def test_momentum(mlp):
    opt = mlp("optimizer").Momentum(lr=0.1, momentum=0.9)
    p1, p2 = _steps(opt, 2)
    # v1 = -0.1 g = [-0.05, 0.025]; v2 = 0.9 v1 - 0.1 g = [-0.095, 0.0475]
    np.testing.assert_allclose(p1, [0.95, -1.975], atol=1e-12)
    np.testing.assert_allclose(p2, [0.855, -1.9275], atol=1e-12)
    np.testing.assert_allclose(opt.v["p"], [-0.095, 0.0475], atol=1e-12)


def test_nesterov(mlp):
    opt = mlp("optimizer").Nesterov(lr=0.1, momentum=0.9)
    (p1,) = _steps(opt, 1)
    # v1 = -0.1 g = [-0.05, 0.025]; p += 0.81 v1 - 1.9 * 0.1 g = [-0.0405 - 0.095, 0.02025 + 0.0475]
    np.testing.assert_allclose(p1, [1 - 0.1355, -2 + 0.06775], atol=1e-12)
    np.testing.assert_allclose(opt.v["p"], [-0.05, 0.025], atol=1e-12)


def test_adagrad(mlp):
    opt = mlp("optimizer").AdaGrad(lr=0.1)
    p1, p2 = _steps(opt, 2)
    # h1 = g^2: the step is lr * g / |g| = 0.1; h2 = 2 g^2: the step is 0.1 / sqrt(2)
    np.testing.assert_allclose(p1, [0.9, -1.9], atol=1e-6)
    np.testing.assert_allclose(p2, [0.9 - 0.1 / np.sqrt(2), -1.9 + 0.1 / np.sqrt(2)], atol=1e-6)
    np.testing.assert_allclose(opt.h["p"], 2 * G ** 2, atol=1e-15)


def test_rmsprop(mlp):
    opt = mlp("optimizer").RMSprop(lr=0.1, decay_rate=0.9)
    (p1,) = _steps(opt, 1)
    # h1 = 0.1 g^2: the step is 0.1 / sqrt(0.1) = sqrt(0.1) = 0.316228 in the direction of -g
    np.testing.assert_allclose(p1, [1 - 0.316228, -2 + 0.316228], atol=1e-6)
    np.testing.assert_allclose(opt.h["p"], 0.1 * G ** 2, atol=1e-15)


def test_adam_bias_correction(mlp):
    """With a constant gradient the bias-corrected Adam step is lr at every step (up to the 1e-7)."""
    opt = mlp("optimizer").Adam(lr=0.1, beta1=0.9, beta2=0.999)
    p1, p2, p3 = _steps(opt, 3)
    np.testing.assert_allclose(p1, [0.9, -1.9], atol=1e-5)
    np.testing.assert_allclose(p2, [0.8, -1.8], atol=1e-5)
    np.testing.assert_allclose(p3, [0.7, -1.7], atol=1e-5)
    assert opt.iter == 3
    np.testing.assert_allclose(opt.m["p"], (1 - 0.9 ** 3) * G, atol=1e-12)
    np.testing.assert_allclose(opt.v["p"], (1 - 0.999 ** 3) * G ** 2, atol=1e-12)


def test_adabelief_tracks_the_deviation_from_the_mean(mlp):
    opt = mlp("optimizer").AdaBelief(lr=0.1, beta1=0.9, beta2=0.999)
    p1, p2 = _steps(opt, 2)
    # step 1: m = 0.1 g, s = 0.001 (0.9 g)^2, lr_t = 0.1 sqrt(0.001) / 0.1: the step is 0.1 / 0.9
    np.testing.assert_allclose(p1, [1 - 1 / 9, -2 + 1 / 9], atol=1e-5)
    # step 2: m = 0.19 g, s = 0.999 * 0.00081 g^2 + 0.001 (0.81 g)^2 = 0.00146529 g^2,
    # lr_t = 0.1 sqrt(0.001999) / 0.19: the step is lr_t * 0.19 / sqrt(0.00146529) = 0.116801
    step2 = 0.1 * np.sqrt(0.001999) / np.sqrt(0.00146529)
    np.testing.assert_allclose(step2, 0.116801, atol=1e-6)
    np.testing.assert_allclose(p2, [1 - 1 / 9 - step2, -2 + 1 / 9 + step2], atol=1e-5)
    np.testing.assert_allclose(opt.s["p"], 0.00146529 * G ** 2, rtol=1e-9)
    assert opt.iter == 2


def test_every_rule_keeps_one_state_per_key_and_the_trainer_finds_it_by_name(mlp):
    opt = mlp("optimizer")
    assert set(opt.OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adabelief"}
    rng = np.random.RandomState(0)
    for cls in opt.OPTIMIZERS.values():
        params = {"W": rng.randn(3, 2), "b": rng.randn(2)}
        before = {k: v.copy() for k, v in params.items()}
        o = cls(lr=0.01)
        o.update(params, {"W": rng.randn(3, 2), "b": rng.randn(2)})
        assert all(params[k].shape == before[k].shape and not np.allclose(params[k], before[k]) for k in params)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdaBelief"])
def test_each_rule_documents_its_formula(mlp, name):
    doc = getattr(mlp("optimizer"), name).__doc__
    assert "p -=" in doc or "p +=" in doc
