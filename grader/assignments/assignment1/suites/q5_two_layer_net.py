"""Q5: the layers of the two-layer net (layers.py: affine, ReLU, SVM and softmax losses) and the TwoLayerNet
(initialisation, scores, loss and gradients, training on Fashion-MNIST) of the 2021+ classifiers/fc_net.py
or, when a submission has only that, of the 2016-2020 classifiers/neural_net.py (``shapes.py``; the output
says which was graded). The net's tests declare no file: ``two_layer_shape`` picks it."""
import pytest

from grader import checks
from grader.assignments.assignment1.accuracy import run_accuracy_check
from grader.assignments.assignment1.cases import TWO_LAYER_DIMS, TWO_LAYER_KEYS
from grader.assignments.assignment1.shapes import two_layer_shape
from grader.suites._common import call, check_model_loss, forward, init_stats, new_model, scores, set_params

pytestmark = pytest.mark.files("layers.py")

TOL = 1e-9


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
    shape = two_layer_shape(sb)
    c = ref("Q5/two_layer_net")
    model = new_model(sb, shape.model, seed, **shape.kwargs(weight_scale=1e-2, **TWO_LAYER_DIMS))
    set_params(sb, model, {k: c[k] for k in TWO_LAYER_KEYS})
    return shape, c, model


@pytest.mark.files()
def test_two_layer_init(sb, ref, seed):
    shape = two_layer_shape(sb)
    c = ref("Q5/two_layer_init")
    model = new_model(sb, shape.model, seed, **shape.kwargs(c["input_dim"], c["hidden_dim"], c["num_classes"],
                                                            c["weight_scale"]))
    init_stats(sb.getattr(model, "params"), c, c["weight_scale"])


@pytest.mark.files()
def test_two_layer_scores(sb, ref, seed):
    _, c, model = _model(sb, ref, seed)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores", TOL)


class _Hints:
    """The L2 convention of the shape graded: 0.5 * reg * sum(W * W) in the 2021+ net, reg * sum(W * W)
    in the 2016-2020 one."""

    def __init__(self, hint, old):
        self._hint, self._old = hint, old

    def l2_regularization(self, loss, loss_0, loss_reg, reg, params, weights):
        penalty = loss_reg - loss_0
        if self._old:
            wrong = {"the 2016-2020 net's L2 term is reg * (sum(W1 * W1) + sum(W2 * W2)), without a factor 0.5":
                     loss_0 + 0.5 * penalty}
        else:
            wrong = {"the two-layer net's L2 term is 0.5 * reg * (sum(W1 * W1) + sum(W2 * W2))": loss_0 + 2 * penalty}
        wrong["the loss seems to leave out the regularisation term"] = loss_0
        return self._hint.first(loss, wrong)

    def reg_gradient(self, grad, expected_reg, expected_0, reg, w):
        term = "2 * reg * W" if self._old else "reg * W"
        return self._hint.first(grad, {
            f"the gradient of the weights seems to miss the regularisation term {term}": expected_0})


def _check_loss(sb, ref, seed, hint, tag):
    shape, c, model = _model(sb, ref, seed)
    if not shape.old:
        check_model_loss(sb, model, c, TWO_LAYER_KEYS, c["reg"] if tag == "reg" else 0.0, tag, _Hints(hint, False),
                         weights=("W1", "W2"))
        return
    # the 2016-2020 net: loss(X, y, reg) -> (loss, grads), its L2 term reg * sum(W * W)
    reg = c["reg"] if tag == "reg" else 0.0
    key = "old" if tag == "reg" else "0"
    loss, grads = checks.sequence(sb.call_method(model, "loss", c["X"], c["y"], reg=reg), 2, "net.loss(X, y, reg)")
    h = _Hints(hint, True).l2_regularization(loss, c["loss_0"], c["loss_old"], reg, {}, []) if tag == "reg" else None
    checks.close_scalar(loss, c[f"loss_{key}"], f"loss at reg={reg:g}", 1e-8, hint=h)
    checks.mapping(grads, "grads", TWO_LAYER_KEYS, exact=True)
    for k in TWO_LAYER_KEYS:
        checks.close(grads[k], c[f"grad_{key}_{k}"], f"grads[{k!r}] at reg={reg:g}", 1e-7)


@pytest.mark.files()
def test_two_layer_loss(sb, ref, seed, hint):
    _check_loss(sb, ref, seed, hint, "0")


@pytest.mark.files()
def test_two_layer_loss_regularized(sb, ref, seed, hint):
    _check_loss(sb, ref, seed, hint, "reg")


@pytest.mark.files()
def test_two_layer_training(sb, ref, seed, limits):
    run_accuracy_check(sb, ref, "two_layer_net", seed, limits)
