"""Q5: the layers of the two-layer net (layers.py: affine, ReLU, SVM and softmax losses) and the 2021+
TwoLayerNet (classifiers/fc_net.py): initialisation, scores, loss and gradients."""
import pytest

from grader import checks
from grader.assignments.assignment1.cases import TWO_LAYER_DIMS, TWO_LAYER_KEYS
from grader.suites._common import call, check_model_loss, forward, init_stats, new_model, scores, set_params

pytestmark = pytest.mark.files("layers.py")

TOL = 1e-9
MODEL = "classifiers.fc_net.TwoLayerNet"


def test_affine(sb, ref):
    c = ref("Q5/layers")
    out, cache = forward(sb, "layers", "affine_forward", c["x"], c["w"], c["b"])
    checks.close(out, c["affine_out"], "affine_forward out", TOL)
    dx, dw, db = call(sb, "layers", "affine_backward", c["dout"], cache, n=3)
    checks.close(dx, c["affine_dx"], "affine_backward dx", TOL)
    checks.close(dw, c["affine_dw"], "affine_backward dw", TOL)
    checks.close(db, c["affine_db"], "affine_backward db", TOL)


def test_relu(sb, ref):
    c = ref("Q5/layers")
    out, cache = forward(sb, "layers", "relu_forward", c["x"])
    checks.close(out, c["relu_out"], "relu_forward out", TOL)
    checks.close(call(sb, "layers", "relu_backward", c["x"] * 0.5 + 0.1, cache), c["relu_dx"], "relu_backward dx", TOL)


def test_svm_loss(sb, ref, hint):
    c = ref("Q5/layers")
    loss, dx = call(sb, "layers", "svm_loss", c["scores"], c["y"], n=2)
    checks.close_scalar(loss, c["svm_loss"], "svm_loss loss", 1e-10)
    checks.close(dx, c["svm_dx"], "svm_loss dx", 1e-8, hint=hint.averaged(dx, c["svm_dx"], len(c["y"])))


def test_softmax_loss(sb, ref, hint):
    c = ref("Q5/layers")
    loss, dx = call(sb, "layers", "softmax_loss", c["scores"], c["y"], n=2)
    checks.close_scalar(loss, c["softmax_loss"], "softmax_loss loss", 1e-10)
    checks.close(dx, c["softmax_dx"], "softmax_loss dx", 1e-8, hint=hint.averaged(dx, c["softmax_dx"], len(c["y"])))
    loss, dx = call(sb, "layers", "softmax_loss", c["big"], c["y_big"], n=2)
    checks.close_scalar(loss, c["softmax_loss_big"], "softmax_loss loss (large scores)", 1e-10,
                        hint=hint.softmax_stability(loss))
    checks.close(dx, c["softmax_dx_big"], "softmax_loss dx (large scores)", 1e-8)


def _model(sb, ref, seed):
    c = ref("Q5/two_layer_net")
    model = new_model(sb, MODEL, seed, weight_scale=1e-2, **TWO_LAYER_DIMS)
    set_params(sb, model, {k: c[k] for k in TWO_LAYER_KEYS})
    return c, model


@pytest.mark.files("classifiers/fc_net.py")
def test_two_layer_init(sb, ref, seed):
    c = ref("Q5/two_layer_init")
    model = new_model(sb, MODEL, seed, **c.inputs)
    init_stats(sb.getattr(model, "params"), c, c["weight_scale"])


@pytest.mark.files("classifiers/fc_net.py", "layers.py")
def test_two_layer_scores(sb, ref, seed):
    c, model = _model(sb, ref, seed)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores", TOL)


class _TwoLayerHints:
    """The 0.5 convention of the net's L2 term (the linear classifiers have none)."""

    def __init__(self, hint):
        self._hint = hint

    def l2_regularization(self, loss, loss_0, loss_reg, reg, params, weights):
        penalty = loss_reg - loss_0
        return self._hint.first(loss, {
            "the two-layer net's L2 term is 0.5 * reg * (sum(W1 * W1) + sum(W2 * W2))": loss_0 + 2 * penalty,
            "the loss seems to leave out the regularisation term": loss_0})

    def reg_gradient(self, grad, expected_reg, expected_0, reg, w):
        return self._hint.first(grad, {
            "the gradient of the weights seems to miss the regularisation term reg * W": expected_0,
            "with 0.5 * reg * sum(W * W) in the loss, the gradient's term is reg * W": expected_reg + reg * w})


@pytest.mark.files("classifiers/fc_net.py", "layers.py")
def test_two_layer_loss(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, TWO_LAYER_KEYS, 0.0, "0", _TwoLayerHints(hint), weights=("W1", "W2"))


@pytest.mark.files("classifiers/fc_net.py", "layers.py")
def test_two_layer_loss_regularized(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, TWO_LAYER_KEYS, c["reg"], "reg", _TwoLayerHints(hint), weights=("W1", "W2"))
