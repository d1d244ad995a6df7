"""Q6: Dropout (layers.py) at training and test time, its backward pass, and dropout in MultiLayerNetExtend.
dropout_ratio is the fraction of units DROPPED; training does not rescale, test scales by 1 - ratio."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.calls import load_params, net, new
from grader.assignments.mlp.cases import NET_KEYS, NET_SIZES


def _train(sb, c, seed):
    sb.seed(seed)
    layer = new(sb, "layers.Dropout", c["ratio"])
    out = checks.array(sb.call_method(layer, "forward", c["x"], True), "Dropout.forward(x, train_flg=True)",
                       shape=c["x"].shape)
    return layer, out


@pytest.mark.files("layers.py")
def test_dropout_forward_train(sb, ref, seed, hint):
    c = ref("Q6/dropout")
    _, out = _train(sb, c, seed)
    kept = out != 0
    if not np.all(np.isclose(out[kept], c["x"][kept], rtol=1e-12, atol=0)):
        checks.fail("Dropout.forward(x, train_flg=True): a unit that is kept must keep its value (no scaling "
                    "at training time in this convention)", hint=hint.dropout_train(out, c["x"], c["ratio"]))
    fraction = float(np.mean(kept))
    n = kept.size
    if not abs(fraction - (1 - c["ratio"])) <= 5 * np.sqrt(c["ratio"] * (1 - c["ratio"]) / n) + 1e-3:
        checks.fail(f"Dropout(dropout_ratio={c['ratio']:.3f}) kept {fraction:.1%} of the units at training time",
                    hint=hint.dropout_fraction(fraction, c["ratio"]))
    _, again = _train(sb, c, seed + 1)
    if np.array_equal(again != 0, kept):
        checks.fail("Dropout.forward draws the same mask every time: draw a new one on every call (np.random)")


@pytest.mark.files("layers.py")
def test_dropout_forward_test(sb, ref, hint):
    c = ref("Q6/dropout")
    out = sb.call_method(new(sb, "layers.Dropout", c["ratio"]), "forward", c["x"], False)
    checks.close(out, c["out_test"], "Dropout.forward(x, train_flg=False)", 1e-12,
                 hint=hint.dropout_test(out, c["x"], c["ratio"]))


@pytest.mark.files("layers.py")
def test_dropout_backward(sb, ref, seed):
    c = ref("Q6/dropout")
    layer, out = _train(sb, c, seed)
    dx = sb.call_method(layer, "backward", c["dout"])
    checks.close(dx, c["dout"] * (out != 0), "Dropout.backward(dout) (through the units kept by the last forward)",
                 1e-12)


@pytest.mark.files("multi_layer_net_extend.py", "multi_layer_net.py", "layers.py")
def test_extend_dropout(sb, ref, seed):
    c = ref("Q6/extend_dropout")
    model = net(sb, "multi_layer_net_extend.MultiLayerNetExtend", seed, **NET_SIZES, use_dropout=True,
                dropout_ration=c["ratio"])
    load_params(sb, model, {k: c[k] for k in NET_KEYS})
    checks.close(sb.call_method(model, "predict", c["X"], False), c["scores_test"],
                 "MultiLayerNetExtend(use_dropout=True).predict(X, train_flg=False)", 1e-9)
    first = checks.array(sb.call_method(model, "predict", c["X"], True), "predict(X, train_flg=True)")
    second = checks.array(sb.call_method(model, "predict", c["X"], True), "predict(X, train_flg=True)")
    if np.allclose(first, second):
        checks.fail("MultiLayerNetExtend(use_dropout=True).predict(X, train_flg=True) gives the same scores twice: "
                    "its Dropout layers should draw new masks at training time")
