"""Q1: fully-connected layers (layers.py: affine, ReLU, leaky ReLU, softmax and SVM losses;
layer_utils.py: the affine-ReLU sandwich)."""
import pytest

from grader import checks
from grader.suites._common import call, forward, tolerance

pytestmark = pytest.mark.files("layers.py")

TOL = tolerance(__file__, "fc_layers")
LOSS_VALUE_TOL = tolerance(__file__, "loss_value")
LOSS_DX_TOL = tolerance(__file__, "loss_dx")


def test_affine_forward(sb, ref):
    c = ref("Q1/affine_forward")
    out, _ = forward(sb, "layers", "affine_forward", c["x"], c["w"], c["b"])
    checks.close(out, c["out"], "out (input of shape (N, d1, d2, d3))", TOL)
    out2, _ = forward(sb, "layers", "affine_forward", c["x2"], c["w2"], c["b2"])
    checks.close(out2, c["out2"], "out (input of shape (N, D))", TOL)


def test_affine_backward(sb, ref, hint):
    c = ref("Q1/affine_backward")
    _, cache = forward(sb, "layers", "affine_forward", c["x"], c["w"], c["b"])
    dx, dw, db = call(sb, "layers", "affine_backward", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", TOL, hint=hint.affine_backward(dx, c["dout"], c["w"], c["x"]))
    checks.close(dw, c["dw"], "dw", TOL)
    checks.close(db, c["db"], "db", TOL)


def test_relu_forward(sb, ref):
    c = ref("Q1/relu")
    out, _ = forward(sb, "layers", "relu_forward", c["x"])
    checks.close(out, c["out"], "out", TOL)


def test_relu_backward(sb, ref, hint):
    c = ref("Q1/relu")
    _, cache = forward(sb, "layers", "relu_forward", c["x"])
    dx = call(sb, "layers", "relu_backward", c["dout"], cache)
    checks.close(dx, c["dx"], "dx", TOL, hint=hint.relu_backward(dx, c["x"], c["dout"]))


def test_leaky_relu(sb, ref):
    c = ref("Q1/leaky_relu")
    out, cache = forward(sb, "layers", "leaky_relu_forward", c["x"], c["alpha"])
    checks.close(out, c["out"], "out", TOL)
    dx = call(sb, "layers", "leaky_relu_backward", c["dout"], cache)
    checks.close(dx, c["dx"], "dx", TOL)


@pytest.mark.files("layers.py", "layer_utils.py")
def test_affine_relu(sb, ref):
    c = ref("Q1/affine_relu")
    out, cache = forward(sb, "layer_utils", "affine_relu_forward", c["x"], c["w"], c["b"])
    checks.close(out, c["out"], "out", TOL)
    dx, dw, db = call(sb, "layer_utils", "affine_relu_backward", c["dout"], cache, n=3)
    checks.close(dx, c["dx"], "dx", TOL)
    checks.close(dw, c["dw"], "dw", TOL)
    checks.close(db, c["db"], "db", TOL)


def test_softmax_loss(sb, ref, hint):
    c = ref("Q1/softmax_loss")
    loss, dx = call(sb, "layers", "softmax_loss", c["x"], c["y"], n=2, inputs="fail")
    checks.close_scalar(loss, c["loss"], "loss", LOSS_VALUE_TOL)
    checks.close(dx, c["dx"], "dx", LOSS_DX_TOL, hint=hint.softmax_gradient(dx, c["dx"], len(c["y"])))


def test_softmax_loss_large_scores(sb, ref, hint):
    c = ref("Q1/softmax_loss")
    loss, dx = call(sb, "layers", "softmax_loss", c["x_big"], c["y_big"], n=2, inputs="fail")
    checks.close_scalar(loss, c["loss_big"], "loss (large scores)", LOSS_VALUE_TOL, hint=hint.softmax_stability(loss))
    checks.close(dx, c["dx_big"], "dx (large scores)", LOSS_DX_TOL)


def test_svm_loss(sb, ref, hint):
    c = ref("Q1/svm_loss")
    loss, dx = call(sb, "layers", "svm_loss", c["x"], c["y"], n=2, inputs="fail")
    checks.close_scalar(loss, c["loss"], "loss", LOSS_VALUE_TOL)
    checks.close(dx, c["dx"], "dx", LOSS_DX_TOL, hint=hint.svm_gradient(dx, c["dx"], len(c["y"])))
