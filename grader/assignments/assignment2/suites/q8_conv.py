"""Q8: convolutional networks (layers.py: naive convolution and max pooling, spatial batch and group
normalization; classifiers/cnn.py: ThreeLayerConvNet, and training it with the Solver)."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment2.cases import CNN_DIMS, POOL, POOL2
from grader.suites._common import (call, check_model_loss, forward, init_stats, new_model, scores, set_params,
                                    tolerance)
from grader.suites._training import run_training_check

pytestmark = pytest.mark.files("layers.py")

TOL = tolerance(__file__, "conv_layers")
NORM_DX_TOL = tolerance(__file__, "norm_dx")
EXACT_TOL = tolerance(__file__, "exact")
SCORES_TOL = tolerance(__file__, "model_scores")
LOSS_TOL = tolerance(__file__, "model_loss")
GRAD_TOL = tolerance(__file__, "model_grads")
MODEL = "classifiers.cnn.ThreeLayerConvNet"
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
CNN_FILES = ("classifiers/cnn.py", "layers.py", "layer_utils.py")


def test_conv_forward(sb, ref, hint):
    c = ref("Q8/conv_forward")
    out, _ = forward(sb, "layers", "conv_forward_naive", c["x"], c["w"], c["b"], {"stride": 2, "pad": 1})
    checks.close(out, c["out"], "out (stride 2, pad 1)", TOL,
                 hint=hint.conv_flipped(out, c["x"], c["w"], c["b"], 2, 1))
    out2, _ = forward(sb, "layers", "conv_forward_naive", c["x2"], c["w2"], c["b2"], {"stride": 1, "pad": 0})
    checks.close(out2, c["out2"], "out (stride 1, pad 0, filters of height 3 and width 2)", TOL)


def test_conv_backward(sb, ref):
    c = ref("Q8/conv_backward")
    _, cache = forward(sb, "layers", "conv_forward_naive", c["x"], c["w"], c["b"], {"stride": 1, "pad": 1})
    dx, dw, db = call(sb, "layers", "conv_backward_naive", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", TOL)
    checks.close(dw, c["dw"], "dw", TOL)
    checks.close(db, c["db"], "db", TOL)


def test_max_pool_forward(sb, ref):
    c = ref("Q8/max_pool")
    out, _ = forward(sb, "layers", "max_pool_forward_naive", c["x"], dict(POOL))
    checks.close(out, c["out"], "out (2x2 pool, stride 2)", EXACT_TOL)
    out2, _ = forward(sb, "layers", "max_pool_forward_naive", c["x2"], dict(POOL2))
    checks.close(out2, c["out2"], "out (3x2 pool, stride 2)", EXACT_TOL)


def test_max_pool_backward(sb, ref, hint):
    c = ref("Q8/max_pool")
    _, cache = forward(sb, "layers", "max_pool_forward_naive", c["x"], dict(POOL))
    dx = call(sb, "layers", "max_pool_backward_naive", c["dout"], cache)
    checks.close(dx, c["dx"], "dx (2x2 pool, stride 2)", EXACT_TOL, hint=hint.maxpool_backward(dx, c["x"], c["dout"], POOL))
    _, cache = forward(sb, "layers", "max_pool_forward_naive", c["x2"], dict(POOL2))
    dx2 = call(sb, "layers", "max_pool_backward_naive", c["dout2"], cache)
    checks.close(dx2, c["dx2"], "dx (3x2 pool, stride 2)", EXACT_TOL,
                 hint=hint.maxpool_overlap(dx2, c["x2"], c["dout2"], POOL2))


def test_spatial_batchnorm_forward(sb, ref, hint):
    c = ref("Q8/spatial_batchnorm")
    bn_param = sb.put({"mode": "train", "momentum": c["momentum"], "eps": c["eps"],
                       "running_mean": c["running_mean"], "running_var": c["running_var"]})
    out, _ = forward(sb, "layers", "spatial_batchnorm_forward", c["x"], c["gamma"], c["beta"], bn_param)
    checks.close(out, c["out"], "out (train mode)", TOL,
                 hint=hint.spatial_layout(out, c["x"], c["gamma"], c["beta"], c["eps"]))
    after = checks.mapping(sb.fetch(bn_param), "bn_param", ("running_mean", "running_var"))
    checks.close(after["running_mean"], c["running_mean_after"], "bn_param['running_mean']", TOL)
    checks.close(after["running_var"], c["running_var_after"], "bn_param['running_var']", TOL)
    test_param = {"mode": "test", "eps": c["eps"], "running_mean": c["running_mean"], "running_var": c["running_var"]}
    out, _ = forward(sb, "layers", "spatial_batchnorm_forward", c["x_test"], c["gamma"], c["beta"], test_param)
    checks.close(out, c["out_test"], "out (test mode)", TOL)


def test_spatial_batchnorm_backward(sb, ref):
    c = ref("Q8/spatial_batchnorm")
    bn_param = {"mode": "train", "momentum": c["momentum"], "eps": c["eps"],
                "running_mean": c["running_mean"], "running_var": c["running_var"]}
    _, cache = forward(sb, "layers", "spatial_batchnorm_forward", c["x"], c["gamma"], c["beta"], bn_param)
    dx, dgamma, dbeta = call(sb, "layers", "spatial_batchnorm_backward", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", NORM_DX_TOL)
    checks.close(dgamma, c["dgamma"], "dgamma", TOL)
    checks.close(dbeta, c["dbeta"], "dbeta", TOL)


def test_spatial_groupnorm_forward(sb, ref):
    c = ref("Q8/spatial_groupnorm")
    out, _ = forward(sb, "layers", "spatial_groupnorm_forward", c["x"], c["gamma"], c["beta"], c["G"], {"eps": c["eps"]})
    checks.close(out, c["out"], "out", TOL)


def test_spatial_groupnorm_backward(sb, ref):
    c = ref("Q8/spatial_groupnorm")
    _, cache = forward(sb, "layers", "spatial_groupnorm_forward", c["x"], c["gamma"], c["beta"], c["G"], {"eps": c["eps"]})
    dx, dgamma, dbeta = call(sb, "layers", "spatial_groupnorm_backward", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", NORM_DX_TOL)
    checks.close(dgamma, c["dgamma"], "dgamma", TOL)
    checks.close(dbeta, c["dbeta"], "dbeta", TOL)


@pytest.mark.files(*CNN_FILES)
def test_three_layer_convnet_init(sb, ref, seed):
    c = ref("Q8/cnn_init")
    kwargs = dict(c.inputs, input_dim=tuple(int(d) for d in c["input_dim"]))
    model = new_model(sb, MODEL, seed, dtype=np.float64, **kwargs)
    init_stats(sb.getattr(model, "params"), c, c["weight_scale"], dtype=np.float64, rel_tol=0.15)


def _cnn(sb, ref, seed):
    c = ref("Q8/three_layer_convnet")
    model = new_model(sb, MODEL, seed, dtype=np.float64, weight_scale=1e-2, **CNN_DIMS)
    set_params(sb, model, {k: c[k] for k in KEYS})
    return c, model


@pytest.mark.files(*CNN_FILES)
def test_three_layer_convnet_scores(sb, ref, seed):
    c, model = _cnn(sb, ref, seed)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores", SCORES_TOL)


@pytest.mark.files(*CNN_FILES)
def test_three_layer_convnet_loss(sb, ref, seed, hint):
    c, model = _cnn(sb, ref, seed)
    check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=("W1", "W2", "W3"), loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)
    check_model_loss(sb, model, c, KEYS, c["reg"], "reg", hint, weights=("W1", "W2", "W3"), loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)


@pytest.mark.files(*CNN_FILES)
def test_three_layer_convnet_training(sb, ref, seed, limits):
    """A small ThreeLayerConvNet trained by the Solver on the salted Fashion-MNIST task (images (N, 1, 14, 14));
    accuracy of the trained parameters measured here with the reference forward pass (see _training)."""
    run_training_check(sb, ref, "three_layer_convnet", seed, limits)
