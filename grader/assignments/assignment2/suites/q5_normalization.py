"""Q5: batch normalization and layer normalization (layers.py), and FullyConnectedNet using them."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment2.cases import FC_NORM_DIMS
from grader.suites._common import (call, check_model_loss, forward, loss_and_grads, new_model, scores,
                                    set_params, tolerance)

pytestmark = pytest.mark.files("layers.py")

TOL = tolerance(__file__, "norm_layers")
LOSS_TOL = tolerance(__file__, "model_loss")
GRAD_TOL = tolerance(__file__, "norm_model_grads")
DX_TOL = tolerance(__file__, "norm_dx")
SCORES_TOL = tolerance(__file__, "norm_model_scores")
MODEL = "classifiers.fc_net.FullyConnectedNet"
KEYS = ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3")
WEIGHTS = ("W1", "W2", "W3")
FC_FILES = ("classifiers/fc_net.py", "layers.py", "layer_utils.py")


def test_batchnorm_forward_train(sb, ref, hint):
    c = ref("Q5/batchnorm_forward")
    bn_param = sb.put({"mode": "train", "momentum": c["momentum"], "eps": c["eps"],
                       "running_mean": c["running_mean"], "running_var": c["running_var"]})
    out, _ = forward(sb, "layers", "batchnorm_forward", c["x"], c["gamma"], c["beta"], bn_param)
    checks.close(out, c["out"], "out", TOL,
                 hint=hint.batchnorm_forward(out, c["x"], c["gamma"], c["beta"], c["eps"]))
    after = checks.mapping(sb.fetch(bn_param), "bn_param", ("running_mean", "running_var"))
    m, mean, var = c["momentum"], c["x"].mean(axis=0), c["x"].var(axis=0)
    checks.close(after["running_mean"], c["running_mean_after"], "bn_param['running_mean']", TOL,
                 hint=hint.batchnorm_running(after["running_mean"], c["running_mean"], mean, m))
    checks.close(after["running_var"], c["running_var_after"], "bn_param['running_var']", TOL,
                 hint=hint.batchnorm_running(after["running_var"], c["running_var"], var, m))


def test_batchnorm_forward_test(sb, ref, hint):
    c = ref("Q5/batchnorm_forward")
    bn_param = {"mode": "test", "eps": c["eps"], "running_mean": c["running_mean"], "running_var": c["running_var"]}
    out, _ = forward(sb, "layers", "batchnorm_forward", c["x_test"], c["gamma"], c["beta"], bn_param)
    checks.close(out, c["out_test"], "out (test mode)", TOL,
                 hint=hint.batchnorm_test(out, c["x_test"], c["gamma"], c["beta"], c["eps"]))


def _bn_backward(sb, ref, case, fn):
    c = ref(f"Q5/{case}")
    _, cache = forward(sb, "layers", "batchnorm_forward", c["x"], c["gamma"], c["beta"],
                       {"mode": "train", "eps": c["eps"]})
    dx, dgamma, dbeta = call(sb, "layers", fn, c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", DX_TOL)
    checks.close(dgamma, c["dgamma"], "dgamma", TOL)
    checks.close(dbeta, c["dbeta"], "dbeta", TOL)


def test_batchnorm_backward(sb, ref):
    _bn_backward(sb, ref, "batchnorm_backward", "batchnorm_backward")


def test_batchnorm_backward_alt(sb, ref):
    _bn_backward(sb, ref, "batchnorm_backward_alt", "batchnorm_backward_alt")


def test_layernorm_forward(sb, ref, hint):
    c = ref("Q5/layernorm")
    out, _ = forward(sb, "layers", "layernorm_forward", c["x"], c["gamma"], c["beta"], {"eps": c["eps"]})
    checks.close(out, c["out"], "out", TOL,
                 hint=hint.batchnorm_forward(out, c["x"], c["gamma"], c["beta"], c["eps"], axis=1))


def test_layernorm_backward(sb, ref):
    c = ref("Q5/layernorm")
    _, cache = forward(sb, "layers", "layernorm_forward", c["x"], c["gamma"], c["beta"], {"eps": c["eps"]})
    dx, dgamma, dbeta = call(sb, "layers", "layernorm_backward", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", DX_TOL)
    checks.close(dgamma, c["dgamma"], "dgamma", TOL)
    checks.close(dbeta, c["dbeta"], "dbeta", TOL)


def _fc_model(sb, ref, seed, normalization):
    c = ref("Q5/fc_" + normalization)
    model = new_model(sb, MODEL, seed, normalization=normalization, dtype=np.float64, **FC_NORM_DIMS)
    set_params(sb, model, {k: c[k] for k in KEYS})
    return c, model


@pytest.mark.files(*FC_FILES)
def test_fc_batchnorm_loss(sb, ref, seed, hint):
    c, model = _fc_model(sb, ref, seed, "batchnorm")
    check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=WEIGHTS, loss_tol=LOSS_TOL,
                     grad_tol=GRAD_TOL)
    check_model_loss(sb, model, c, KEYS, c["reg"], "reg", hint, weights=WEIGHTS, loss_tol=LOSS_TOL,
                     grad_tol=GRAD_TOL)


@pytest.mark.files(*FC_FILES)
def test_fc_batchnorm_running_stats(sb, ref, seed):
    """Test-mode scores before and after two training passes: the running statistics are used and kept."""
    c, model = _fc_model(sb, ref, seed, "batchnorm")
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores (test mode, before training)",
                 SCORES_TOL)
    for reg in (0.0, c["reg"]):
        sb.setattr(model, "reg", reg)
        loss_and_grads(sb, model, c["X"], c["y"])
    checks.close(scores(sb, model, c["X"], c["scores_after"].shape), c["scores_after"],
                 "scores (test mode, after two training passes)", SCORES_TOL)


@pytest.mark.files(*FC_FILES)
def test_fc_layernorm_loss(sb, ref, seed, hint):
    c, model = _fc_model(sb, ref, seed, "layernorm")
    check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=WEIGHTS, loss_tol=LOSS_TOL,
                     grad_tol=GRAD_TOL)
    check_model_loss(sb, model, c, KEYS, c["reg"], "reg", hint, weights=WEIGHTS, loss_tol=LOSS_TOL,
                     grad_tol=GRAD_TOL)
