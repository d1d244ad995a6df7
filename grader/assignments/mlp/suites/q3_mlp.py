"""Q3: the three-layer MLP of three_layer_net.py: its layers, scores, loss, gradient by backpropagation
(integer and one-hot labels) and a training check with the Trainer."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.calls import load_params, net
from grader.assignments.mlp.cases import MLP_KEYS, MLP_SIZES
from grader.suites._training import run_training_check

pytestmark = pytest.mark.files("three_layer_net.py", "layers.py", "multi_layer_net.py")

MODEL = "three_layer_net.ThreeLayerNet"
LAYERS = ["Affine1", "LeakyRelu1", "Affine2", "LeakyRelu2", "Affine3"]


def _net(sb, ref, seed):
    c = ref("Q3/mlp")
    model = net(sb, MODEL, seed, **MLP_SIZES)
    load_params(sb, model, {k: c[k] for k in MLP_KEYS})
    return c, model


def test_mlp_layers(sb, ref, seed):
    model = net(sb, MODEL, seed, **MLP_SIZES)
    params = checks.mapping(sb.getattr(model, "params"), "net.params", MLP_KEYS, exact=True)
    sizes = [MLP_SIZES["input_size"], MLP_SIZES["hidden_size1"], MLP_SIZES["hidden_size2"], MLP_SIZES["output_size"]]
    for i in range(1, 4):
        checks.array(params[f"W{i}"], f"net.params['W{i}']", shape=(sizes[i - 1], sizes[i]))
        if not np.all(checks.array(params[f"b{i}"], f"net.params['b{i}']", shape=(sizes[i],)) == 0):
            checks.fail(f"net.params['b{i}'] should start at zero")
    names = sb.call("builtins.list", sb.call("builtins.getattr", model, "layers", keep=True))
    if names != LAYERS:
        checks.fail(f"net.layers should be an OrderedDict of {', '.join(LAYERS)} in this order; it has "
                    f"{checks.describe(names)}")


def test_mlp_scores_and_loss(sb, ref, seed):
    c, model = _net(sb, ref, seed)
    scores = sb.call_method(model, "predict", c["X"])
    checks.close(scores, c["scores"], "net.predict(X)", 1e-9)
    checks.close_scalar(sb.call_method(model, "loss", c["X"], c["t"]), c["loss"], "net.loss(X, t)", 1e-8)
    checks.close_scalar(sb.call_method(model, "accuracy", c["X"], c["t"]), c["accuracy"], "net.accuracy(X, t)", 1e-12)


def test_mlp_gradient(sb, ref, seed):
    c, model = _net(sb, ref, seed)
    grads = checks.mapping(sb.call_method(model, "gradient", c["X"], c["t"]), "net.gradient(X, t)", MLP_KEYS, exact=True)
    for k in MLP_KEYS:
        checks.close(grads[k], c[f"grad_{k}"], f"net.gradient(X, t)[{k!r}]", 1e-7)


def test_mlp_one_hot_labels(sb, ref, seed):
    c, model = _net(sb, ref, seed)
    checks.close_scalar(sb.call_method(model, "loss", c["X"], c["t_hot"]), c["loss"], "net.loss(X, one-hot t)", 1e-8)
    grads = checks.mapping(sb.call_method(model, "gradient", c["X"], c["t_hot"]), "net.gradient(X, one-hot t)",
                           MLP_KEYS, exact=True)
    for k in MLP_KEYS:
        checks.close(grads[k], c[f"grad_{k}"], f"net.gradient(X, one-hot t)[{k!r}]", 1e-7)
    checks.close_scalar(sb.call_method(model, "accuracy", c["X"], c["t_hot"]), c["accuracy"],
                        "net.accuracy(X, one-hot t)", 1e-12)


def test_mlp_training(sb, ref, seed, limits):
    run_training_check(sb, ref, "mlp_adam", seed, limits)
