"""Q4: MultiLayerNet (multi_layer_net.py): the initialization scales, each activation, and weight decay in
the loss and in the gradient."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.calls import load_params, net
from grader.assignments.mlp.cases import ACTIVATIONS, INIT_SIZES, NET_KEYS, NET_SIZES

pytestmark = pytest.mark.files("multi_layer_net.py", "layers.py")

MODEL = "multi_layer_net.MultiLayerNet"


def _scale(init, fan_in):
    if init in ("he", "relu"):
        return np.sqrt(2.0 / fan_in)
    if init in ("xavier", "sigmoid"):
        return np.sqrt(1.0 / fan_in)
    return float(init)


def _one_init(sb, seed, init):
    model = net(sb, MODEL, seed, **INIT_SIZES, weight_init_std=init)
    sizes = [INIT_SIZES["input_size"]] + INIT_SIZES["hidden_size_list"] + [INIT_SIZES["output_size"]]
    keys = [f"{p}{i}" for i in range(1, len(sizes)) for p in ("W", "b")]
    params = checks.mapping(sb.getattr(model, "params"), f"MultiLayerNet(weight_init_std={init!r}).params", keys,
                            exact=True)
    for i in range(1, len(sizes)):
        W = checks.array(params[f"W{i}"], f"params['W{i}']", shape=(sizes[i - 1], sizes[i]))
        expected = _scale(init, sizes[i - 1])
        tol = max(0.05, 5.0 / np.sqrt(2.0 * W.size))
        if not abs(W.std() / expected - 1) <= tol:
            checks.fail(f"weight_init_std={init!r}: the standard deviation of W{i} (fan-in {sizes[i - 1]}) is "
                        f"{W.std() / expected:.3g} times what it should be",
                        hint="'he'/'relu' is sqrt(2 / fan_in), 'xavier'/'sigmoid' sqrt(1 / fan_in), with fan_in "
                             "the number of inputs of the layer" if isinstance(init, str) else None)
        if not np.all(checks.array(params[f"b{i}"], f"params['b{i}']", shape=(sizes[i],)) == 0):
            checks.fail(f"params['b{i}'] should start at zero")


def test_init_scales(sb, seed):
    for init in ("he", "relu", "xavier", "sigmoid", 0.03):
        _one_init(sb, seed, init)


def _model(sb, ref, seed, activation, lam):
    c = ref("Q4/multi_layer_net")
    model = net(sb, MODEL, seed, **NET_SIZES, activation=activation, weight_decay_lambda=lam)
    load_params(sb, model, {k: c[k] for k in NET_KEYS})
    return c, model


def test_activations(sb, ref, seed):
    for act in ACTIVATIONS:
        c, model = _model(sb, ref, seed, act, 0.0)
        checks.close(sb.call_method(model, "predict", c["X"]), c[f"scores_{act}_0"],
                     f"MultiLayerNet(activation={act!r}).predict(X)", 1e-9)
        grads = checks.mapping(sb.call_method(model, "gradient", c["X"], c["t"]), "net.gradient(X, t)", NET_KEYS,
                               exact=True)
        for k in NET_KEYS:
            checks.close(grads[k], c[f"grad_{act}_0_{k}"], f"MultiLayerNet(activation={act!r}).gradient[{k!r}]", 1e-7)


def test_weight_decay_loss(sb, ref, seed, hint):
    c = ref("Q4/multi_layer_net")
    for act in ACTIVATIONS:
        _, model = _model(sb, ref, seed, act, c["weight_decay_lambda"])
        loss = sb.call_method(model, "loss", c["X"], c["t"])
        params = {k: c[k] for k in NET_KEYS}
        h = hint.weight_decay_loss(loss, c[f"loss_{act}_0"], c["weight_decay_lambda"], params)
        checks.close_scalar(loss, c[f"loss_{act}_wd"], "net.loss(X, t) with weight_decay_lambda", 1e-8, hint=h)


def test_weight_decay_gradient(sb, ref, seed, hint):
    c = ref("Q4/multi_layer_net")
    for act in ACTIVATIONS:
        _, model = _model(sb, ref, seed, act, c["weight_decay_lambda"])
        grads = checks.mapping(sb.call_method(model, "gradient", c["X"], c["t"]), "net.gradient(X, t)", NET_KEYS,
                               exact=True)
        for k in NET_KEYS:
            h = hint.weight_decay_gradient(grads[k], c[f"grad_{act}_0_{k}"], c["weight_decay_lambda"], c[k]) \
                if k.startswith("W") else None
            checks.close(grads[k], c[f"grad_{act}_wd_{k}"], f"net.gradient(X, t)[{k!r}] with weight decay", 1e-7,
                         hint=h)
