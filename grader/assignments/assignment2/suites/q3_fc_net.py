"""Q3: the multi-layer net (classifiers/fc_net.py FullyConnectedNet) without normalization or dropout."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment2.cases import FC_DIMS
from grader.suites._common import check_model_loss, init_stats, new_model, scores, set_params, tolerance
from grader.suites._training import run_training_check

pytestmark = pytest.mark.files("classifiers/fc_net.py", "layers.py", "layer_utils.py")

MODEL = "classifiers.fc_net.FullyConnectedNet"
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4")
WEIGHTS = ("W1", "W2", "W3", "W4")
SCORES_TOL = tolerance(__file__, "model_scores")
LOSS_TOL = tolerance(__file__, "model_loss")
GRAD_TOL = tolerance(__file__, "model_grads")


def _model(sb, ref, seed):
    c = ref("Q3/fc_net")
    model = new_model(sb, MODEL, seed, dtype=np.float64, **FC_DIMS)
    set_params(sb, model, {k: c[k] for k in KEYS})
    return c, model


def test_fc_net_init(sb, ref, seed):
    c = ref("Q3/fc_init")
    kwargs = dict(c.inputs, hidden_dims=[int(h) for h in c["hidden_dims"]])
    model = new_model(sb, MODEL, seed, dtype=np.float64, **kwargs)
    init_stats(sb.getattr(model, "params"), c, c["weight_scale"], dtype=np.float64)


def test_fc_net_scores(sb, ref, seed):
    c, model = _model(sb, ref, seed)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores", SCORES_TOL)


def test_fc_net_loss(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=WEIGHTS, loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)


def test_fc_net_loss_regularized(sb, ref, seed, hint):
    c, model = _model(sb, ref, seed)
    check_model_loss(sb, model, c, KEYS, c["reg"], "reg", hint, weights=WEIGHTS, loss_tol=LOSS_TOL, grad_tol=GRAD_TOL)


def test_fc_net_training(sb, ref, seed, limits):
    run_training_check(sb, ref, "fc_net", seed, limits)
