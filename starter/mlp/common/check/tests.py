"""Public checks of the MLP homework: the hidden tests' names, on public inputs.

Each check builds the layers, update rules and nets of ``common`` on small fixed inputs (linspace arrays, or
draws of ``np.random.RandomState(231)``), compares with the values the solutions give on the same inputs
(``VALUES``; each comes from the ``value_...`` function named after it), checks every backward pass against
numerical gradients, and trains small nets on 50 random examples. The grader runs tests of the same names on
other inputs and on Fashion-MNIST.
"""
import numpy as np

from . import array, check, close, close_scalar, fail, lin, module, numeric_gradient

NOTEBOOK_PARTS = {
    "MLP": [("Q1", "## Gradient check"), ("Q3", "## Seven update rules, one network"), ("Q2", "## Inline Question 1"),
            ("Q7", None)],
    "WeightInit": [("Q4", None)],
    "BatchNorm": [("Q5", None)],
    "Regularization": [("Q6", None)],
}

MLP_SIZES = dict(input_size=12, hidden_size1=9, hidden_size2=7, output_size=5)
NET_SIZES = dict(input_size=10, hidden_size_list=[8, 6], output_size=4)
MLP_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
NET_KEYS = MLP_KEYS
EXTEND_KEYS = ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3")
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid")
WD_HINT = "the loss should include the weight decay term 0.5 * lambda * sum(W**2) over every W"
WD_GRAD_HINT = "the gradient of 0.5 * lambda * sum(W**2) is lambda * W: add it to dW"


def rng():
    return np.random.RandomState(231)


def layer_gradient(make, x, dout, what, tol=1e-6, *fwd_args):
    """``make().backward(dout)`` after its ``forward(x)`` against the numerical gradient of the forward pass
    of fresh layers (``make``: a function that builds the layer) -> the forward output."""
    layer = make()
    out = layer.forward(x, *fwd_args)
    dx = array(layer.backward(dout), f"{what}.backward(dout)", np.shape(x))
    numeric = numeric_gradient(lambda v: make().forward(v, *fwd_args), x.copy(), dout, h=1e-6)
    close_gradient(dx, numeric, f"{what}.backward(dout)", tol)
    return out


def close_gradient(actual, numeric, what, tol):
    """``actual`` against a numerical gradient, by the relative error of the whole array (entries near zero
    make the element-wise relative error noisy)."""
    g = array(actual, what, np.shape(numeric))
    err = float(np.linalg.norm(g - numeric) / max(1e-8, np.linalg.norm(g) + np.linalg.norm(numeric)))
    if not err <= tol:
        fail(f"{what}: relative error {err:.2e} against a numerical gradient (at most {tol:.0e})")


def net_gradient(net, X, t, keys, tol, loss=None):
    """``net.gradient(X, t)`` against finite differences of ``net.loss`` (the params changed in place: the
    layers hold references to them)."""
    loss = loss or (lambda: net.loss(X, t))
    grads = net.gradient(X, t)
    if not isinstance(grads, dict) or sorted(grads) != sorted(keys):
        fail(f"net.gradient(X, t) should return a dict of {', '.join(keys)}, got "
             f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    for k in keys:
        numeric = numeric_gradient(lambda _: loss(), net.params[k], 1.0, h=1e-6)
        close_gradient(grads[k], numeric, f"net.gradient(X, t)[{k!r}]", tol)


def load_params(net, values):
    """Copy ``values`` into ``net.params`` in place (the layers hold references to those arrays)."""
    params = getattr(net, "params", None)
    if not isinstance(params, dict) or any(k not in params for k in values):
        fail(f"net.params should hold {', '.join(values)}; it holds "
             f"{sorted(params) if isinstance(params, dict) else params!r}")
    for k, v in values.items():
        arr = params[k]
        if not isinstance(arr, np.ndarray) or arr.shape != np.shape(v):
            fail(f"net.params[{k!r}] should be an array of shape {np.shape(v)}")
        np.copyto(arr, v)


def fixed(keys, sizes):
    """Deterministic parameters for a net of layer ``sizes`` (``keys`` of ``W``, ``b``, ``gamma``, ``beta``)."""
    out = {}
    for i in range(1, len(sizes)):
        out[f"W{i}"] = lin((sizes[i - 1], sizes[i]), -0.5 + 0.1 * i, 0.6 - 0.05 * i)
        out[f"b{i}"] = lin((sizes[i],), -0.1 * i, 0.1)
        if f"gamma{i}" in keys:
            out[f"gamma{i}"] = lin((sizes[i],), 0.8, 1.3)
            out[f"beta{i}"] = lin((sizes[i],), -0.2, 0.3)
    return {k: out[k] for k in keys}


def train_small(net, update, steps=200):
    """Plain gradient steps of ``net`` on 50 random examples of 5 classes -> the accuracy on them."""
    r = rng()
    X = r.randn(50, net.params["W1"].shape[0])
    t = r.randint(5, size=50)
    for _ in range(steps):
        update(net.params, net.gradient(X, t))
    return float(np.mean(np.argmax(array(net.predict(X), "net.predict(X)"), axis=1) == t))


def sgd(lr):
    def update(params, grads):
        for k in params:
            params[k] -= lr * grads[k]
    return update


# ============================================================================================== Q1
X_ACT = lin((3, 4), -0.5, 0.5)


def value_leaky():
    return module("layers").LeakyRelu().forward(X_ACT.copy())


def value_leaky_02():
    return module("layers").LeakyRelu(alpha=0.2).forward(X_ACT.copy())


def value_sigmoid():
    return module("layers").Sigmoid().forward(X_ACT.copy())


def _affine_inputs():
    return lin((3, 2, 2, 5), -0.4, 0.7), lin((20, 4), -0.3, 0.2), lin((4,), -0.1, 0.3)


def value_affine():
    x, W, b = _affine_inputs()
    return module("layers").Affine(W, b).forward(x)


def value_affine2():
    return module("layers").Affine(lin((7, 3), 0.3, -0.4), lin((3,), 0.2, -0.1)).forward(lin((5, 7), -1.0, 1.0))


X_SOFT = lin((4, 5), -1.0, 2.0)
T_SOFT = np.array([0, 3, 1, 4])


def value_softmax_loss():
    return module("layers").SoftmaxWithLoss().forward(X_SOFT.copy(), T_SOFT)


@check("Q1", "test_relu", hint="Relu.forward keeps a mask of x <= 0 and zeroes those units; backward zeroes dout there")
def test_relu():
    out = layer_gradient(module("layers").Relu, X_ACT.copy(), rng().randn(3, 4), "Relu")
    close(out, np.maximum(X_ACT, 0), "Relu.forward(x)", 1e-12)


@check("Q1", "test_leaky_relu",
       hint="LeakyRelu.forward is x where x > 0 and alpha * x elsewhere (alpha 0.01 by default); backward "
            "multiplies dout by 1 or alpha")
def test_leaky_relu():
    L = module("layers")
    dout = rng().randn(3, 4)
    close(layer_gradient(L.LeakyRelu, X_ACT.copy(), dout, "LeakyRelu"), VALUES["leaky"], "LeakyRelu.forward(x)",
          1e-9)
    close(layer_gradient(lambda: L.LeakyRelu(alpha=0.2), X_ACT.copy(), dout, "LeakyRelu(alpha=0.2)"), VALUES["leaky_02"],
          "LeakyRelu(alpha=0.2).forward(x)", 1e-9)


@check("Q1", "test_sigmoid",
       hint="Sigmoid.forward is 1 / (1 + exp(-x)) and keeps its output; backward is dout * out * (1 - out)")
def test_sigmoid():
    out = layer_gradient(module("layers").Sigmoid, X_ACT.copy(), rng().randn(3, 4), "Sigmoid")
    close(out, VALUES["sigmoid"], "Sigmoid.forward(x)", 1e-9)


@check("Q1", "test_affine_forward",
       hint="Affine.forward reshapes x into rows (x.reshape(x.shape[0], -1)), keeps the original shape for "
            "backward, and returns x_rows @ W + b")
def test_affine_forward():
    close(value_affine(), VALUES["affine"], "Affine(W, b).forward(x) for x of shape (3, 2, 2, 5)", 1e-9)
    close(value_affine2(), VALUES["affine2"], "Affine(W, b).forward(x) for x of shape (5, 7)", 1e-9)


@check("Q1", "test_affine_backward",
       hint="Affine.backward: dx = dout @ W.T reshaped to the original x, self.dW = x_rows.T @ dout, self.db = "
            "dout summed over the examples")
def test_affine_backward():
    x, W, b = _affine_inputs()
    Affine = module("layers").Affine
    dout = rng().randn(3, 4)
    layer_gradient(lambda: Affine(W, b), x, dout, "Affine")
    layer = Affine(W, b)
    layer.forward(x)
    layer.backward(dout)
    close(getattr(layer, "dW", None), numeric_gradient(lambda _: layer.forward(x), W, dout, h=1e-6),
          "Affine.dW after backward", 1e-6)
    close(getattr(layer, "db", None), numeric_gradient(lambda _: layer.forward(x), b, dout, h=1e-6),
          "Affine.db after backward", 1e-6)


def _softmax_check(t, what):
    L = module("layers")
    layer = L.SoftmaxWithLoss()
    loss = layer.forward(X_SOFT.copy(), t)
    close_scalar(loss, float(VALUES["softmax_loss"]), f"SoftmaxWithLoss.forward(x, t) with {what} labels", 1e-8)
    dx = array(layer.backward(), f"SoftmaxWithLoss.backward() with {what} labels", X_SOFT.shape)
    numeric = numeric_gradient(lambda v: L.SoftmaxWithLoss().forward(v, t), X_SOFT.copy(), 1.0, h=1e-6)
    close(dx, numeric, f"SoftmaxWithLoss.backward() with {what} labels against a numerical gradient", 1e-6)


@check("Q1", "test_softmax_with_loss",
       hint="SoftmaxWithLoss.forward subtracts each row's maximum before the softmax (scores around 900 must not "
            "overflow) and returns the mean cross-entropy; backward returns (y - t) / batch_size")
def test_softmax_with_loss():
    _softmax_check(T_SOFT, "integer")
    layer = module("layers").SoftmaxWithLoss()
    loss = layer.forward(X_SOFT + 900.0, T_SOFT)
    close_scalar(loss, float(VALUES["softmax_loss"]), "SoftmaxWithLoss.forward for scores around 900 (subtract the "
                 "max)", 1e-8)


@check("Q1", "test_softmax_with_loss_one_hot",
       hint="SoftmaxWithLoss accepts one-hot labels too: t of the shape of x gives the same loss and gradient")
def test_softmax_with_loss_one_hot():
    _softmax_check(np.eye(5)[T_SOFT], "one-hot")


# ============================================================================================== Q2
OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.1}), "momentum": ("Momentum", {"lr": 0.05, "momentum": 0.85}),
    "nesterov": ("Nesterov", {"lr": 0.05, "momentum": 0.8}), "adagrad": ("AdaGrad", {"lr": 0.1}),
    "rmsprop": ("RMSprop", {"lr": 0.02, "decay_rate": 0.9}),
    "adam": ("Adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.95}),
    "adabelief": ("AdaBelief", {"lr": 0.02, "beta1": 0.8, "beta2": 0.95}),
}
STEPS = 3


def _optimize(key):
    """Three updates of one optimizer on W (2, 3) and b (3,) -> (params after, the arrays passed in)."""
    cls, kwargs = OPTIMIZERS[key]
    opt = getattr(module("optimizer"), cls)(**kwargs)
    params = {"W": lin((2, 3), -0.4, 0.5), "b": lin((3,), 0.1, -0.2)}
    arrays = dict(params)
    for step in range(STEPS):
        opt.update(params, {"W": lin((2, 3), 0.3, -0.6) * (step + 1) - 0.1, "b": lin((3,), -0.2, 0.4) / (step + 1)})
    return opt, params, arrays


def _value_optimizer(key):
    _, params, _ = _optimize(key)
    return np.concatenate([params["W"].ravel(), params["b"].ravel()])


def _check_optimizer(key, counter=False):
    cls = OPTIMIZERS[key][0]
    opt, params, arrays = _optimize(key)
    for k in ("W", "b"):
        if params[k] is not arrays[k]:
            fail(f"{cls}.update must change params[{k!r}] in place (params[key] -= ...): the layers hold "
                 "references to these arrays")
    got = np.concatenate([array(params["W"], "params['W']", (2, 3)).ravel(), array(params["b"], "params['b']",
                                                                                      (3,)).ravel()])
    close(got, VALUES[f"opt_{key}"], f"params after {STEPS} {cls} updates", 1e-8)
    if counter and getattr(opt, "iter", None) != STEPS:
        fail(f"{cls}.iter is {getattr(opt, 'iter', None)!r} after {STEPS} updates (one per call)")


for _key in OPTIMIZERS:
    globals()[f"value_opt_{_key}"] = (lambda key: lambda: _value_optimizer(key))(_key)


@check("Q2", "test_sgd", hint="SGD.update: params[key] -= lr * grads[key], in place")
def test_sgd():
    _check_optimizer("sgd")


@check("Q2", "test_momentum",
       hint="the velocity is v = momentum * v - lr * g, and the update p += v")
def test_momentum():
    _check_optimizer("momentum")


@check("Q2", "test_nesterov",
       hint="Nesterov.update: v = momentum * v - lr * grad; params += momentum * momentum * v - (1 + momentum) * lr "
            "* grad")
def test_nesterov():
    _check_optimizer("nesterov")


@check("Q2", "test_adagrad",
       hint="AdaGrad.update: h += grad * grad; 1e-7 goes outside the square root: p -= lr * g / (sqrt(h) + 1e-7)")
def test_adagrad():
    _check_optimizer("adagrad")


@check("Q2", "test_rmsprop",
       hint="h decays: h = decay_rate * h + (1 - decay_rate) * g * g; 1e-7 goes outside the square root: "
            "p -= lr * g / (sqrt(h) + 1e-7)")
def test_rmsprop():
    _check_optimizer("rmsprop")


@check("Q2", "test_adam",
       hint="use the bias-corrected rate lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter), with iter "
            "incremented before it is used")
def test_adam():
    _check_optimizer("adam", counter=True)


@check("Q2", "test_adabelief",
       hint="AdaBelief's second moment tracks (g - m)**2 (with the updated m), not g**2 as Adam's does")
def test_adabelief():
    _check_optimizer("adabelief", counter=True)


# ============================================================================================== Q3
X_MLP = lin((4, 12), -1.0, 1.5)
T_MLP = np.array([0, 3, 1, 4])


def _mlp():
    net = module("three_layer_net").ThreeLayerNet(**MLP_SIZES)
    load_params(net, fixed(MLP_KEYS, [12, 9, 7, 5]))
    return net


def value_mlp_scores():
    return _mlp().predict(X_MLP)


def value_mlp_loss():
    return _mlp().loss(X_MLP, T_MLP)


def value_mlp_accuracy():
    return _mlp().accuracy(X_MLP, T_MLP)


@check("Q3", "test_mlp_layers",
       hint="ThreeLayerNet keeps W1..W3 (He-scaled randn) and zero b1..b3 in self.params and self.layers, an "
            "OrderedDict Affine1, LeakyRelu1, Affine2, LeakyRelu2, Affine3 built on those arrays")
def test_mlp_layers():
    net = module("three_layer_net").ThreeLayerNet(**MLP_SIZES)
    params = getattr(net, "params", {})
    sizes = [12, 9, 7, 5]
    for i in range(1, 4):
        array(params.get(f"W{i}"), f"net.params['W{i}']", (sizes[i - 1], sizes[i]))
        if not np.all(array(params.get(f"b{i}"), f"net.params['b{i}']", (sizes[i],)) == 0):
            fail(f"net.params['b{i}'] should start at zero")
    names = list(getattr(net, "layers", {}) or {})
    wanted = ["Affine1", "LeakyRelu1", "Affine2", "LeakyRelu2", "Affine3"]
    if names != wanted:
        fail(f"net.layers should be an OrderedDict of {', '.join(wanted)} in this order; it has {names}")


@check("Q3", "test_mlp_scores_and_loss",
       hint="predict runs the layers in order; loss is the SoftmaxWithLoss of the scores; accuracy compares "
            "argmax of the scores with the labels")
def test_mlp_scores_and_loss():
    close(value_mlp_scores(), VALUES["mlp_scores"], "net.predict(X)", 1e-9)
    close_scalar(value_mlp_loss(), float(VALUES["mlp_loss"]), "net.loss(X, t)", 1e-9)
    close_scalar(value_mlp_accuracy(), float(VALUES["mlp_accuracy"]), "net.accuracy(X, t)", 1e-12)


@check("Q3", "test_mlp_gradient",
       hint="gradient: loss forward, then backward from the last layer (dout = 1) through the layers in reverse "
            "order; the grads are the Affine layers' dW and db")
def test_mlp_gradient():
    net_gradient(_mlp(), X_MLP, T_MLP, MLP_KEYS, 1e-6)


@check("Q3", "test_mlp_one_hot_labels",
       hint="loss, gradient and accuracy must accept one-hot labels (t.ndim != 1: np.argmax(t, axis=1))")
def test_mlp_one_hot_labels():
    net = _mlp()
    hot = np.eye(5)[T_MLP]
    close_scalar(net.loss(X_MLP, hot), float(VALUES["mlp_loss"]), "net.loss(X, one-hot t)", 1e-9)
    close_scalar(net.accuracy(X_MLP, hot), float(VALUES["mlp_accuracy"]), "net.accuracy(X, one-hot t)", 1e-12)
    net_gradient(net, X_MLP, hot, MLP_KEYS, 1e-6)


@check("Q3", "test_mlp_training",
       hint="with its gradient, the ThreeLayerNet learns 50 random examples by heart in a few hundred steps")
def test_mlp_training():
    net = module("three_layer_net").ThreeLayerNet(input_size=20, hidden_size1=50, hidden_size2=50, output_size=5)
    acc = train_small(net, sgd(0.1))
    if not acc >= 0.9:
        fail(f"after 200 gradient steps, the net classifies {acc:.0%} of its 50 training examples (at least 90%)")


# ============================================================================================== Q4
X_NET = lin((5, 10), -1.0, 1.0) ** 3
T_NET = np.array([0, 3, 1, 2, 3])


def _net(activation, lam):
    net = module("multi_layer_net").MultiLayerNet(**NET_SIZES, activation=activation, weight_decay_lambda=lam)
    load_params(net, fixed(NET_KEYS, [10, 8, 6, 4]))
    return net


for _act in ACTIVATIONS:
    globals()[f"value_scores_{_act}"] = (lambda a: lambda: _net(a, 0.0).predict(X_NET))(_act)
    globals()[f"value_loss_{_act}"] = (lambda a: lambda: _net(a, 0.0).loss(X_NET, T_NET))(_act)
    globals()[f"value_loss_wd_{_act}"] = (lambda a: lambda: _net(a, 0.3).loss(X_NET, T_NET))(_act)


@check("Q4", "test_init_scales",
       hint="'he'/'relu' is sqrt(2 / fan_in), 'xavier'/'sigmoid' sqrt(1 / fan_in), a number that standard "
            "deviation itself, with fan_in the number of inputs of the layer")
def test_init_scales():
    sizes = [400, 300, 200, 10]
    for init in ("he", "relu", "xavier", "sigmoid", 0.03):
        net = module("multi_layer_net").MultiLayerNet(400, [300, 200], 10, weight_init_std=init)
        for i in range(1, 4):
            W = array(net.params.get(f"W{i}"), f"params['W{i}']", (sizes[i - 1], sizes[i]))
            scale = {"he": 2.0, "relu": 2.0, "xavier": 1.0, "sigmoid": 1.0}
            expected = np.sqrt(scale[init] / sizes[i - 1]) if isinstance(init, str) else init
            if not abs(W.std() / expected - 1) <= max(0.05, 5.0 / np.sqrt(2.0 * W.size)):
                fail(f"weight_init_std={init!r}: the standard deviation of W{i} (fan-in {sizes[i - 1]}) is "
                     f"{W.std() / expected:.3g} times what it should be")
            if not np.all(array(net.params.get(f"b{i}"), f"params['b{i}']", (sizes[i],)) == 0):
                fail(f"params['b{i}'] should start at zero")


@check("Q4", "test_activations",
       hint="MultiLayerNet puts the activation named by `activation` ('relu', 'leaky_relu', 'sigmoid') after "
            "every hidden Affine layer")
def test_activations():
    for act in ACTIVATIONS:
        net = _net(act, 0.0)
        close(net.predict(X_NET), VALUES[f"scores_{act}"], f"MultiLayerNet(activation={act!r}).predict(X)", 1e-9)
        net_gradient(net, X_NET, T_NET, NET_KEYS, 1e-5)


@check("Q4", "test_weight_decay_loss", hint=WD_HINT)
def test_weight_decay_loss():
    for act in ACTIVATIONS:
        loss = _net(act, 0.3).loss(X_NET, T_NET)
        close_scalar(loss, float(VALUES[f"loss_wd_{act}"]), f"net.loss(X, t) with weight_decay_lambda (activation "
                     f"{act!r})", 1e-9)


@check("Q4", "test_weight_decay_gradient", hint=WD_GRAD_HINT)
def test_weight_decay_gradient():
    for act in ACTIVATIONS:
        net_gradient(_net(act, 0.3), X_NET, T_NET, NET_KEYS, 1e-5)


# ============================================================================================== Q5
GAMMA, BETA = lin((5,), 0.5, 2.0), lin((5,), -1.0, 1.0)


def _bn_batches():
    r = rng()
    return [3.0 * r.randn(8, 5) + lin((5,), -2.0, 4.0) for _ in range(3)] + [2.0 * r.randn(6, 5) + 1.0]


def _bn():
    return module("layers").BatchNormalization(GAMMA.copy(), BETA.copy(), momentum=0.9)


def value_bn_test():
    layer = _bn()
    *train, test = _bn_batches()
    for x in train:
        layer.forward(x, True)
    return layer.forward(test, False)


def _extend():
    net = module("multi_layer_net_extend").MultiLayerNetExtend(**NET_SIZES, use_batchnorm=True,
                                                               weight_decay_lambda=0.1)
    load_params(net, fixed(EXTEND_KEYS, [10, 8, 6, 4]))
    return net


def value_extend_loss():
    return _extend().loss(X_NET, T_NET, True)


@check("Q5", "test_batchnorm_forward_train",
       hint="at training time out = gamma * (x - mean) / sqrt(var + 10e-7) + beta, with the mean and the (biased) "
            "variance of the batch")
def test_batchnorm_forward_train():
    x = _bn_batches()[0]
    out = array(_bn().forward(x, True), "BatchNormalization.forward(x, train_flg=True)", x.shape)
    if not np.all(np.abs(out.mean(axis=0) - BETA) <= 1e-7):
        fail("BatchNormalization.forward(x, train_flg=True): the means of the output should be beta")
    close(out.std(axis=0), GAMMA * np.sqrt(x.var(axis=0) / (x.var(axis=0) + 10e-7)),
          "BatchNormalization.forward(x, train_flg=True): the standard deviations of the output", 1e-7)


@check("Q5", "test_batchnorm_running_stats",
       hint="running_mean and running_var start at zeros; each training batch makes them momentum * running + "
            "(1 - momentum) * the batch's mean and variance")
def test_batchnorm_running_stats():
    layer = _bn()
    batches = _bn_batches()[:3]
    mean, var = np.zeros(5), np.zeros(5)
    for n, x in enumerate(batches, start=1):
        layer.forward(x, True)
        mean, var = 0.9 * mean + 0.1 * x.mean(axis=0), 0.9 * var + 0.1 * x.var(axis=0)
        close(getattr(layer, "running_mean", None), mean, f"running_mean after {n} training batch(es)", 1e-9)
        close(getattr(layer, "running_var", None), var, f"running_var after {n} training batch(es)", 1e-9)


@check("Q5", "test_batchnorm_forward_test",
       hint="at test time (train_flg=False) normalise with running_mean and running_var, not the batch's")
def test_batchnorm_forward_test():
    close(value_bn_test(), VALUES["bn_test"], "BatchNormalization.forward(x, train_flg=False)", 1e-8)


@check("Q5", "test_batchnorm_backward",
       hint="backward through the normalisation step by step (x - mean, the variance, its square root, the "
            "division), summing over the batch for the mean and the variance; keep dgamma and dbeta")
def test_batchnorm_backward():
    x = _bn_batches()[0]
    dout = np.random.RandomState(232).randn(8, 5)     # not the draws of x: dx would be about zero
    layer_gradient(_bn, x, dout, "BatchNormalization", 1e-7, True)
    layer = _bn()
    layer.forward(x, True)
    layer.backward(dout)
    close(getattr(layer, "dgamma", None), numeric_gradient(lambda _: layer.forward(x, True), layer.gamma, dout,
                                                           h=1e-6), "BatchNormalization.dgamma", 1e-6)
    close(getattr(layer, "dbeta", None), numeric_gradient(lambda _: layer.forward(x, True), layer.beta, dout,
                                                          h=1e-6), "BatchNormalization.dbeta", 1e-6)


@check("Q5", "test_extend_batchnorm_gradient",
       hint="with use_batchnorm, every hidden layer is Affine - BatchNormalization - activation, with gamma and "
            "beta in params; gradient backpropagates through them (with train_flg=True) and adds weight decay "
            "to the W's only")
def test_extend_batchnorm_gradient():
    net = _extend()
    close_scalar(net.loss(X_NET, T_NET, True), float(VALUES["extend_loss"]),
                 "MultiLayerNetExtend(use_batchnorm=True).loss(X, t, train_flg=True)", 1e-8)
    net_gradient(net, X_NET, T_NET, EXTEND_KEYS, 1e-5, loss=lambda: net.loss(X_NET, T_NET, True))


@check("Q5", "test_batchnorm_training",
       hint="a MultiLayerNetExtend with batch normalization learns 50 random examples by heart with its gradient")
def test_batchnorm_training():
    net = module("multi_layer_net_extend").MultiLayerNetExtend(20, [50, 50], 5, use_batchnorm=True)
    acc = train_small(net, sgd(0.1))
    if not acc >= 0.9:
        fail(f"after 200 gradient steps, the net classifies {acc:.0%} of its 50 training examples (at least 90%)")


# ============================================================================================== Q6
RATIO = 0.3
DROP_HINT = "dropout_ratio is the fraction of units DROPPED: keep a unit when np.random.rand() > dropout_ratio"


def _drop_input():
    return rng().randn(200, 200) + 5.0


@check("Q6", "test_dropout_forward_train",
       hint="at training time Dropout keeps each unit when np.random.rand(...) > dropout_ratio (a new mask every "
            "call) and zeroes the others, without rescaling")
def test_dropout_forward_train():
    x = _drop_input()
    layer = module("layers").Dropout(RATIO)
    out = array(layer.forward(x, True), "Dropout.forward(x, train_flg=True)", x.shape)
    kept = out != 0
    if not np.all(np.isclose(out[kept], x[kept], rtol=1e-12, atol=0)):
        fail("Dropout.forward(x, train_flg=True): a unit that is kept must keep its value (no scaling at training "
             "time in this convention)")
    fraction = float(kept.mean())
    if abs(fraction - RATIO) <= 0.02:
        fail(f"Dropout(dropout_ratio={RATIO}) kept {fraction:.1%} of the units", DROP_HINT)
    if not abs(fraction - (1 - RATIO)) <= 0.02:
        fail(f"Dropout(dropout_ratio={RATIO}) kept {fraction:.1%} of the units (about {1 - RATIO:.0%} expected)")
    again = array(layer.forward(x, True), "Dropout.forward(x, train_flg=True)", x.shape)
    if np.array_equal(again != 0, kept):
        fail("Dropout.forward draws the same mask every time: draw a new one on every call (np.random)")


@check("Q6", "test_dropout_forward_test",
       hint="at test time the output is x * (1 - dropout_ratio), the ratio being the one dropped")
def test_dropout_forward_test():
    x = _drop_input()
    close(module("layers").Dropout(RATIO).forward(x, False), x * (1 - RATIO), "Dropout.forward(x, train_flg=False)",
          1e-12)


@check("Q6", "test_dropout_backward",
       hint="Dropout.backward passes dout through the units the last forward kept (dout * self.mask)")
def test_dropout_backward():
    x = _drop_input()
    layer = module("layers").Dropout(RATIO)
    out = array(layer.forward(x, True), "Dropout.forward(x, train_flg=True)", x.shape)
    dout = rng().randn(*x.shape)
    close(layer.backward(dout), dout * (out != 0), "Dropout.backward(dout) (through the units kept by the last "
          "forward)", 1e-12)


def _extend_dropout():
    net = module("multi_layer_net_extend").MultiLayerNetExtend(**NET_SIZES, use_dropout=True, dropout_ration=RATIO)
    load_params(net, fixed(NET_KEYS, [10, 8, 6, 4]))
    return net


def value_dropout_scores():
    return _extend_dropout().predict(X_NET, False)


@check("Q6", "test_extend_dropout",
       hint="with use_dropout, a Dropout layer follows every hidden activation; predict passes train_flg on, so "
            "test-mode scores are deterministic and training-mode ones vary")
def test_extend_dropout():
    net = _extend_dropout()
    close(net.predict(X_NET, False), VALUES["dropout_scores"],
          "MultiLayerNetExtend(use_dropout=True).predict(X, train_flg=False)", 1e-9)
    first = array(net.predict(X_NET, True), "predict(X, train_flg=True)")
    second = array(net.predict(X_NET, True), "predict(X, train_flg=True)")
    if np.array_equal(first, second):
        fail("predict(X, train_flg=True) gave the same scores twice: the Dropout layers must draw new masks")


# ============================================================================================== Q7
_ACCURACY = {}


def _model_accuracy():
    """The accuracy of mlp_model.npz (in the current folder, else beside the package) on the public test
    images (the first 1000 of Fashion-MNIST's test set; the grader measures it on the others)."""
    from pathlib import Path
    beside = Path(__file__).resolve().parent.parent.parent / "mlp_model.npz"
    path = next((p for p in (Path("mlp_model.npz").resolve(), beside) if p.is_file()), beside)
    if not path.is_file():
        fail("mlp_model.npz is missing: run MLP.ipynb's last cells, which save it")
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _ACCURACY:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        missing = [k for k in MLP_KEYS if k not in arrays]
        if missing or sorted(arrays) != sorted(MLP_KEYS):
            fail(f"mlp_model.npz should hold exactly {', '.join(MLP_KEYS)}; it holds {sorted(arrays)}")
        h1, h2 = arrays["W1"].shape[1], arrays["W2"].shape[1]
        net = module("three_layer_net").ThreeLayerNet(input_size=784, hidden_size1=h1, hidden_size2=h2,
                                                      output_size=10)
        load_params(net, arrays)
        mnist = module("mnist")
        try:
            (_, _), (x_test, t_test) = mnist.load_mnist(folder=mnist.find_dataset("fashion-mnist")[0])
        except (FileNotFoundError, OSError) as exc:
            fail(f"Fashion-MNIST is not installed here, so the model cannot be evaluated ({exc})")
        scores = array(net.predict(x_test[:1000]), "the model's scores", (1000, 10))
        _ACCURACY.clear()
        _ACCURACY[key] = float(np.mean(np.argmax(scores, axis=1) == t_test[:1000]))
    return _ACCURACY[key]


def _tier(level):
    acc = _model_accuracy()
    if not acc >= level:
        fail(f"mlp_model.npz classifies {acc:.1%} of the public test images correctly; this tier needs {level:.0%}")


@check("Q7", "test_mlp_model_loads",
       hint="save the trained ThreeLayerNet's params: np.savez('mlp_model.npz', **{k: net.params[k] for k in "
            "('W1', 'b1', 'W2', 'b2', 'W3', 'b3')})")
def test_mlp_model_loads():
    _model_accuracy()


@check("Q7", "test_mlp_model_accuracy_80",
       hint="an untrained net is at about 10%: train the ThreeLayerNet on the whole training set before saving")
def test_mlp_model_accuracy_80():
    _tier(0.80)


@check("Q7", "test_mlp_model_accuracy_83",
       hint="a linear classifier reaches about 84%: a few epochs of Adam with a sensible learning rate get there")
def test_mlp_model_accuracy_83():
    _tier(0.83)


@check("Q7", "test_mlp_model_accuracy_85",
       hint="85% needs the tuned homework net (e.g. two epochs of Adam, He initialisation)")
def test_mlp_model_accuracy_85():
    _tier(0.85)


# The solutions' values on the public inputs above (VALUES[name] is what value_<name>() gives).
VALUES = {'affine': [[0.479081742115, 0.584202245584, 0.689322749052, 0.794443252521],
                     [0.035400128728, 0.187720803833, 0.340041478939, 0.492362154044],
                     [-0.40828148466, -0.208760637917, -0.009239791175, 0.190281055567]],
          'affine2': [[0.113529411765, 0.165294117647, 0.217058823529], [0.070294117647, 0.021176470588, -0.027941176471],
                      [0.027058823529, -0.122941176471, -0.272941176471],
                      [-0.016176470588, -0.267058823529, -0.517941176471],
                      [-0.059411764706, -0.411176470588, -0.762941176471]],
          'bn_test': [[-1.008899633141, -0.464896167482, 0.824339125512, 1.958338160399, 2.088805921918],
                      [-1.208119847321, -0.722591441456, 3.866836550266, -4.39406024418, 4.069392907925],
                      [-1.136722546848, 0.505158211494, -3.711049582568, -2.631638191973, -3.347178498713],
                      [1.662488814681, 1.508682927541, -0.784907723323, 1.439788927462, -1.916878877601],
                      [-0.738440860525, 0.295632331727, -1.323649557048, -0.434809471258, 2.428344242436],
                      [-0.241248686955, 1.105559845027, -2.973506610381, -0.364942920622, -5.252371044703]],
          'dropout_scores': [[-0.247485835186, -0.10963894654, 0.028207942106, 0.166054830752],
                             [-0.198437826606, -0.054441859826, 0.089554106954, 0.233550073734],
                             [-0.231613493348, -0.0917353088, 0.048142875747, 0.188021060295],
                             [-0.118890211012, 0.038010583477, 0.194911377965, 0.351812172454],
                             [0.223124949174, 0.457832456893, 0.692539964611, 0.92724747233]],
          'extend_loss': 1.8288747111164452,
          'leaky': [[-0.005, -0.004090909091, -0.003181818182, -0.002272727273],
                    [-0.001363636364, -0.000454545455, 0.045454545455, 0.136363636364],
                    [0.227272727273, 0.318181818182, 0.409090909091, 0.5]],
          'leaky_02': [[-0.1, -0.081818181818, -0.063636363636, -0.045454545455],
                       [-0.027272727273, -0.009090909091, 0.045454545455, 0.136363636364],
                       [0.227272727273, 0.318181818182, 0.409090909091, 0.5]],
          'loss_leaky_relu': 1.301905769152261,
          'loss_relu': 1.3019542426987918,
          'loss_sigmoid': 1.3471443288128917,
          'loss_wd_leaky_relu': 2.9611160350804333,
          'loss_wd_relu': 2.961164508626964,
          'loss_wd_sigmoid': 3.006354594741064,
          'mlp_accuracy': 0.25,
          'mlp_loss': 1.555877298226873,
          'mlp_scores': [[-0.284149499977, -0.183540734696, -0.082931969415, 0.017676795866, 0.118285561147],
                         [0.329279698668, 0.501085010921, 0.672890323175, 0.844695635428, 1.016500947682],
                         [1.045685609848, 1.336000701057, 1.626315792266, 1.916630883475, 2.206945974685],
                         [1.762091521028, 2.170916391193, 2.579741261358, 2.988566131523, 3.397391001687]],
          'opt_adabelief': [-0.478421276953, -0.292138581791, 0.043044388964, 0.221603986697, 0.401140509188,
                            0.580919052144, 0.173567527927, -0.123567323421, -0.27356763018],
          'opt_adagrad': [-0.675803728823, -0.50684020888, 0.212597670569, 0.403600713224, 0.585975939524, 0.767008391779,
                          0.273292705877, -0.223292623632, -0.373292746999],
          'opt_adam': [-0.458316019894, -0.275227423001, 0.020151967181, 0.199643350727, 0.379463316626, 0.559375391523,
                       0.155410351884, -0.105410235598, -0.255410410027],
          'opt_momentum': [-0.511975, -0.2485225, 0.01493, 0.2783825, 0.541835, 0.8052875, 0.138308333333, -0.069154166667,
                           -0.276616666667],
          'opt_nesterov': [-0.605016, -0.2757456, 0.0535248, 0.3827952, 0.7120656, 1.041336, 0.156509333333,
                           -0.078254666667, -0.313018666667],
          'opt_rmsprop': [-0.575787177695, -0.402132682969, 0.122182073973, 0.308683147435, 0.490074289559, 0.670677687268,
                          0.212426023634, -0.162425851073, -0.312426109915],
          'opt_sgd': [-0.55, -0.262, 0.026, 0.314, 0.602, 0.89, 0.136666666667, -0.068333333333, -0.273333333333],
          'scores_leaky_relu': [[-0.212125365689, -0.071432165578, 0.069261034532, 0.209954234643],
                                [-0.110652843156, 0.043994268932, 0.198641381021, 0.353288493109],
                                [-0.178408135176, -0.032857154449, 0.112693826278, 0.258244807005],
                                [0.031788442745, 0.216509502213, 0.401230561681, 0.585951621149],
                                [0.727353489885, 1.071206433765, 1.415059377645, 1.758912321525]],
          'scores_relu': [[-0.212803390352, -0.07195437182, 0.068894646712, 0.209743665244],
                          [-0.110797642049, 0.043869930753, 0.198537503555, 0.353205076356],
                          [-0.178917224836, -0.033354293487, 0.112208637861, 0.25777156921],
                          [0.031788442745, 0.216509502213, 0.401230561681, 0.585951621149],
                          [0.727353489885, 1.071206433765, 1.415059377645, 1.758912321525]],
          'scores_sigmoid': [[0.054906280234, 0.287558707609, 0.520211134984, 0.752863562359],
                             [0.057378803094, 0.29165905899, 0.525939314885, 0.76021957078],
                             [0.054922640715, 0.288863038161, 0.522803435607, 0.756743833054],
                             [0.064205373396, 0.300340114406, 0.536474855417, 0.772609596427],
                             [0.093643663832, 0.337016342521, 0.58038902121, 0.823761699898]],
          'sigmoid': [[0.377540668798, 0.399130124117, 0.421118916487, 0.443425130103],
                      [0.465961819684, 0.488638319781, 0.511361680219, 0.534038180316],
                      [0.556574869897, 0.578881083513, 0.600869875883, 0.622459331202]],
          'softmax_loss': 1.6342347831770792}
