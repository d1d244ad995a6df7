"""Q5: BatchNormalization (layers.py): train and test behaviour, running statistics, backward; the batch
norm net of multi_layer_net_extend.py: loss and gradient, and a training check."""
import pytest

from grader import checks
from grader.assignments.mlp.calls import load_params, net, new
from grader.assignments.mlp.cases import EXTEND_KEYS, NET_SIZES
from grader.suites._training import run_training_check

TOL = 1e-8


def _layer(sb, c):
    return new(sb, "layers.BatchNormalization", c["gamma"], c["beta"], momentum=c["momentum"])


@pytest.mark.files("layers.py")
def test_batchnorm_forward_train(sb, ref):
    c = ref("Q5/batchnorm")
    out = sb.call_method(_layer(sb, c), "forward", c["x1"], True)
    checks.close(out, c["out_train"], "BatchNormalization.forward(x, train_flg=True)", TOL)


@pytest.mark.files("layers.py")
def test_batchnorm_running_stats(sb, ref):
    c = ref("Q5/batchnorm")
    layer = _layer(sb, c)
    sb.call_method(layer, "forward", c["x1"], True)
    checks.close(sb.getattr(layer, "running_mean"), c["running_mean_1"], "running_mean after one training batch", TOL)
    checks.close(sb.getattr(layer, "running_var"), c["running_var_1"], "running_var after one training batch", TOL,
                 hint=None)
    sb.call_method(layer, "forward", c["x2"], True)
    sb.call_method(layer, "forward", c["x3"], True)
    checks.close(sb.getattr(layer, "running_mean"), c["running_mean_3"], "running_mean after three batches", TOL)
    checks.close(sb.getattr(layer, "running_var"), c["running_var_3"], "running_var after three batches", TOL)


@pytest.mark.files("layers.py")
def test_batchnorm_forward_test(sb, ref):
    c = ref("Q5/batchnorm")
    layer = _layer(sb, c)
    for x in (c["x1"], c["x2"], c["x3"]):
        sb.call_method(layer, "forward", x, True)
    out = sb.call_method(layer, "forward", c["x_test"], False)
    checks.close(out, c["out_test"], "BatchNormalization.forward(x, train_flg=False) (the running statistics)", TOL)


@pytest.mark.files("layers.py")
def test_batchnorm_backward(sb, ref):
    c = ref("Q5/batchnorm")
    layer = _layer(sb, c)
    sb.call_method(layer, "forward", c["x1"], True)
    dx = sb.call_method(layer, "backward", c["dout"])
    checks.close(dx, c["dx_num"], "BatchNormalization.backward(dout) against a numerical gradient", 1e-5)
    checks.close(dx, c["dx"], "BatchNormalization.backward(dout)", 1e-7)
    checks.close(sb.getattr(layer, "dgamma"), c["dgamma"], "BatchNormalization.dgamma", 1e-7)
    checks.close(sb.getattr(layer, "dbeta"), c["dbeta"], "BatchNormalization.dbeta", 1e-7)


@pytest.mark.files("multi_layer_net_extend.py", "multi_layer_net.py", "layers.py")
def test_extend_batchnorm_gradient(sb, ref, seed):
    c = ref("Q5/extend_batchnorm")
    model = net(sb, "multi_layer_net_extend.MultiLayerNetExtend", seed, **NET_SIZES, use_batchnorm=True,
                weight_decay_lambda=c["weight_decay_lambda"])
    load_params(sb, model, {k: c[k] for k in EXTEND_KEYS})
    checks.close_scalar(sb.call_method(model, "loss", c["X"], c["t"], True), c["loss_train"],
                        "MultiLayerNetExtend(use_batchnorm=True).loss(X, t, train_flg=True)", 1e-8)
    grads = checks.mapping(sb.call_method(model, "gradient", c["X"], c["t"]), "net.gradient(X, t)", EXTEND_KEYS,
                           exact=True)
    for k in EXTEND_KEYS:
        checks.close(grads[k], c[f"grad_{k}"], f"MultiLayerNetExtend(use_batchnorm=True).gradient[{k!r}]", 1e-6)


@pytest.mark.files("multi_layer_net_extend.py", "multi_layer_net.py", "layers.py", "optimizer.py")
def test_batchnorm_training(sb, ref, seed, limits):
    run_training_check(sb, ref, "batchnorm_net", seed, limits)
