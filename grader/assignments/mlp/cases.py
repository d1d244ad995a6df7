"""The mlp assignment's reference cases: the hidden inputs of every unit check, and how the reference answers.

Each case draws its inputs from its own ``np.random.RandomState`` (``grader.references.cases``); the recipe
says what it draws. The sizes the suites build nets with are defined here too (``MLP_SIZES``, ...), so a
suite and its cases cannot disagree. The reference's classes are used as the student's are: layers built
with the case's arrays, nets given the case's parameters in place (``load_params``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.references.cases import Cases

CASES = Cases()
Arrays = dict[str, Any]

MLP_SIZES = dict(input_size=12, hidden_size1=9, hidden_size2=7, output_size=5)
NET_SIZES = dict(input_size=10, hidden_size_list=[8, 6], output_size=4)
INIT_SIZES = dict(input_size=400, hidden_size_list=[300, 200], output_size=10)
OPTIMIZER_STEPS = 3
#: each update rule: its class, the keywords the case uses, the state attributes checked after each step
OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.1}, ()),
    "momentum": ("Momentum", {"lr": 0.05, "momentum": 0.85}, ("v",)),
    "nesterov": ("Nesterov", {"lr": 0.05, "momentum": 0.8}, ("v",)),
    "adagrad": ("AdaGrad", {"lr": 0.1}, ("h",)),
    "rmsprop": ("RMSprop", {"lr": 0.02, "decay_rate": 0.9}, ("h",)),
    "adam": ("Adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.95}, ("m", "v", "iter")),
    "adabelief": ("AdaBelief", {"lr": 0.02, "beta1": 0.8, "beta2": 0.95}, ("m", "s", "iter")),
}


def _r(rng, *shape, scale=1.0, shift=0.0):
    return scale * rng.randn(*shape) + shift


def load_params(net, params: Arrays) -> None:
    """Copy ``params`` into the reference ``net``'s arrays in place (its layers hold references to them)."""
    for k, v in params.items():
        np.copyto(net.params[k], v)


def _numerical(f, x, dout, h=1e-6):
    """d sum(f(x) * dout) / dx by centred differences (the reference's forward pass)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.sum(f(x) * dout)
        x[i] = old - h
        neg = np.sum(f(x) * dout)
        x[i] = old
        grad[i] = (pos - neg) / (2 * h)
        it.iternext()
    return grad


# ---- Q1: layers -----------------------------------------------------------------------------------------
def _activation(name, **kwargs):
    def compute(ref, a):
        layer = getattr(ref.layers, name)(**kwargs)
        out = layer.forward(a["x"].copy())
        dx = layer.backward(a["dout"].copy())
        fresh = lambda v: getattr(ref.layers, name)(**kwargs).forward(v)   # noqa: E731
        return dict(out=out, dx=dx, dx_num=_numerical(fresh, a["x"].copy(), a["dout"]))
    return compute


@CASES.case("Q1", "relu", 2101, "x randn(6,7) (no value within 1e-3 of 0), dout randn(6,7)",
            lambda rng: dict(x=_away_from_zero(_r(rng, 6, 7)), dout=_r(rng, 6, 7)))
def _relu(ref, a):
    return _activation("Relu")(ref, a)


@CASES.case("Q1", "leaky_relu", 2102, "x randn(5,8) (no value within 1e-3 of 0), alpha 0.01 and 0.2, dout randn(5,8)",
            lambda rng: dict(x=_away_from_zero(_r(rng, 5, 8)), dout=_r(rng, 5, 8)))
def _leaky_relu(ref, a):
    out = _activation("LeakyRelu")(ref, a)
    wide = _activation("LeakyRelu", alpha=0.2)(ref, a)
    return dict(out, out_02=wide["out"], dx_02=wide["dx"])


@CASES.case("Q1", "sigmoid", 2103, "x 3*randn(4,6), dout randn(4,6)",
            lambda rng: dict(x=_r(rng, 4, 6, scale=3.0), dout=_r(rng, 4, 6)))
def _sigmoid(ref, a):
    return _activation("Sigmoid")(ref, a)


def _away_from_zero(x, margin=1e-3):
    return np.where(np.abs(x) < margin, margin * np.sign(x + 1e-12) * 2, x)


@CASES.case("Q1", "affine", 2104, "x randn(3,2,2,5) (flattened to (3,20)), W randn(20,6), b randn(6), dout randn(3,6); "
            "x2 randn(5,7), W2 randn(7,3), b2 randn(3)",
            lambda rng: dict(x=_r(rng, 3, 2, 2, 5), W=_r(rng, 20, 6), b=_r(rng, 6), dout=_r(rng, 3, 6),
                             x2=_r(rng, 5, 7), W2=_r(rng, 7, 3), b2=_r(rng, 3)))
def _affine(ref, a):
    layer = ref.layers.Affine(a["W"].copy(), a["b"].copy())
    out = layer.forward(a["x"].copy())
    dx = layer.backward(a["dout"].copy())
    out2 = ref.layers.Affine(a["W2"], a["b2"]).forward(a["x2"])
    fresh = lambda v: ref.layers.Affine(a["W"], a["b"]).forward(v)   # noqa: E731
    return dict(out=out, dx=dx, dW=layer.dW, db=layer.db, out2=out2,
                dx_num=_numerical(fresh, a["x"].copy(), a["dout"]))


@CASES.case("Q1", "softmax_with_loss", 2105, "x 1.5*randn(30,8), t randint(8) and one-hot; x_big 30*randn(10,6)+900, t_big",
            lambda rng: dict(x=_r(rng, 30, 8, scale=1.5), t=rng.randint(8, size=30),
                             x_big=_r(rng, 10, 6, scale=30.0, shift=900.0), t_big=rng.randint(6, size=10)))
def _softmax_with_loss(ref, a):
    layer = ref.layers.SoftmaxWithLoss()
    loss = layer.forward(a["x"], a["t"])
    dx = layer.backward()
    big = ref.layers.SoftmaxWithLoss()
    loss_big = big.forward(a["x_big"], a["t_big"])
    return dict(loss=loss, dx=dx, loss_big=loss_big, dx_big=big.backward(), t_hot=np.eye(8)[a["t"]])


# ---- Q2: update rules -----------------------------------------------------------------------------------
def _optimizer_inputs(rng):
    return dict(W=_r(rng, 4, 3), b=_r(rng, 3), dW=_r(rng, OPTIMIZER_STEPS, 4, 3), db=_r(rng, OPTIMIZER_STEPS, 3))


def _optimizer_case(key):
    cls, kwargs, state = OPTIMIZERS[key]

    def compute(ref, a):
        opt = getattr(ref.optimizer, cls)(**kwargs)
        params = {"W": a["W"].copy(), "b": a["b"].copy()}
        out: Arrays = {}
        for step in range(OPTIMIZER_STEPS):
            opt.update(params, {"W": a["dW"][step].copy(), "b": a["db"][step].copy()})
            for k in params:
                out.setdefault(f"{k}_after", []).append(params[k].copy())
            for attr in state:
                value = getattr(opt, attr)
                if attr == "iter":
                    out.setdefault("iter_after", []).append(int(value))
                else:
                    for k in params:
                        out.setdefault(f"{attr}_{k}_after", []).append(value[k].copy())
        return {k: np.array(v) for k, v in out.items()}
    return compute


for _i, _key in enumerate(OPTIMIZERS):
    CASES.case("Q2", _key, 2201 + _i, "W randn(4,3), b randn(3); 3 steps of gradients dW randn(4,3), db randn(3)",
               _optimizer_inputs)(_optimizer_case(_key))


# ---- Q3: the three-layer MLP ----------------------------------------------------------------------------
def _mlp_inputs(rng):
    s = MLP_SIZES
    sizes = [s["input_size"], s["hidden_size1"], s["hidden_size2"], s["output_size"]]
    a = dict(X=_r(rng, 8, sizes[0]), t=rng.randint(sizes[-1], size=8))
    for i in range(1, 4):
        a[f"W{i}"] = _r(rng, sizes[i - 1], sizes[i], scale=np.sqrt(2.0 / sizes[i - 1]))
        a[f"b{i}"] = _r(rng, sizes[i], scale=0.1)
    return a


MLP_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


@CASES.case("Q3", "mlp", 2301, "X randn(8,12), t randint(5); W_i sqrt(2/fan_in)*randn, b_i 0.1*randn", _mlp_inputs)
def _mlp(ref, a):
    np.random.seed(0)
    net = ref.three_layer_net.ThreeLayerNet(**MLP_SIZES)
    load_params(net, {k: a[k] for k in MLP_KEYS})
    grads = net.gradient(a["X"], a["t"])
    out = dict(scores=net.predict(a["X"]), loss=net.loss(a["X"], a["t"]), accuracy=net.accuracy(a["X"], a["t"]),
               t_hot=np.eye(MLP_SIZES["output_size"])[a["t"]])
    out.update({f"grad_{k}": grads[k] for k in MLP_KEYS})
    return out


# ---- Q4: MultiLayerNet: activations, weight decay -------------------------------------------------------
def _net_inputs(rng):
    sizes = [NET_SIZES["input_size"]] + NET_SIZES["hidden_size_list"] + [NET_SIZES["output_size"]]
    a = dict(X=_r(rng, 7, sizes[0]), t=rng.randint(sizes[-1], size=7), weight_decay_lambda=0.05 + 0.1 * rng.rand())
    for i in range(1, len(sizes)):
        a[f"W{i}"] = _r(rng, sizes[i - 1], sizes[i], scale=0.5)
        a[f"b{i}"] = _r(rng, sizes[i], scale=0.1)
    return a


NET_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid")


@CASES.case("Q4", "multi_layer_net", 2401, "X randn(7,10), t randint(4), lambda 0.05+0.1*rand; W_i 0.5*randn, b_i 0.1*randn; "
            "each activation, with and without weight decay", _net_inputs)
def _multi_layer_net(ref, a):
    out: Arrays = {}
    params = {k: a[k] for k in NET_KEYS}
    for act in ACTIVATIONS:
        for tag, lam in (("0", 0.0), ("wd", a["weight_decay_lambda"])):
            net = ref.multi_layer_net.MultiLayerNet(**NET_SIZES, activation=act, weight_decay_lambda=lam)
            load_params(net, params)
            out[f"loss_{act}_{tag}"] = net.loss(a["X"], a["t"])
            out[f"scores_{act}_{tag}"] = net.predict(a["X"])
            for k, g in net.gradient(a["X"], a["t"]).items():
                out[f"grad_{act}_{tag}_{k}"] = g
    return out


# ---- Q5: batch normalization ----------------------------------------------------------------------------
def _bn_inputs(rng):
    D = 5
    return dict(x1=_r(rng, 16, D, scale=2.0, shift=3.0), x2=_r(rng, 16, D, scale=2.0, shift=3.0),
                x3=_r(rng, 16, D, scale=2.0, shift=3.0), x_test=_r(rng, 6, D, scale=2.0, shift=3.0),
                gamma=rng.rand(D) + 0.5, beta=_r(rng, D), momentum=0.8, dout=_r(rng, 16, D))


@CASES.case("Q5", "batchnorm", 2501, "x1, x2, x3 2*randn(16,5)+3 (three training batches), x_test (6,5), gamma rand+0.5, "
            "beta randn, momentum 0.8, dout randn(16,5)", _bn_inputs)
def _batchnorm(ref, a):
    BN = ref.layers.BatchNormalization
    layer = BN(a["gamma"].copy(), a["beta"].copy(), momentum=a["momentum"])
    out1 = layer.forward(a["x1"].copy(), train_flg=True)
    dx = layer.backward(a["dout"].copy())
    dgamma, dbeta = layer.dgamma, layer.dbeta
    mean_1, var_1 = layer.running_mean.copy(), layer.running_var.copy()
    layer.forward(a["x2"].copy(), train_flg=True)
    layer.forward(a["x3"].copy(), train_flg=True)
    fresh = lambda v: BN(a["gamma"], a["beta"]).forward(v, train_flg=True)   # noqa: E731
    return dict(out_train=out1, dx=dx, dgamma=dgamma, dbeta=dbeta, running_mean_1=mean_1, running_var_1=var_1,
                running_mean_3=layer.running_mean, running_var_3=layer.running_var,
                out_test=layer.forward(a["x_test"].copy(), train_flg=False),
                dx_num=_numerical(fresh, a["x1"].copy(), a["dout"]))


def _extend_inputs(rng):
    a = _net_inputs(rng)
    for i, h in enumerate(NET_SIZES["hidden_size_list"], start=1):
        a[f"gamma{i}"] = rng.rand(h) + 0.5
        a[f"beta{i}"] = _r(rng, h, scale=0.1)
    a["X"] = _r(rng, 12, NET_SIZES["input_size"])
    a["t"] = rng.randint(NET_SIZES["output_size"], size=12)
    return a


EXTEND_KEYS = NET_KEYS + ("gamma1", "beta1", "gamma2", "beta2")


@CASES.case("Q5", "extend_batchnorm", 2502, "X randn(12,10), t randint(4), lambda 0.05+0.1*rand, W_i 0.5*randn, b_i, "
            "gamma_i rand+0.5, beta_i 0.1*randn", _extend_inputs)
def _extend_batchnorm(ref, a):
    net = ref.multi_layer_net_extend.MultiLayerNetExtend(**NET_SIZES, use_batchnorm=True,
                                                         weight_decay_lambda=a["weight_decay_lambda"])
    load_params(net, {k: a[k] for k in EXTEND_KEYS})
    out = dict(loss_train=net.loss(a["X"], a["t"], train_flg=True))
    out.update({f"grad_{k}": g for k, g in net.gradient(a["X"], a["t"]).items()})
    return out


# ---- Q6: dropout ----------------------------------------------------------------------------------------
@CASES.case("Q6", "dropout", 2601, "ratio 0.2+0.5*rand, x 1+rand(200,250), dout randn(200,250)",
            lambda rng: dict(ratio=0.2 + 0.5 * rng.rand(), x=1.0 + rng.rand(200, 250), dout=_r(rng, 200, 250)))
def _dropout(ref, a):
    return dict(out_test=ref.layers.Dropout(a["ratio"]).forward(a["x"], train_flg=False))


@CASES.case("Q6", "extend_dropout", 2602, "ratio 0.2+0.5*rand, X randn(7,10), W_i 0.5*randn, b_i 0.1*randn",
            lambda rng: dict(_net_inputs(rng), ratio=0.2 + 0.5 * rng.rand()))
def _extend_dropout(ref, a):
    net = ref.multi_layer_net_extend.MultiLayerNetExtend(**NET_SIZES, use_dropout=True, dropout_ration=a["ratio"])
    load_params(net, {k: a[k] for k in NET_KEYS})
    return dict(scores_test=net.predict(a["X"], train_flg=False))


# ---- Q7: the homework's saved model ---------------------------------------------------------------------
HIDDEN_SPLIT = ("t10k", 1000, 10000)   # the notebooks see t10k[:1000]; the rest is the grader's


def hidden_split() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST t10k[1000:] as load_mnist() gives it (rows of 784 float32 in [0, 1]) and its labels."""
    from grader.references.datasets import fashion_mnist

    images, labels = fashion_mnist(*HIDDEN_SPLIT)
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0), labels
