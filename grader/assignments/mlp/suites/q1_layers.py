"""Q1: the layer classes of layers.py (Relu, LeakyRelu, Sigmoid, Affine, SoftmaxWithLoss): forward against the
reference, backward against the reference and against a numerical gradient of the reference's forward."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.calls import forward_backward, new

pytestmark = pytest.mark.files("layers.py")

TOL = 1e-9
NUM_TOL = 1e-6   # against the numerical gradient (centred differences, h = 1e-6)


def _activation(sb, ref, key, cls, hint_fn=None, **kwargs):
    c = ref(f"Q1/{key}")
    layer = new(sb, f"layers.{cls}", **kwargs)
    out, dx = forward_backward(sb, layer, c["x"], c["dout"], cls)
    checks.close(out, c["out"], f"{cls}.forward(x)", TOL)
    checks.close(dx, c["dx_num"], f"{cls}.backward(dout) against a numerical gradient", NUM_TOL)
    checks.close(dx, c["dx"], f"{cls}.backward(dout)", TOL)
    return c


def test_relu(sb, ref):
    _activation(sb, ref, "relu", "Relu")


def test_leaky_relu(sb, ref, hint):
    c = _activation(sb, ref, "leaky_relu", "LeakyRelu")
    layer = new(sb, "layers.LeakyRelu", alpha=0.2)
    out, dx = forward_backward(sb, layer, c["x"], c["dout"], "LeakyRelu(alpha=0.2)")
    checks.close(out, c["out_02"], "LeakyRelu(alpha=0.2).forward(x)", TOL)
    checks.close(dx, c["dx_02"], "LeakyRelu(alpha=0.2).backward(dout)", TOL)


def test_sigmoid(sb, ref):
    _activation(sb, ref, "sigmoid", "Sigmoid")


def test_affine_forward(sb, ref):
    c = ref("Q1/affine")
    out = sb.call_method(new(sb, "layers.Affine", c["W"], c["b"]), "forward", c["x"])
    checks.close(out, c["out"], "Affine(W, b).forward(x) for x of shape (3, 2, 2, 5)", TOL)
    out2 = sb.call_method(new(sb, "layers.Affine", c["W2"], c["b2"]), "forward", c["x2"])
    checks.close(out2, c["out2"], "Affine(W, b).forward(x) for x of shape (5, 7)", TOL)


def test_affine_backward(sb, ref):
    c = ref("Q1/affine")
    layer = new(sb, "layers.Affine", c["W"], c["b"])
    _, dx = forward_backward(sb, layer, c["x"], c["dout"], "Affine")
    checks.close(dx, c["dx_num"], "Affine.backward(dout) against a numerical gradient", NUM_TOL)
    checks.close(dx, c["dx"], "Affine.backward(dout) (the shape of x, (3, 2, 2, 5))", TOL)
    checks.close(sb.getattr(layer, "dW"), c["dW"], "Affine.dW after backward", TOL)
    checks.close(sb.getattr(layer, "db"), c["db"], "Affine.db after backward", TOL)


def _softmax(sb, c, t, what):
    layer = new(sb, "layers.SoftmaxWithLoss")
    loss = sb.call_method(layer, "forward", c["x"], t)
    checks.close_scalar(loss, c["loss"], f"SoftmaxWithLoss.forward(x, t) with {what} labels", 1e-6)
    dx = sb.call_method(layer, "backward")
    checks.close(dx, c["dx"], f"SoftmaxWithLoss.backward() with {what} labels", 1e-6)


def test_softmax_with_loss(sb, ref):
    c = ref("Q1/softmax_with_loss")
    _softmax(sb, c, c["t"], "integer")
    layer = new(sb, "layers.SoftmaxWithLoss")
    loss = sb.call_method(layer, "forward", c["x_big"], c["t_big"])
    checks.close_scalar(loss, c["loss_big"], "SoftmaxWithLoss.forward for scores around 900 (subtract the max)", 1e-6)
    checks.close(sb.call_method(layer, "backward"), c["dx_big"], "SoftmaxWithLoss.backward for scores around 900",
                 1e-6)


def test_softmax_with_loss_one_hot(sb, ref):
    c = ref("Q1/softmax_with_loss")
    _softmax(sb, c, c["t_hot"], "one-hot")
