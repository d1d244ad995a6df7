"""Assignment 2's reference cases: the hidden inputs of every unit check, and how the reference answers.

Each case draws its inputs from its own ``np.random.RandomState`` (see ``grader.references.cases``); the
recipe says what it draws. The dimensions the suites build models with are defined here too
(``FC_DIMS``, ``CNN_DIMS``, ...), so a suite and its cases cannot disagree.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.references.cases import Cases
from grader.references.datasets import fashion_mnist

CASES = Cases()
Arrays = dict[str, Any]


def _r(rng, *shape, scale=1.0, shift=0.0):
    return scale * rng.randn(*shape) + shift


# ---- Q1: fully-connected layers -------------------------------------------------------------------
@CASES.case("Q1", "affine_forward", 1101, "x randn(4,3,2,5), w randn(30,6), b randn(6); x2 randn(5,7), w2 (7,3), b2 (3)",
      lambda rng: dict(x=_r(rng, 4, 3, 2, 5), w=_r(rng, 30, 6), b=_r(rng, 6),
                       x2=_r(rng, 5, 7), w2=_r(rng, 7, 3), b2=_r(rng, 3)))
def _affine_forward(ref, a):
    out, _ = ref.layers.affine_forward(a["x"], a["w"], a["b"])
    out2, _ = ref.layers.affine_forward(a["x2"], a["w2"], a["b2"])
    return dict(out=out, out2=out2)


@CASES.case("Q1", "affine_backward", 1102, "x randn(3,4,5), w randn(20,7), b randn(7), dout randn(3,7)",
      lambda rng: dict(x=_r(rng, 3, 4, 5), w=_r(rng, 20, 7), b=_r(rng, 7), dout=_r(rng, 3, 7)))
def _affine_backward(ref, a):
    _, cache = ref.layers.affine_forward(a["x"], a["w"], a["b"])
    dx, dw, db = ref.layers.affine_backward(a["dout"], cache)
    return dict(dx=dx, dw=dw, db=db)


@CASES.case("Q1", "relu", 1103, "x randn(6,7), dout randn(6,7)",
      lambda rng: dict(x=_r(rng, 6, 7), dout=_r(rng, 6, 7)))
def _relu(ref, a):
    out, cache = ref.layers.relu_forward(a["x"])
    return dict(out=out, dx=ref.layers.relu_backward(a["dout"], cache))


@CASES.case("Q1", "leaky_relu", 1104, "x randn(5,6), alpha 0.07, dout randn(5,6)",
      lambda rng: dict(x=_r(rng, 5, 6), alpha=0.07, dout=_r(rng, 5, 6)))
def _leaky_relu(ref, a):
    out, cache = ref.layers.leaky_relu_forward(a["x"], a["alpha"])
    return dict(out=out, dx=ref.layers.leaky_relu_backward(a["dout"], cache))


@CASES.case("Q1", "affine_relu", 1105, "x randn(3,2,5), w randn(10,8), b randn(8), dout randn(3,8)",
      lambda rng: dict(x=_r(rng, 3, 2, 5), w=_r(rng, 10, 8), b=_r(rng, 8), dout=_r(rng, 3, 8)))
def _affine_relu(ref, a):
    out, cache = ref.layer_utils.affine_relu_forward(a["x"], a["w"], a["b"])
    dx, dw, db = ref.layer_utils.affine_relu_backward(a["dout"], cache)
    return dict(out=out, dx=dx, dw=dw, db=db)


def _loss_inputs(rng):
    return dict(x=_r(rng, 40, 9, scale=1.5), y=rng.randint(9, size=40),
                x_big=_r(rng, 12, 6, scale=30.0, shift=900.0), y_big=rng.randint(6, size=12))


@CASES.case("Q1", "softmax_loss", 1106, "x 1.5*randn(40,9), y randint(9); x_big 30*randn(12,6)+900, y_big", _loss_inputs)
def _softmax_loss(ref, a):
    loss, dx = ref.layers.softmax_loss(a["x"], a["y"])
    loss_big, dx_big = ref.layers.softmax_loss(a["x_big"], a["y_big"])
    return dict(loss=loss, dx=dx, loss_big=loss_big, dx_big=dx_big)


@CASES.case("Q1", "svm_loss", 1107, "x 1.5*randn(40,9), y randint(9)", _loss_inputs)
def _svm_loss(ref, a):
    loss, dx = ref.layers.svm_loss(a["x"], a["y"])
    return dict(loss=loss, dx=dx)


# ---- Q2: two-layer net -------------------------------------------------------------------------------
def _two_layer_inputs(rng):
    D, H, C, N = 12, 9, 5, 6
    return dict(W1=_r(rng, D, H, scale=0.3), b1=_r(rng, H, scale=0.1), W2=_r(rng, H, C, scale=0.3),
                b2=_r(rng, C, scale=0.1), X=_r(rng, N, D), y=rng.randint(C, size=N), reg=0.37)


PARAMS_2 = ("W1", "b1", "W2", "b2")


def _model_outputs(model, a, keys, reg):
    """scores, then loss/grads at reg 0 and at ``reg`` of a reference model whose params are set."""
    for k in keys:
        model.params[k] = a[k].copy()
    out = {"scores": model.loss(a["X"])}
    for tag, r in (("0", 0.0), ("reg", reg)):
        model.reg = r
        loss, grads = model.loss(a["X"], a["y"])
        out[f"loss_{tag}"] = loss
        for k in keys:
            out[f"grad_{tag}_{k}"] = grads[k]
    return out


@CASES.case("Q2", "two_layer_net", 1201, "D,H,C,N = 12,9,5,6; params 0.3*randn (biases 0.1*randn); X randn; reg 0.37",
      _two_layer_inputs)
def _two_layer_net(ref, a):
    model = ref.fc_net.TwoLayerNet(input_dim=12, hidden_dim=9, num_classes=5, weight_scale=1e-2)
    return _model_outputs(model, a, PARAMS_2, a["reg"])


def _init_stats(model) -> Arrays:
    """Shapes, means and standard deviations of a freshly initialised model's parameters."""
    out = {}
    for k, v in model.params.items():
        out[f"shape_{k}"] = np.array(v.shape, dtype=np.int64)
        out[f"mean_{k}"] = float(np.mean(v))
        out[f"std_{k}"] = float(np.std(v))
    return out


@CASES.case("Q2", "two_layer_init", 1202, "TwoLayerNet(input_dim=300, hidden_dim=120, num_classes=10, weight_scale=0.02)",
      lambda rng: dict(input_dim=300, hidden_dim=120, num_classes=10, weight_scale=0.02))
def _two_layer_init(ref, a):
    return _init_stats(ref.fc_net.TwoLayerNet(**a))


# ---- Q3: multi-layer net ---------------------------------------------------------------------------
FC_DIMS = dict(hidden_dims=[7, 6, 5], input_dim=8, num_classes=4)


def _fc_param_names(n_layers, norm=False):
    names = []
    for i in range(1, n_layers + 1):
        names += [f"W{i}", f"b{i}"]
        if norm and i < n_layers:
            names += [f"gamma{i}", f"beta{i}"]
    return tuple(names)


def _fc_inputs(rng, norm=False, n=5, dims=FC_DIMS):
    sizes = [dims["input_dim"]] + dims["hidden_dims"] + [dims["num_classes"]]
    a = {}
    for i in range(1, len(sizes)):
        a[f"W{i}"] = _r(rng, sizes[i - 1], sizes[i], scale=0.4)
        a[f"b{i}"] = _r(rng, sizes[i], scale=0.1)
        if norm and i < len(sizes) - 1:
            a[f"gamma{i}"] = _r(rng, sizes[i], scale=0.2, shift=1.0)
            a[f"beta{i}"] = _r(rng, sizes[i], scale=0.2)
    a["X"] = _r(rng, n, dims["input_dim"])
    a["y"] = rng.randint(dims["num_classes"], size=n)
    a["reg"] = 0.41
    return a


@CASES.case("Q3", "fc_net", 1301, "hidden [7,6,5], D 8, C 4, N 5; W 0.4*randn, b 0.1*randn; X randn; reg 0.41",
      _fc_inputs)
def _fc_net(ref, a):
    model = ref.fc_net.FullyConnectedNet(dtype=np.float64, **FC_DIMS)
    return _model_outputs(model, a, _fc_param_names(4), a["reg"])


@CASES.case("Q3", "fc_init", 1302, "FullyConnectedNet([80, 60, 40], input_dim=100, num_classes=10, weight_scale=0.03)",
      lambda rng: dict(hidden_dims=np.array([80, 60, 40]), input_dim=100, num_classes=10, weight_scale=0.03))
def _fc_init(ref, a):
    return _init_stats(ref.fc_net.FullyConnectedNet([int(h) for h in a["hidden_dims"]], input_dim=a["input_dim"],
                                                    num_classes=a["num_classes"], weight_scale=a["weight_scale"],
                                                    dtype=np.float64))


# ---- Q4: update rules ------------------------------------------------------------------------------
STEPS = 3


def _optim_inputs(rng, state=()):
    a = dict(w=_r(rng, 5, 6), dw=_r(rng, STEPS, 5, 6))
    for name, (scale, shift) in state:
        a[name] = np.abs(_r(rng, 5, 6, scale=scale, shift=shift))
    return a


def _run_steps(rule, a, config):
    """Apply ``rule`` STEPS times, feeding its own config forward -> ``next_w`` and ``<state>_after``
    (``(STEPS, ...)``: the value after each step)."""
    w, out = a["w"].copy(), {}
    history: dict[str, list] = {"next_w": []}
    for step in range(STEPS):
        w, config = rule(w.copy(), a["dw"][step].copy(), config)
        history["next_w"].append(w.copy())
        for k, v in config.items():
            if isinstance(v, np.ndarray) or k == "t":
                history.setdefault(k, []).append(np.array(v, copy=True))
    for k, v in history.items():
        out[k if k == "next_w" else f"{k}_after"] = np.stack(v)
    return out


@CASES.case("Q4", "sgd_momentum", 1401, "w randn(5,6); dw randn(3,5,6) for 3 steps; lr 0.02, momentum 0.8, no velocity",
      lambda rng: _optim_inputs(rng))
def _sgd_momentum(ref, a):
    return _run_steps(ref.optim.sgd_momentum, a, {"learning_rate": 0.02, "momentum": 0.8})


@CASES.case("Q4", "rmsprop", 1402, "w, dw as sgd_momentum; cache |0.5*randn+0.3|; lr 0.01, decay 0.95",
      lambda rng: _optim_inputs(rng, [("cache", (0.5, 0.3))]))
def _rmsprop(ref, a):
    return _run_steps(ref.optim.rmsprop, a, {"learning_rate": 0.01, "decay_rate": 0.95, "cache": a["cache"].copy()})


def adam_efficient_form(w, dw, config):
    """Adam in the paper's "efficient" form (Kingma & Ba, section 2): ``w - lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    * m / (sqrt(v) + eps)``. It is as correct as the textbook form the reference uses, but puts epsilon on the
    other side of the bias correction, so the two differ by about ``eps / sqrt(v_hat)`` relative: up to 3e-5
    on the hidden inputs (measured over 200 salts), far above rounding. The suites accept either trajectory."""
    config = dict(config)
    for k, v in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8), ("t", 0)):
        config.setdefault(k, v)
    beta1, beta2, t = config["beta1"], config["beta2"], config["t"] + 1
    m = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * (dw * dw)
    alpha = config["learning_rate"] * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    config.update(m=m, v=v, t=t)
    return w - alpha * m / (np.sqrt(v) + config["epsilon"]), config


def _adam_both_forms(ref, a, config):
    out = _run_steps(ref.optim.adam, a, {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in config.items()})
    out["next_w_efficient"] = _run_steps(adam_efficient_form, a, config)["next_w"]
    return out


@CASES.case("Q4", "adam", 1403, "w, dw as sgd_momentum; m randn, v |randn|, t 7; lr 0.02, beta1 0.85, beta2 0.99",
      lambda rng: dict(_optim_inputs(rng, [("v", (0.3, 0.2))]), m=_r(rng, 5, 6, scale=0.4)))
def _adam(ref, a):
    config = {"learning_rate": 0.02, "beta1": 0.85, "beta2": 0.99, "m": a["m"].copy(), "v": a["v"].copy(), "t": 7}
    return _adam_both_forms(ref, a, config)


@CASES.case("Q4", "adam_fresh", 1404, "w, dw as sgd_momentum; empty state (defaults); lr 0.01",
      lambda rng: _optim_inputs(rng))
def _adam_fresh(ref, a):
    out = _adam_both_forms(ref, a, {"learning_rate": 0.01})
    # The 2017 starter's adam provided config.setdefault('t', 1): correct code of that year starts there.
    t1 = _adam_both_forms(ref, a, {"learning_rate": 0.01, "t": 1})
    out.update(next_w_t1=t1["next_w"], next_w_efficient_t1=t1["next_w_efficient"], t_after_t1=t1["t_after"])
    return out


# ---- Q5: batch and layer normalization ---------------------------------------------------------------
def _bn_inputs(rng, N=30, D=7):
    return dict(x=_r(rng, N, D, scale=3.0, shift=2.0), gamma=_r(rng, D, scale=0.5, shift=1.0),
                beta=_r(rng, D, scale=0.5), running_mean=_r(rng, D), running_var=np.abs(_r(rng, D, shift=1.0)),
                x_test=_r(rng, 11, D, scale=3.0, shift=2.0), dout=_r(rng, N, D), momentum=0.8, eps=1e-4)


@CASES.case("Q5", "batchnorm_forward", 1501, "x 3*randn(30,7)+2, gamma, beta, running stats randn; momentum 0.8, eps 1e-4",
      _bn_inputs)
def _batchnorm_forward(ref, a):
    bn = {"mode": "train", "momentum": a["momentum"], "eps": a["eps"],
          "running_mean": a["running_mean"].copy(), "running_var": a["running_var"].copy()}
    out, _ = ref.layers.batchnorm_forward(a["x"], a["gamma"], a["beta"], bn)
    test_param = {"mode": "test", "eps": a["eps"], "running_mean": a["running_mean"], "running_var": a["running_var"]}
    out_test, _ = ref.layers.batchnorm_forward(a["x_test"], a["gamma"], a["beta"], test_param)
    return dict(out=out, running_mean_after=bn["running_mean"], running_var_after=bn["running_var"],
                out_test=out_test)


def _bn_backward(fn_name):
    def compute(ref, a):
        bn = {"mode": "train", "eps": a["eps"]}
        _, cache = ref.layers.batchnorm_forward(a["x"], a["gamma"], a["beta"], bn)
        dx, dgamma, dbeta = getattr(ref.layers, fn_name)(a["dout"], cache)
        return dict(dx=dx, dgamma=dgamma, dbeta=dbeta)
    return compute


CASES.case("Q5", "batchnorm_backward", 1502, "x 3*randn(30,7)+2, gamma, beta, dout randn; eps 1e-4",
          _bn_inputs)(_bn_backward("batchnorm_backward"))
CASES.case("Q5", "batchnorm_backward_alt", 1503, "x 3*randn(64,20)+2, gamma, beta, dout randn; eps 1e-4",
          lambda rng: _bn_inputs(rng, 64, 20))(_bn_backward("batchnorm_backward_alt"))


@CASES.case("Q5", "layernorm", 1504, "x 3*randn(9,11)+2, gamma, beta, dout randn; eps 1e-4",
      lambda rng: _bn_inputs(rng, 9, 11))
def _layernorm(ref, a):
    out, cache = ref.layers.layernorm_forward(a["x"], a["gamma"], a["beta"], {"eps": a["eps"]})
    dx, dgamma, dbeta = ref.layers.layernorm_backward(a["dout"], cache)
    return dict(out=out, dx=dx, dgamma=dgamma, dbeta=dbeta)


FC_NORM_DIMS = dict(hidden_dims=[6, 5], input_dim=7, num_classes=4)


def _fc_norm_case(normalization):
    def compute(ref, a):
        model = ref.fc_net.FullyConnectedNet(normalization=normalization, dtype=np.float64, **FC_NORM_DIMS)
        out = _model_outputs(model, a, _fc_param_names(3, norm=True), a["reg"])
        # After the training-mode passes above (two of them), test-mode scores use the running stats.
        out["scores_after"] = model.loss(a["X"])
        return out
    return compute


CASES.case("Q5", "fc_batchnorm", 1505, "hidden [6,5], D 7, C 4, N 8; gamma 1+0.2*randn, beta 0.2*randn; reg 0.41",
           lambda rng: _fc_inputs(rng, norm=True, n=8, dims=FC_NORM_DIMS))(_fc_norm_case("batchnorm"))
CASES.case("Q5", "fc_layernorm", 1506, "hidden [6,5], D 7, C 4, N 8; gamma 1+0.2*randn, beta 0.2*randn; reg 0.41",
           lambda rng: _fc_inputs(rng, norm=True, n=8, dims=FC_NORM_DIMS))(_fc_norm_case("layernorm"))


# ---- Q6: dropout -------------------------------------------------------------------------------------
@CASES.case("Q6", "dropout", 1601, "x randn(200,250)+5; p (keep) in 0.3, 0.6, 0.85; dout randn(20,30), x_small randn+5",
      lambda rng: dict(x=_r(rng, 200, 250, shift=5.0), ps=np.array([0.3, 0.6, 0.85]),
                       x_small=_r(rng, 20, 30, shift=5.0), dout=_r(rng, 20, 30)))
def _dropout(ref, a):
    # Dropout is random: the suite checks statistics. The reference values recorded here are the
    # statistics of the reference (kept fraction per p), documenting what a correct layer gives.
    kept = []
    for p in a["ps"]:
        out, _ = ref.layers.dropout_forward(a["x"], {"mode": "train", "p": float(p), "seed": 5})
        kept.append(np.mean(out != 0))
    return dict(kept=np.array(kept))


FC_DROP_DIMS = dict(hidden_dims=[6, 5], input_dim=7, num_classes=4)


@CASES.case("Q6", "fc_dropout", 1602, "hidden [6,5], D 7, C 4, N 8; W 0.4*randn; keep 1 (no dropout) and keep 0.6",
      lambda rng: _fc_inputs(rng, n=8, dims=FC_DROP_DIMS))
def _fc_dropout(ref, a):
    model = ref.fc_net.FullyConnectedNet(dropout=1, dtype=np.float64, **FC_DROP_DIMS)
    return _model_outputs(model, a, _fc_param_names(3), a["reg"])


def _dropout_probe_inputs(rng):
    """One sample through a net whose every hidden unit is active whatever the dropout mask: the input and
    the first two weight matrices are non-negative and the hidden biases at least 0.5, so a hidden bias
    gets an exactly zero gradient only when dropout drops its unit."""
    sizes = [FC_DROP_DIMS["input_dim"]] + FC_DROP_DIMS["hidden_dims"] + [FC_DROP_DIMS["num_classes"]]
    a = {"X": np.abs(_r(rng, 1, sizes[0])), "y": rng.randint(sizes[-1], size=1)}
    for i in range(1, len(sizes)):
        last = i == len(sizes) - 1
        a[f"W{i}"] = _r(rng, sizes[i - 1], sizes[i], scale=0.4) if last else np.abs(_r(rng, sizes[i - 1], sizes[i], scale=0.2))
        a[f"b{i}"] = _r(rng, sizes[i], scale=0.1) if last else 0.5 + np.abs(_r(rng, sizes[i], scale=0.3))
    return a


@CASES.case("Q6", "fc_dropout_probe", 1603, "one sample; hidden [6,5], D 7, C 4; X |randn|, W1, W2 |0.2*randn|, b1, b2 >= 0.5 "
      "(every hidden unit active); W3 0.4*randn", _dropout_probe_inputs)
def _fc_dropout_probe(ref, a):
    model = ref.fc_net.FullyConnectedNet(dropout=1, dtype=np.float64, **FC_DROP_DIMS)
    for k in _fc_param_names(3):
        model.params[k] = a[k].copy()
    loss, _ = model.loss(a["X"], a["y"])
    return dict(scores=model.loss(a["X"]), loss_0=loss)


# ---- Q8: convolutional networks -----------------------------------------------------------------------
# Every conv and pooling case stays inside what the docstrings promise: (H + 2 * pad - HH) and
# (W + 2 * pad - WW) divisible by the stride (the official starters assert it), and likewise for pooling.
@CASES.case("Q8", "conv_forward", 1801, "x randn(3,2,7,5), w randn(4,2,3,3), b, stride 2 pad 1; "
      "x2 randn(2,3,5,6), w2 randn(2,3,3,2), b2, stride 1 pad 0",
      lambda rng: dict(x=_r(rng, 3, 2, 7, 5), w=_r(rng, 4, 2, 3, 3), b=_r(rng, 4),
                       x2=_r(rng, 2, 3, 5, 6), w2=_r(rng, 2, 3, 3, 2), b2=_r(rng, 2)))
def _conv_forward(ref, a):
    out, _ = ref.layers.conv_forward_naive(a["x"], a["w"], a["b"], {"stride": 2, "pad": 1})
    out2, _ = ref.layers.conv_forward_naive(a["x2"], a["w2"], a["b2"], {"stride": 1, "pad": 0})
    return dict(out=out, out2=out2)


@CASES.case("Q8", "conv_backward", 1802, "x randn(2,3,6,5), w randn(3,3,3,3), b, dout; stride 1 pad 1",
      lambda rng: dict(x=_r(rng, 2, 3, 6, 5), w=_r(rng, 3, 3, 3, 3), b=_r(rng, 3), dout=_r(rng, 2, 3, 6, 5)))
def _conv_backward(ref, a):
    _, cache = ref.layers.conv_forward_naive(a["x"], a["w"], a["b"], {"stride": 1, "pad": 1})
    dx, dw, db = ref.layers.conv_backward_naive(a["dout"], cache)
    return dict(dx=dx, dw=dw, db=db)


POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
POOL2 = {"pool_height": 3, "pool_width": 2, "stride": 2}


@CASES.case("Q8", "max_pool", 1803, "x randn(2,3,6,8) 2x2 stride 2; x2 randn(2,2,7,6) 3x2 stride 2; dout randn",
      lambda rng: dict(x=_r(rng, 2, 3, 6, 8), dout=_r(rng, 2, 3, 3, 4), x2=_r(rng, 2, 2, 7, 6),
                       dout2=_r(rng, 2, 2, 3, 3)))
def _max_pool(ref, a):
    out, cache = ref.layers.max_pool_forward_naive(a["x"], POOL)
    out2, cache2 = ref.layers.max_pool_forward_naive(a["x2"], POOL2)
    return dict(out=out, out2=out2, dx=ref.layers.max_pool_backward_naive(a["dout"], cache),
                dx2=ref.layers.max_pool_backward_naive(a["dout2"], cache2))


def _sbn_inputs(rng):
    N, C, H, W = 4, 3, 5, 6
    return dict(x=_r(rng, N, C, H, W, scale=3.0, shift=7.0), gamma=_r(rng, C, scale=0.5, shift=1.0),
                beta=_r(rng, C, scale=0.5), running_mean=_r(rng, C), running_var=np.abs(_r(rng, C, shift=1.0)),
                x_test=_r(rng, 2, C, H, W, scale=3.0, shift=7.0), dout=_r(rng, N, C, H, W), momentum=0.8, eps=1e-4)


@CASES.case("Q8", "spatial_batchnorm", 1804, "x 3*randn(4,3,5,6)+7, gamma, beta, running stats; momentum 0.8, eps 1e-4",
      _sbn_inputs)
def _spatial_batchnorm(ref, a):
    bn = {"mode": "train", "momentum": a["momentum"], "eps": a["eps"],
          "running_mean": a["running_mean"].copy(), "running_var": a["running_var"].copy()}
    out, cache = ref.layers.spatial_batchnorm_forward(a["x"], a["gamma"], a["beta"], bn)
    dx, dgamma, dbeta = ref.layers.spatial_batchnorm_backward(a["dout"], cache)
    test_param = {"mode": "test", "eps": a["eps"], "running_mean": a["running_mean"], "running_var": a["running_var"]}
    out_test, _ = ref.layers.spatial_batchnorm_forward(a["x_test"], a["gamma"], a["beta"], test_param)
    return dict(out=out, running_mean_after=bn["running_mean"], running_var_after=bn["running_var"],
                out_test=out_test, dx=dx, dgamma=dgamma, dbeta=dbeta)


@CASES.case("Q8", "spatial_groupnorm", 1805, "x 3*randn(3,6,4,5)+7, G 3, gamma/beta (1,6,1,1), dout; eps 1e-4",
      lambda rng: dict(x=_r(rng, 3, 6, 4, 5, scale=3.0, shift=7.0), gamma=_r(rng, 1, 6, 1, 1, scale=0.5, shift=1.0),
                       beta=_r(rng, 1, 6, 1, 1, scale=0.5), dout=_r(rng, 3, 6, 4, 5), G=3, eps=1e-4))
def _spatial_groupnorm(ref, a):
    out, cache = ref.layers.spatial_groupnorm_forward(a["x"], a["gamma"], a["beta"], a["G"], {"eps": a["eps"]})
    dx, dgamma, dbeta = ref.layers.spatial_groupnorm_backward(a["dout"], cache)
    return dict(out=out, dx=dx, dgamma=dgamma, dbeta=dbeta)


CNN_DIMS = dict(input_dim=(3, 10, 10), num_filters=4, filter_size=3, hidden_dim=7, num_classes=5)


def _cnn_inputs(rng):
    F, C, fs, H = 4, 3, 3, 7
    return dict(W1=_r(rng, F, C, fs, fs, scale=0.3), b1=_r(rng, F, scale=0.1), W2=_r(rng, F * 5 * 5, H, scale=0.1),
                b2=_r(rng, H, scale=0.1), W3=_r(rng, H, 5, scale=0.3), b3=_r(rng, 5, scale=0.1),
                X=_r(rng, 4, 3, 10, 10), y=rng.randint(5, size=4), reg=0.3)


@CASES.case("Q8", "three_layer_convnet", 1806, "input (3,10,10), 4 filters 3x3, hidden 7, C 5, N 4; reg 0.3",
      _cnn_inputs)
def _three_layer_convnet(ref, a):
    model = ref.cnn.ThreeLayerConvNet(dtype=np.float64, **CNN_DIMS)
    return _model_outputs(model, a, ("W1", "b1", "W2", "b2", "W3", "b3"), a["reg"])


@CASES.case("Q8", "cnn_init", 1807, "ThreeLayerConvNet(input_dim=(2,12,10), num_filters=6, filter_size=5, hidden_dim=20, "
      "num_classes=7, weight_scale=0.05)",
      lambda rng: dict(input_dim=np.array([2, 12, 10]), num_filters=6, filter_size=5, hidden_dim=20, num_classes=7,
                       weight_scale=0.05))
def _cnn_init(ref, a):
    kwargs = dict(a, input_dim=tuple(int(d) for d in a["input_dim"]))
    return _init_stats(ref.cnn.ThreeLayerConvNet(dtype=np.float64, **kwargs))


# ---- Q7: the hidden split for the best model ------------------------------------------------------
HIDDEN_SPLIT = ("t10k", 1000, 10000)


def training_mean_image() -> np.ndarray:
    """The mean image of the notebook's Fashion-MNIST training split (first 59000 images), float32."""
    images, _ = fashion_mnist("train", 0, 59000)
    return images.astype(np.float32).mean(axis=0, dtype=np.float64).astype(np.float32)


@CASES.fixed("Q7", "best_model", "mean image of Fashion-MNIST train[:59000] (float32), for t10k[1000:]")
def _best_model(ref):
    return {"mean_image": training_mean_image()}


def hidden_split(mean_image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST t10k[1000:] as ``(N, 1, 28, 28)`` float32 minus ``mean_image``, and labels."""
    images, labels = fashion_mnist(*HIDDEN_SPLIT)
    X = images.astype(np.float32)[:, None, :, :] - mean_image.reshape(1, 1, 28, 28)
    return X, labels
