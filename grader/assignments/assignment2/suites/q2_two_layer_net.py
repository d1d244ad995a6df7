"""Q2: the two-layer net (classifiers/fc_net.py TwoLayerNet) and training it with the Solver."""
import pytest

from grader import checks
from grader.suites._common import check_model_loss, init_stats, new_model, scores, set_params, tolerance
from grader.suites._training import run_training_check

pytestmark = pytest.mark.files("classifiers/fc_net.py", "layers.py", "layer_utils.py")

MODEL = "classifiers.fc_net.TwoLayerNet"
KEYS = ("W1", "b1", "W2", "b2")
DIMS = dict(input_dim=12, hidden_dim=9, num_classes=5)
SCORES_TOL = tolerance(__file__, "model_scores")
LOSS_TOL = tolerance(__file__, "model_loss")
GRAD_TOL = tolerance(__file__, "model_grads")


def _model(sb, ref, seed):
    c = ref("Q2/two_layer_net")
    model = new_model(sb, MODEL, seed, weight_scale=1e-2, **DIMS)
    set_params(sb, model, {k: c[k] for k in KEYS})
    return c, model


def test_two_layer_init(sb, ref, seed):
    c = ref("Q2/two_layer_init")
    model = new_model(sb, MODEL, seed, **c.inputs)
    init_stats(sb.getattr(model, "params"), c, c["weight_scale"])


def test_two_layer_scores(sb, ref, seed):
    c, model = _model(sb, ref, seed)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores", SCORES_TOL)


def test_two_layer_loss(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=("W1", "W2"), loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)


def test_two_layer_loss_regularized(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, KEYS, c["reg"], "reg", hint, weights=("W1", "W2"), loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)


def test_two_layer_training(sb, ref, seed, limits):
    run_training_check(sb, ref, "two_layer_net", seed, limits)
