"""Q6: inverted dropout (layers.py) and FullyConnectedNet with dropout.

p is the probability of KEEPING a unit (``dropout_semantics = "keep"`` in the manifest). Dropout is
random, so the layer is graded by what every correct implementation shares: each output is 0 or x / p,
the kept fraction is about p, the seed makes it deterministic, test mode is the identity, and the
backward pass routes dout through the same mask (of a forward output that is itself a dropout output).
The network with dropout (one test, ``test_fc_dropout_gradients``): dropout=1 is exactly the network
without dropout; with keep 0.6 the training loss varies with the dropout seed, about 40% of the hidden
units of a probe whose units are all active get exactly zero gradient (they were dropped), and the
gradients agree with finite differences of the student's own (seeded, hence deterministic) loss.
"""
import numpy as np
import pytest

from grader import checks
from grader.assignments.assignment2.cases import FC_DROP_DIMS
from grader.suites._common import (call, check_model_loss, forward, loss_and_grads, new_model, scores,
                                    set_params, tolerance)

pytestmark = pytest.mark.files("layers.py")

MODEL = "classifiers.fc_net.FullyConnectedNet"
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
FC_FILES = ("classifiers/fc_net.py", "layers.py", "layer_utils.py")
SCORES_TOL = tolerance(__file__, "model_scores")
LOSS_TOL = tolerance(__file__, "model_loss")
GRAD_TOL = tolerance(__file__, "model_grads")
EXACT_TOL = tolerance(__file__, "exact")
DROPOUT_DX_TOL = tolerance(__file__, "dropout_dx")
NUMERIC_TOL = tolerance(__file__, "numeric_gradient")


def test_dropout_forward_train(sb, ref, hint, seed):
    c = ref("Q6/dropout")
    for i, p in enumerate(c["ps"]):
        p = float(p)
        out, _ = forward(sb, "layers", "dropout_forward", c["x"], {"mode": "train", "p": p, "seed": seed + i})
        label = f"out (train mode, keep probability #{i + 1} of {len(c['ps'])})"
        out = checks.array(out, label, shape=c["x"].shape)
        h = hint.dropout_forward(c["x"], out, p)
        try:
            checks.dropout_stats(c["x"], out, p, label)
        except checks.CheckFailure as exc:
            raise checks.CheckFailure(exc.message, h) from None


def test_dropout_forward_test(sb, ref, hint):
    c = ref("Q6/dropout")
    for p in (0.3, 0.85):
        out, _ = forward(sb, "layers", "dropout_forward", c["x_small"], {"mode": "test", "p": p})
        checks.close(out, c["x_small"], "out (test mode)", EXACT_TOL, hint=hint.dropout_test(out, c["x_small"], p))


def test_dropout_seed(sb, ref, seed):
    c = ref("Q6/dropout")
    outs = []
    for s in (seed, seed, seed + 1):
        out, _ = forward(sb, "layers", "dropout_forward", c["x_small"], {"mode": "train", "p": 0.5, "seed": s})
        outs.append(checks.array(out, "out", shape=c["x_small"].shape))
    if not np.array_equal(outs[0], outs[1]):
        checks.fail("two calls with the same dropout_param['seed'] gave different masks: seed the generator "
                    "with it (np.random.seed) before drawing the mask")
    if np.array_equal(outs[0], outs[2]):
        checks.fail("two calls with different seeds gave the same mask")


def test_dropout_backward(sb, ref, seed):
    c = ref("Q6/dropout")
    x, dout = c["x_small"], c["dout"]
    out, cache = forward(sb, "layers", "dropout_forward", x, {"mode": "train", "p": 0.7, "seed": seed})
    out = checks.array(out, "out (train mode)", shape=x.shape)
    # dx is checked against the student's own mask: that mask must first be a dropout mask (either
    # convention for p: the convention itself is graded by test_dropout_forward_train).
    try:
        checks.dropout_stats(x, out, 0.7, "out (train mode, keep probability 0.7)", kept_tol=0.1)
    except checks.CheckFailure as exc:
        try:
            checks.dropout_stats(x, out, 0.3, "out", kept_tol=0.1)
        except checks.CheckFailure:
            raise exc from None
    dx = call(sb, "layers", "dropout_backward", dout, cache)
    checks.close(dx, dout * out / x, "dx (train mode)", DROPOUT_DX_TOL)
    _, cache = forward(sb, "layers", "dropout_forward", x, {"mode": "test", "p": 0.7})
    dx = call(sb, "layers", "dropout_backward", dout, cache)
    checks.close(dx, dout, "dx (test mode)", EXACT_TOL)


def _fc_model(sb, ref, seed, keep, case="Q6/fc_dropout", dropout_seed=123):
    c = ref(case)
    model = new_model(sb, MODEL, seed, dropout=keep, seed=dropout_seed, dtype=np.float64, **FC_DROP_DIMS)
    set_params(sb, model, {k: c[k] for k in KEYS})
    return c, model


PROBE_SEEDS = tuple(range(101, 113))   # dropout seeds of the probe (masks of 12 x 11 hidden units)
HIDDEN_BIASES = ("b1", "b2")
ZEROED = (0.15, 0.75)                  # accepted fraction of dropped hidden units (keep 0.6: about 0.4)


def _dropout_probe(sb, ref, seed) -> tuple[list[float], float]:
    """Training passes of one sample whose hidden units are all active (``Q6/fc_dropout_probe``), under
    several dropout seeds -> (the losses, the fraction of hidden units whose bias gradient is exactly zero:
    the units dropout dropped)."""
    losses, zeros, total = [], 0, 0
    for s in PROBE_SEEDS:
        c, model = _fc_model(sb, ref, seed, 0.6, case="Q6/fc_dropout_probe", dropout_seed=s)
        loss, grads = loss_and_grads(sb, model, c["X"], c["y"])
        losses.append(checks.scalar(loss, "loss"))
        checks.mapping(grads, "grads", KEYS, exact=True)
        for k in HIDDEN_BIASES:
            g = checks.array(grads[k], f"grads[{k!r}]", shape=c[k].shape)
            zeros += int(np.count_nonzero(g == 0))
            total += g.size
    return losses, zeros / total


@pytest.mark.files(*FC_FILES)
def test_fc_dropout_gradients(sb, ref, seed, hint):
    """dropout=1 keeps every unit (the network is exactly the one without dropout); with keep 0.6 (seeded):
    test mode ignores dropout; train mode is deterministic for a seed, varies with the seed, zeroes hidden
    units, and its gradients agree with finite differences of the loss along random directions."""
    c, model = _fc_model(sb, ref, seed, 1)
    try:
        check_model_loss(sb, model, c, KEYS, 0.0, "0", hint, weights=("W1", "W2", "W3"), loss_tol=LOSS_TOL,
                         grad_tol=GRAD_TOL)
    except checks.CheckFailure as exc:
        raise checks.CheckFailure(f"with dropout=1: {exc.message}", exc.hint or (
            "dropout=1 keeps every unit (p is the probability of KEEPING a unit): the network must then be "
            "exactly the one without dropout")) from None
    c, model = _fc_model(sb, ref, seed, 0.6)
    checks.close(scores(sb, model, c["X"], c["scores"].shape), c["scores"], "scores (test mode)", SCORES_TOL)
    sb.setattr(model, "reg", 0.0)
    loss, grads = loss_and_grads(sb, model, c["X"], c["y"])
    loss = checks.scalar(loss, "loss")
    again = checks.scalar(loss_and_grads(sb, model, c["X"], c["y"])[0], "loss")
    if loss != again:
        checks.fail("with a dropout seed, two training passes gave different losses: pass "
                    "self.dropout_param (which holds the seed) to every dropout layer")
    if abs(loss - c["loss_0"]) <= 1e-12 * max(1.0, abs(loss)):
        checks.fail("with dropout=0.6 the training loss equals the loss without dropout: dropout is not applied")
    losses, zeroed = _dropout_probe(sb, ref, seed)
    if len(set(losses)) == 1:
        checks.fail(f"with dropout=0.6 the training loss is the same for {len(losses)} different dropout seeds: "
                    "the dropout mask must be drawn at random (seeded with dropout_param['seed'])")
    if not ZEROED[0] <= zeroed <= ZEROED[1]:
        checks.fail(f"with dropout=0.6 in training mode, {zeroed:.0%} of the hidden units were dropped (their "
                    "gradients are zero); about 40% should be: apply dropout after the ReLU of every hidden "
                    "layer, with the same mask in the backward pass")
    checks.mapping(grads, "grads", KEYS, exact=True)
    rng = np.random.RandomState(seed)
    h = 1e-6
    for k in KEYS:
        g = checks.array(grads[k], f"grads[{k!r}]", shape=c[k].shape)
        v = rng.randn(*c[k].shape)
        values = []
        for sign in (1, -1):
            sb.setitem(model, ("params", k), c[k] + sign * h * v)
            values.append(checks.scalar(loss_and_grads(sb, model, c["X"], c["y"])[0], "loss"))
        sb.setitem(model, ("params", k), c[k].copy())
        numeric = (values[0] - values[1]) / (2 * h)
        analytic = float(np.sum(g * v))
        err = checks.scalar_error(analytic, numeric)
        if not (err <= NUMERIC_TOL or abs(analytic - numeric) <= 1e-8):
            checks.fail(f"grads[{k!r}] with dropout disagrees with finite differences of the loss "
                        f"(relative error {checks.magnitude(err)}, tolerance {NUMERIC_TOL:.0e}): the backward pass must use "
                        "the same dropout mask as the forward pass")
