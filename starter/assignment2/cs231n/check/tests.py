"""Public checks of assignment 2: the hidden tests' names, on the notebooks' public inputs.

Each check uses the inputs and expected values the classic notebooks print (fixed arrays, or draws after
np.random.seed(231), which the runner calls before every check), numeric gradients where the notebooks
use them, and, for the few tests the notebooks have no value for, values of the same public inputs.
The grader runs tests of the same names on other inputs.
"""
import numpy as np

from . import (array, check, close, close_scalar, fail, grad_close, init_ok, lin, matches, model_gradients, module,
               numeric_gradient, pair, params_of, rel_error)

NOTEBOOK_PARTS = {
    "FullyConnectedNets": [("Q1", "# Two-layer network"), ("Q2", "# Multilayer network"),
                           ("Q3", "# Update rules"), ("Q4", "# Train a good model"), ("Q7", None)],
    "BatchNormalization": [("Q5", None)],
    "Dropout": [("Q6", "# Regularization experiment")],
    "ConvolutionalNetworks": [("Q8", None)],
}


# ============================================================================================== Q1
@check("Q1", "test_affine_forward",
       hint="affine_forward reshapes each input into a row of D = d_1 * ... * d_k numbers: "
            "out = x.reshape(N, -1) @ w + b")
def test_affine_forward():
    x = lin((2, 4, 5, 6), -0.1, 0.5)
    w = lin((120, 3), -0.2, 0.3)
    b = lin((3,), -0.3, 0.1)
    out, _ = pair(module("layers").affine_forward(x, w, b), "affine_forward")
    close(out, [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]], "out", 1e-8)


@check("Q1", "test_affine_backward",
       hint="dx should have the shape of the original x (reshape it back); dw = x_rows.T @ dout, "
            "db = dout summed over the N examples")
def test_affine_backward():
    L = module("layers")
    x, w, b = np.random.randn(10, 2, 3), np.random.randn(6, 5), np.random.randn(5)
    dout = np.random.randn(10, 5)
    _, cache = pair(L.affine_forward(x, w, b), "affine_forward")
    dx, dw, db = pair(L.affine_backward(dout, cache), "affine_backward", 3)
    if matches(dx, dout @ w.T):
        fail("dx has the shape (N, D)", "dx should have the shape of the original x (reshape it back)")
    grad_close(dx, lambda v: L.affine_forward(v, w, b)[0], x, dout, "dx", 1e-8)
    grad_close(dw, lambda v: L.affine_forward(x, v, b)[0], w, dout, "dw", 1e-8)
    grad_close(db, lambda v: L.affine_forward(x, w, v)[0], b, dout, "db", 1e-8)


@check("Q1", "test_relu_forward", hint="relu_forward is max(0, x), element by element (np.maximum)")
def test_relu_forward():
    x = lin((3, 4), -0.5, 0.5)
    out, _ = pair(module("layers").relu_forward(x), "relu_forward")
    close(out, [[0., 0., 0., 0.], [0., 0., 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]],
          "out", 5e-7)


@check("Q1", "test_relu_backward",
       hint="relu_backward should pass dout where x > 0 (and 0 elsewhere), not the ReLU output")
def test_relu_backward():
    L = module("layers")
    x, dout = np.random.randn(10, 10), np.random.randn(10, 10)
    _, cache = pair(L.relu_forward(x), "relu_forward")
    dx = L.relu_backward(dout, cache)
    if matches(dx, dout * (x < 0)):
        fail("dx is dout where x < 0", "relu_backward seems to use x < 0 instead of x > 0")
    grad_close(dx, lambda v: L.relu_forward(v)[0], x, dout, "dx", 1e-8)


@check("Q1", "test_leaky_relu",
       hint="leaky ReLU is x where x > 0 and alpha * x elsewhere; its gradient is 1 or alpha")
def test_leaky_relu():
    L = module("layers")
    x = lin((3, 4), -0.5, 0.5)
    out, cache = pair(L.leaky_relu_forward(x, 0.1), "leaky_relu_forward")
    close(out, [[-0.05, -0.04090909, -0.03181818, -0.02272727], [-0.01363636, -0.00454545, 0.04545455, 0.13636364],
                [0.22727273, 0.31818182, 0.40909091, 0.5]], "out (alpha 0.1)", 1e-6)
    dout = np.random.randn(3, 4)
    grad_close(L.leaky_relu_backward(dout, cache), lambda v: L.leaky_relu_forward(v, 0.1)[0], x, dout, "dx", 1e-8)


@check("Q1", "test_affine_relu",
       hint="affine_relu_forward chains affine_forward and relu_forward and keeps both caches; the backward "
            "pass runs relu_backward, then affine_backward")
def test_affine_relu():
    U = module("layer_utils")
    x, w, b = np.random.randn(2, 3, 4), np.random.randn(12, 10), np.random.randn(10)
    dout = np.random.randn(2, 10)
    out, cache = pair(U.affine_relu_forward(x, w, b), "affine_relu_forward")
    close(out, np.maximum(0, x.reshape(2, -1) @ w + b), "out", 1e-9)
    dx, dw, db = pair(U.affine_relu_backward(dout, cache), "affine_relu_backward", 3)
    grad_close(dx, lambda v: U.affine_relu_forward(v, w, b)[0], x, dout, "dx", 1e-8)
    grad_close(dw, lambda v: U.affine_relu_forward(x, v, b)[0], w, dout, "dw", 1e-8)
    grad_close(db, lambda v: U.affine_relu_forward(x, w, v)[0], b, dout, "db", 1e-8)


def _loss_inputs():
    return 0.001 * np.random.randn(50, 10), np.random.randint(10, size=50)


def _loss_check(fn_name, expected_loss):
    L = module("layers")
    x, y = _loss_inputs()
    fn = getattr(L, fn_name)
    loss, dx = pair(fn(x, y), fn_name)
    close_scalar(loss, expected_loss, "loss", 1e-9)
    numeric = numeric_gradient(lambda v: fn(v, y)[0], x, 1.0)
    arr = array(dx, "dx", x.shape)
    if matches(arr, numeric * len(y), 1e-4):
        fail("dx is N times too large", "dx seems not to be averaged over the N examples (divide by N)")
    close(arr, numeric, "dx", 1e-7)


@check("Q1", "test_softmax_loss",
       hint="the softmax loss is the mean over the N examples of -log(softmax(x)[y]); dx = (softmax(x) - "
            "one_hot(y)) / N")
def test_softmax_loss():
    _loss_check("softmax_loss", 2.302545844500738)


@check("Q1", "test_softmax_loss_large_scores",
       hint="softmax_loss is not numerically stable: subtract the maximum score of each row before "
            "exponentiating, so that large scores do not overflow")
def test_softmax_loss_large_scores():
    L = module("layers")
    x, y = lin((3, 10), -400.0, 1200.0), np.array([9, 2, 5])
    loss, dx = pair(L.softmax_loss(x, y), "softmax_loss")
    close_scalar(loss, 202.29885057471265, "loss (large scores)", 1e-9)
    expected = np.zeros((3, 10))
    expected[:, 9] = 1.0 / 3
    expected[np.arange(3), y] -= 1.0 / 3
    close(dx, expected, "dx (large scores)", 1e-8)


@check("Q1", "test_svm_loss",
       hint="the multiclass SVM loss sums max(0, x_j - x_y + 1) over the wrong classes j, averaged over the N "
            "examples; dx counts, for each example, +1 for every class with a positive margin and minus their "
            "number for the correct class, divided by N")
def test_svm_loss():
    _loss_check("svm_loss", 8.999602749096233)


# ============================================================================================== Q2
TWO_LAYER_PARAMS = {"W1": ((5, 50), -0.7, 0.3), "b1": ((50,), -0.1, 0.9),
                    "W2": ((50, 7), -0.3, 0.4), "b2": ((7,), -0.9, 0.1)}
TWO_LAYER_SCORES = [
    [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
    [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
    [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]]
L2_HINT = "the L2 term seems to miss the factor 0.5: use 0.5 * reg * sum(W ** 2) so that its gradient is reg * W"


def _two_layer():
    net = module("classifiers.fc_net")
    np.random.randn(3, 5), np.random.randint(7, size=3)       # the notebook's draws before the model
    model = net.TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=1e-3)
    return model


def _two_layer_fixed():
    model = _two_layer()
    params = params_of(model, tuple(TWO_LAYER_PARAMS))
    for k, spec in TWO_LAYER_PARAMS.items():
        params[k] = lin(*spec)
    return model, lin((5, 3), -5.5, 4.5).T


@check("Q2", "test_two_layer_init",
       hint="TwoLayerNet keeps W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) in self.params: weights "
            "weight_scale * randn, biases zeros")
def test_two_layer_init():
    model = _two_layer()
    params = params_of(model, ("W1", "b1", "W2", "b2"))
    init_ok(params, {"W1": (5, 50), "b1": (50,), "W2": (50, 7), "b2": (7,)}, 1e-3, rel_tol=0.1)


@check("Q2", "test_two_layer_scores",
       hint="with y=None, loss(X) returns the class scores of affine - relu - affine (no softmax)")
def test_two_layer_scores():
    model, X = _two_layer_fixed()
    close(model.loss(X), TWO_LAYER_SCORES, "scores", 1e-8)


def _two_layer_loss(reg, expected, grad_reg):
    """The notebook's loss values, then its gradient check (same model and inputs) at ``grad_reg``."""
    model, X = _two_layer_fixed()
    y = np.array([0, 5, 1])
    model.reg = reg
    loss, _ = pair(model.loss(X, y), "model.loss(X, y)")
    hint = L2_HINT if reg and matches(loss, 2 * expected - 3.4702243556, 1e-8) else None
    close_scalar(loss, expected, f"loss (reg {reg})", 1e-9, hint)
    model.reg = grad_reg
    model_gradients(model, X, y, ("W1", "b1", "W2", "b2"), 1e-6)


@check("Q2", "test_two_layer_loss",
       hint="the loss is the softmax loss of the scores; the gradients come from the backward passes of the "
            "layers in reverse order")
def test_two_layer_loss():
    _two_layer_loss(0.0, 3.4702243556, 0.0)


@check("Q2", "test_two_layer_loss_regularized", hint=L2_HINT)
def test_two_layer_loss_regularized():
    _two_layer_loss(1.0, 26.5948426952, 0.7)


def _overfit(model, data_shape, update_rule, learning_rate, epochs, target=0.9):
    """Train ``model`` with the Solver on 50 random examples: it should learn them by heart."""
    Solver = module("solver").Solver
    X = np.random.randn(50, *data_shape)
    y = np.random.randint(5, size=50)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    solver = Solver(model, data, update_rule=update_rule, optim_config={"learning_rate": learning_rate},
                    num_epochs=epochs, batch_size=25, print_every=10 ** 9, verbose=False)
    solver.train()
    acc = float(np.mean(np.argmax(array(model.loss(X), "scores"), axis=1) == y))
    if not acc >= target:
        fail(f"after training, the model classifies {acc:.0%} of its 50 training examples correctly "
             f"(at least {target:.0%} expected)")


@check("Q2", "test_two_layer_training",
       hint="the Solver trains the model with its loss and gradients: a correct TwoLayerNet learns 50 "
            "examples by heart in a few epochs")
def test_two_layer_training():
    model = module("classifiers.fc_net").TwoLayerNet(input_dim=20, hidden_dim=50, num_classes=5, weight_scale=0.1)
    _overfit(model, (20,), "sgd", 0.5, 20)


# ============================================================================================== Q3
FC_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
FC_PARAMS = {"W1": ((15, 20), -0.7, 0.3), "b1": ((20,), -0.1, 0.9), "W2": ((20, 30), -0.3, 0.4),
             "b2": ((30,), -0.9, 0.1), "W3": ((30, 10), -0.2, 0.5), "b3": ((10,), -0.5, 0.5)}
FC_SCORES = [
    [84.4975700361, 85.6884924127, 86.8794147894, 88.0703371661, 89.2612595428, 90.4521819195, 91.6431042962,
     92.8340266729, 94.0249490496, 95.2158714263],
    [80.5845789086, 81.7311712434, 82.8777635781, 84.0243559129, 85.1709482477, 86.3175405825, 87.4641329172,
     88.610725252, 89.7573175868, 90.9039099215]]


def _fc_losses(normalization=None, keys=FC_KEYS, expected=(), grad_tol=1e-5, regs=(0.0, 3.14), only=None):
    """The notebook's gradient check: seed 231, X (2, 15), then one model per reg, initialised in turn
    (their initial losses ``expected``); ``only``: the indices of the models checked."""
    net = module("classifiers.fc_net")
    X, y = np.random.randn(2, 15), np.random.randint(10, size=2)
    for i, reg in enumerate(regs):
        kwargs = dict(input_dim=15, num_classes=10, reg=reg, weight_scale=5e-2, dtype=np.float64)
        if normalization is not None:
            kwargs["normalization"] = normalization
        model = net.FullyConnectedNet([20, 30], **kwargs)
        if only is not None and i not in only:
            continue
        if i < len(expected):
            loss, _ = pair(model.loss(X, y), "model.loss(X, y)")
            close_scalar(loss, expected[i], f"initial loss (reg {reg})", 1e-8)
        model_gradients(model, X, y, keys, grad_tol)


@check("Q3", "test_fc_net_init",
       hint="FullyConnectedNet keeps W1, b1, ..., WL, bL for L = len(hidden_dims) + 1 layers in self.params: "
            "weights weight_scale * randn of shape (previous width, next width), biases zeros")
def test_fc_net_init():
    model = module("classifiers.fc_net").FullyConnectedNet([20, 30], input_dim=15, num_classes=10,
                                                          weight_scale=5e-2, dtype=np.float64)
    params = params_of(model, FC_KEYS)
    init_ok(params, {k: s[0] for k, s in FC_PARAMS.items()}, 5e-2)


@check("Q3", "test_fc_net_scores",
       hint="with y=None, loss(X) returns the scores of {affine - relu} x (L - 1) - affine")
def test_fc_net_scores():
    model = module("classifiers.fc_net").FullyConnectedNet([20, 30], input_dim=15, num_classes=10,
                                                          weight_scale=5e-2, dtype=np.float64)
    params = params_of(model, FC_KEYS)
    for k, spec in FC_PARAMS.items():
        params[k] = lin(*spec)
    close(model.loss(lin((15, 2), -5.5, 4.5).T), FC_SCORES, "scores", 1e-8)


@check("Q3", "test_fc_net_loss",
       hint="the loss is the softmax loss of the last layer's scores; initialise W1, W2, ... in layer order so "
            "that the loss matches the notebook's")
def test_fc_net_loss():
    _fc_losses(expected=(2.3004790897684924,), regs=(0.0,), grad_tol={"W": 1e-4, "b": 1e-6})


@check("Q3", "test_fc_net_loss_regularized", hint=L2_HINT)
def test_fc_net_loss_regularized():
    _fc_losses(expected=(2.3004790897684924, 7.052114776533016), grad_tol=1e-6, only=(1,))


@check("Q3", "test_fc_net_training",
       hint="the Solver trains the network with its loss and gradients: a correct FullyConnectedNet learns 50 "
            "examples by heart in a few epochs")
def test_fc_net_training():
    model = module("classifiers.fc_net").FullyConnectedNet([50, 50], input_dim=20, num_classes=5, weight_scale=0.1)
    _overfit(model, (20,), "sgd", 1.0, 20)


# ============================================================================================== Q4
W = lin((4, 5), -0.4, 0.6)
DW = lin((4, 5), -0.6, 0.4)


@check("Q4", "test_sgd_momentum",
       hint="SGD with momentum: v = momentum * v - learning_rate * dw, next_w = w + v, and config['velocity'] = v")
def test_sgd_momentum():
    v = lin((4, 5), 0.6, 0.9)
    next_w, config = pair(module("optim").sgd_momentum(W.copy(), DW, {"learning_rate": 1e-3, "velocity": v}),
                          "sgd_momentum")
    close(next_w, [[0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
                   [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
                   [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
                   [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]], "next_w", 1e-7)
    if matches(config.get("velocity"), -(0.9 * v - 1e-3 * DW)):
        fail("config['velocity'] has the opposite sign", "your velocity has the opposite sign: store "
             "v = momentum * v - learning_rate * dw and add it to w")
    close(config["velocity"], [[0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
                               [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
                               [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
                               [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]], "config['velocity']", 1e-7)


@check("Q4", "test_rmsprop",
       hint="rmsprop divides by the square root of the cache (sqrt(cache) + epsilon); the cache should decay "
            "with decay_rate: cache = decay_rate * cache + (1 - decay_rate) * dw ** 2")
def test_rmsprop():
    cache = lin((4, 5), 0.6, 0.9)
    next_w, config = pair(module("optim").rmsprop(W.copy(), DW, {"learning_rate": 1e-2, "cache": cache}),
                          "rmsprop")
    close(next_w, [[-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
                   [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
                   [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
                   [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]], "next_w", 1e-7)
    close(config["cache"], [[0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
                            [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
                            [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
                            [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]], "config['cache']", 1e-7)


ADAM_T_HINT = "Adam's t must be incremented before the bias correction (use t + 1 in 1 - beta ** t)"
ADAM_BIAS_HINT = "Adam needs the bias correction m / (1 - beta1 ** t) and v / (1 - beta2 ** t)"


@check("Q4", "test_adam", hint=ADAM_T_HINT + "; " + ADAM_BIAS_HINT)
def test_adam():
    m, v = lin((4, 5), 0.6, 0.9), lin((4, 5), 0.7, 0.5)
    next_w, config = pair(module("optim").adam(W.copy(), DW, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}),
                          "adam")
    close(config["v"], [[0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
                        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
                        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
                        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]], "config['v']", 1e-7)
    close(config["m"], [[0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
                        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
                        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
                        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]], "config['m']", 1e-7)
    expected = [[-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
                [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
                [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
                [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]]
    arr = array(next_w, "next_w", (4, 5))
    hint = None
    if not rel_error(arr, expected) <= 1e-6:
        m1, v1 = 0.9 * m + 0.1 * DW, 0.999 * v + 0.001 * DW ** 2
        if matches(arr, W - 1e-2 * (m1 / (1 - 0.9 ** 5)) / (np.sqrt(v1 / (1 - 0.999 ** 5)) + 1e-8)):
            hint = ADAM_T_HINT
        elif matches(arr, W - 1e-2 * m1 / (np.sqrt(v1) + 1e-8)):
            hint = ADAM_BIAS_HINT
    close(arr, expected, "next_w", 1e-6, hint)
    if config.get("t") != 6:
        fail(f"config['t'] is {config.get('t')!r} after one step from t = 5 (expected 6)", ADAM_T_HINT)


@check("Q4", "test_adam_default_state",
       hint="without m, v and t in config, adam starts from m = v = zeros_like(w) and t = 0 (config.setdefault)")
def test_adam_default_state():
    next_w, config = pair(module("optim").adam(W.copy(), DW, {"learning_rate": 1e-2}), "adam")
    close(next_w, [[-0.3900000002, -0.3373684212, -0.2847368423, -0.2321052634, -0.1794736845],
                   [-0.1268421056, -0.0742105267, -0.0215789478, 0.031052631, 0.0836842097],
                   [0.1363157881, 0.1889473637, 0.2215789505, 0.2742105275, 0.326842106],
                   [0.3794736847, 0.4321052636, 0.4847368424, 0.5373684213, 0.5900000002]], "next_w", 1e-8)
    close(config.get("m"), 0.1 * DW, "config['m']", 1e-10)
    close(config.get("v"), 0.001 * DW ** 2, "config['v']", 1e-10)
    if config.get("t") != 1:
        fail(f"config['t'] is {config.get('t')!r} after the first step (expected 1)", ADAM_T_HINT)


# ============================================================================================== Q5
def _bn_inputs(N):
    X = np.random.randn(N, 50)
    W1, W2 = np.random.randn(50, 60), np.random.randn(60, 3)
    return np.maximum(0, X @ W1) @ W2


def _stats_close(out, axis, means, stds, what, tol=1e-6):
    """The means and standard deviations of ``out`` along ``axis`` (means within ``tol`` of ``means``)."""
    arr = array(out, what)
    if not np.all(np.abs(arr.mean(axis=axis) - np.asarray(means)) <= tol):
        fail(f"{what}: the means should be {np.round(means, 8).tolist()}, they are "
             f"{np.round(arr.mean(axis=axis), 8).tolist()}")
    close(arr.std(axis=axis), stds, f"{what}: standard deviations", tol)


@check("Q5", "test_batchnorm_forward_train",
       hint="batch normalization uses the biased variance (divide by N, np.var's default) and sqrt(var + eps); "
            "the running average is momentum * running + (1 - momentum) * batch statistic")
def test_batchnorm_forward_train():
    L = module("layers")
    a = _bn_inputs(200)
    out, _ = pair(L.batchnorm_forward(a, np.ones(3), np.zeros(3), {"mode": "train"}), "batchnorm_forward")
    _stats_close(out, 0, np.zeros(3), [0.99999999, 1., 1.], "out (gamma 1, beta 0)")
    bn_param = {"mode": "train"}
    out, _ = pair(L.batchnorm_forward(a, np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0]), bn_param),
                  "batchnorm_forward")
    _stats_close(out, 0, [11., 12., 13.], [0.99999999, 1.99999999, 2.99999999], "out (gamma [1 2 3], beta [11 12 13])")
    close(bn_param.get("running_mean"), 0.1 * a.mean(axis=0), "bn_param['running_mean'] after one step", 1e-9)
    close(bn_param.get("running_var"), 0.1 * a.var(axis=0), "bn_param['running_var'] after one step", 1e-9)


@check("Q5", "test_batchnorm_forward_test",
       hint="in test mode, normalise with running_mean and running_var, not with the batch statistics")
def test_batchnorm_forward_test():
    L = module("layers")
    W1, W2 = np.random.randn(50, 60), np.random.randn(60, 3)
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(50):
        L.batchnorm_forward(np.maximum(0, np.random.randn(200, 50) @ W1) @ W2, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = pair(L.batchnorm_forward(np.maximum(0, np.random.randn(200, 50) @ W1) @ W2, gamma, beta, bn_param),
                  "batchnorm_forward")
    arr = array(out, "out (test mode)", (200, 3))
    close(arr.mean(axis=0), [-0.03927354, -0.04349152, -0.10452688], "out (test mode): means", 1e-6)
    close(arr.std(axis=0), [1.01531428, 1.01238373, 0.97819988], "out (test mode): standard deviations", 1e-6)


def _norm_backward(forward, backward, N, D, param, tol_dx):
    L = module("layers")
    x = 5 * np.random.randn(N, D) + 12
    gamma, beta, dout = np.random.randn(D), np.random.randn(D), np.random.randn(N, D)
    fwd = getattr(L, forward)
    _, cache = pair(fwd(x, gamma, beta, dict(param)), forward)
    dx, dgamma, dbeta = pair(getattr(L, backward)(dout, cache), backward, 3)
    grad_close(dx, lambda v: fwd(v, gamma, beta, dict(param))[0], x, dout, "dx", tol_dx)
    grad_close(dgamma, lambda v: fwd(x, v, beta, dict(param))[0], gamma, dout, "dgamma", 1e-8)
    grad_close(dbeta, lambda v: fwd(x, gamma, v, dict(param))[0], beta, dout, "dbeta", 1e-8)


@check("Q5", "test_batchnorm_backward",
       hint="backpropagate through the normalisation step by step (x - mean, var, sqrt, divide), summing the "
            "gradients over the N examples for the mean and the variance")
def test_batchnorm_backward():
    _norm_backward("batchnorm_forward", "batchnorm_backward", 4, 5, {"mode": "train"}, 1e-7)


@check("Q5", "test_batchnorm_backward_alt",
       hint="the simplified dx is (gamma / std) * (dout - mean(dout) - x_hat * mean(dout * x_hat)), means over N; "
            "it must give the same dx, dgamma and dbeta as batchnorm_backward")
def test_batchnorm_backward_alt():
    L = module("layers")
    x = 5 * np.random.randn(100, 500) + 12
    gamma, beta, dout = np.random.randn(500), np.random.randn(500), np.random.randn(100, 500)
    _, cache = pair(L.batchnorm_forward(x, gamma, beta, {"mode": "train"}), "batchnorm_forward")
    dx, dgamma, dbeta = pair(L.batchnorm_backward_alt(dout, cache), "batchnorm_backward_alt", 3)
    dx_ref, dgamma_ref, dbeta_ref = (array(g, f"batchnorm_backward's {n}") for g, n in
                                     zip(pair(L.batchnorm_backward(dout, cache), "batchnorm_backward", 3),
                                         ("dx", "dgamma", "dbeta")))
    close(dx, dx_ref, "dx (against batchnorm_backward)", 1e-9)
    close(dgamma, dgamma_ref, "dgamma (against batchnorm_backward)", 1e-9)
    close(dbeta, dbeta_ref, "dbeta (against batchnorm_backward)", 1e-9)


@check("Q5", "test_layernorm_forward",
       hint="the statistics seem to be taken along the wrong axis (batchnorm: over the N examples of each "
            "feature; layernorm: over the features of each example)")
def test_layernorm_forward():
    L = module("layers")
    a = _bn_inputs(4)
    out, _ = pair(L.layernorm_forward(a, np.ones(3), np.zeros(3), {}), "layernorm_forward")
    _stats_close(out, 1, np.zeros(4), [0.99999995, 0.99999999, 1., 0.99999969], "out (gamma 1, beta 0)")
    out, _ = pair(L.layernorm_forward(a, np.full(3, 3.0), np.full(3, 5.0), {}), "layernorm_forward")
    _stats_close(out, 1, [5., 5., 5., 5.], [2.99999985, 2.99999998, 2.99999999, 2.99999907],
                 "out (gamma 3, beta 5)")


@check("Q5", "test_layernorm_backward",
       hint="layer normalization is batch normalization of the transposed input: the backward pass sums "
            "over the features of each example where batchnorm sums over the examples")
def test_layernorm_backward():
    _norm_backward("layernorm_forward", "layernorm_backward", 4, 5, {}, 1e-7)


FC_BN_KEYS = ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3")


@check("Q5", "test_fc_batchnorm_loss",
       hint="with normalization='batchnorm', each hidden layer is affine - batchnorm - relu, with gamma "
            "(ones) and beta (zeros) per hidden layer in self.params and one bn_param per layer")
def test_fc_batchnorm_loss():
    _fc_losses("batchnorm", keys=FC_BN_KEYS, expected=(2.2611955101340957, 6.996533220108303),
               grad_tol={"W": 1e-3, "b": 1e-6, "g": 1e-5})


@check("Q5", "test_fc_batchnorm_running_stats",
       hint="the network's loss(X) without y runs batchnorm in test mode with the running statistics that "
            "the training passes updated (self.bn_params)")
def test_fc_batchnorm_running_stats():
    X, y = np.random.randn(2, 15), np.random.randint(10, size=2)
    model = module("classifiers.fc_net").FullyConnectedNet([20, 30], input_dim=15, num_classes=10,
                                                          weight_scale=5e-2, dtype=np.float64,
                                                          normalization="batchnorm")
    close(model.loss(X), [
        [1133.9493270011, -255.1498440934, -1115.655179215, -855.091634033, -487.0440604593, 442.0085785573,
         825.2937241065, 24.8910136684, -732.8656754461, -339.8296521058],
        [195.2426553917, 66.6325450132, -126.6359066751, -275.489713739, 66.2066694334, 321.0388303745,
         48.3907980289, 18.50054927, -543.7906553167, -449.3212989463]], "scores (test mode, before training)", 1e-7)
    model.loss(X, y)
    model.loss(X, y)
    close(model.loss(X), [
        [16.317710572, -0.9644121867, -9.0060513717, -3.2720856216, -2.2573790201, 5.6684513216, 7.7479381216,
         6.2374346959, -6.2651926902, -2.9285827164],
        [7.8744284543, -4.6286633273, -1.4618763823, -2.8422580388, -0.3945150931, 6.1102283784, 1.6544495542,
         5.4295746166, -4.2508673907, -1.366371106]], "scores (test mode, after two training passes)", 1e-7)


@check("Q5", "test_fc_layernorm_loss",
       hint="with normalization='layernorm', each hidden layer is affine - layernorm - relu, with gamma "
            "(ones) and beta (zeros) per hidden layer in self.params")
def test_fc_layernorm_loss():
    _fc_losses("layernorm", keys=FC_BN_KEYS, expected=(2.237831004146712, 7.10213782725159),
               grad_tol={"W": 1e-3, "b": 1e-6, "g": 1e-5})


# ============================================================================================== Q6
KEEP_HINT = "in this assignment p is the probability of KEEPING a unit (mask = rand(...) < p)"


@check("Q6", "test_dropout_forward_train",
       hint="inverted dropout divides the kept units by p at training time (out = x * mask / p); " + KEEP_HINT)
def test_dropout_forward_train():
    L = module("layers")
    x = np.random.randn(500, 500) + 10
    for p in (0.25, 0.4, 0.7):
        out, _ = pair(L.dropout_forward(x, {"mode": "train", "p": p, "seed": 123}), "dropout_forward")
        out = array(out, f"out (train mode, p {p})", x.shape)
        kept = out != 0
        zeroed = 1 - float(kept.mean())
        if abs(zeroed - p) <= 0.02 and abs(zeroed - (1 - p)) > 0.02:
            fail(f"with p = {p}, {zeroed:.1%} of the units are zero", KEEP_HINT)
        if not abs(zeroed - (1 - p)) <= 0.02:
            fail(f"with p = {p}, {zeroed:.1%} of the units are zero (about {1 - p:.0%} expected)")
        if not np.allclose(out[kept], x[kept] / p, rtol=1e-9, atol=0):
            fail(f"with p = {p}, the kept units are not x / p",
                 "inverted dropout divides the kept units by p at training time (out = x * mask / p)")


@check("Q6", "test_dropout_forward_test",
       hint="at test time inverted dropout returns x unchanged (no scaling)")
def test_dropout_forward_test():
    x = np.random.randn(500, 500) + 10
    for p in (0.25, 0.4, 0.7):
        out, _ = pair(module("layers").dropout_forward(x, {"mode": "test", "p": p}), "dropout_forward")
        close(out, x, f"out (test mode, p {p})", 1e-12)


@check("Q6", "test_dropout_seed",
       hint="seed the generator with dropout_param['seed'] (np.random.seed) before drawing the mask, when "
            "the seed is given")
def test_dropout_seed():
    L = module("layers")
    x = np.random.randn(10, 10) + 10
    outs = [array(pair(L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": s}), "dropout_forward")[0], "out",
                  x.shape) for s in (123, 123, 124)]
    if not np.array_equal(outs[0], outs[1]):
        fail("two calls with the same dropout_param['seed'] gave different masks")
    if np.array_equal(outs[0], outs[2]):
        fail("two calls with different seeds gave the same mask")


@check("Q6", "test_dropout_backward",
       hint="dropout_backward multiplies dout by the mask of the forward pass (kept in the cache), divided "
            "by p; in test mode dx = dout")
def test_dropout_backward():
    L = module("layers")
    x, dout = np.random.randn(10, 10) + 10, np.random.randn(10, 10)
    param = {"mode": "train", "p": 0.2, "seed": 123}
    _, cache = pair(L.dropout_forward(x, param), "dropout_forward")
    dx = L.dropout_backward(dout, cache)
    grad_close(dx, lambda v: L.dropout_forward(v, dict(param))[0], x, dout, "dx", 1e-8)
    _, cache = pair(L.dropout_forward(x, {"mode": "test", "p": 0.2}), "dropout_forward")
    close(L.dropout_backward(dout, cache), dout, "dx (test mode)", 1e-12)


@check("Q6", "test_fc_dropout_gradients",
       hint="dropout=1 keeps every unit (p is the probability of KEEPING a unit): the network must then be "
            "exactly the one without dropout; with dropout < 1, apply dropout after the ReLU of every hidden "
            "layer, with the same mask in the backward pass")
def test_fc_dropout_gradients():
    X, y = np.random.randn(2, 15), np.random.randint(10, size=2)
    net = module("classifiers.fc_net")
    losses = {}
    for keep in (1, 0.75, 0.5):
        model = net.FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2, dtype=np.float64,
                                      dropout=keep, seed=123)
        loss, _ = pair(model.loss(X, y), f"model.loss(X, y) with dropout={keep}")
        losses[keep] = float(array(loss, "loss", ()))
        if keep == 1:
            close_scalar(loss, 2.3004790897684924, "initial loss with dropout=1", 1e-8)
        model_gradients(model, X, y, FC_KEYS, {"W": 1e-4, "b": 1e-6})
    if losses[0.5] == losses[1] and losses[0.75] == losses[1]:
        fail("with dropout 0.75 and 0.5 the training loss equals the loss without dropout: dropout is not applied")


# ============================================================================================== Q7
def _public_test_split():
    data_utils = module("data_utils")
    try:
        data = data_utils.get_assignment_data(dataset="fashion_mnist")
    except FileNotFoundError as exc:
        fail(f"Fashion-MNIST is not installed here, so the model cannot be evaluated ({exc})")
    return data["X_test"], data["y_test"]


_ACCURACY = {}


def _best_model_accuracy():
    """The accuracy of best_model.npz (in the current folder, else beside the package: where the notebook
    saves it) on the public test split (the notebook's X_test: Fashion-MNIST t10k[:1000]); the grader
    measures it on the rest of t10k."""
    from pathlib import Path
    beside = Path(__file__).resolve().parent.parent.parent / "best_model.npz"
    path = next((p for p in (Path("best_model.npz").resolve(), beside) if p.is_file()), beside)
    if not path.is_file():
        fail("best_model.npz is missing: run the notebook's 'Train a good model' cells, which save it")
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _ACCURACY:
        try:
            model = module("model_io").load_model(str(path))
        except (ValueError, OSError, KeyError) as exc:
            fail(f"best_model.npz could not be loaded: {exc}")
        X, y = _public_test_split()
        scores = array(model.loss(X), "the model's scores", (len(y), 10))
        _ACCURACY.clear()
        _ACCURACY[key] = float(np.mean(np.argmax(scores, axis=1) == y))
    return _ACCURACY[key]


@check("Q7", "test_best_model_loads",
       hint="save the model with cs231n.model_io.save_model(best_model, 'best_model.npz') after training it on "
            "Fashion-MNIST")
def test_best_model_loads():
    _best_model_accuracy()


def _tier(level):
    acc = _best_model_accuracy()
    if not acc >= level:
        fail(f"best_model.npz classifies {acc:.1%} of the public test images correctly; this tier needs "
             f"{level:.0%}")


@check("Q7", "test_best_model_accuracy_70",
       hint="an untrained model is at 10%: train the model of best_model.npz on the full training set")
def test_best_model_accuracy_70():
    _tier(0.70)


@check("Q7", "test_best_model_accuracy_80",
       hint="a linear classifier reaches about 80%: tune the learning rate, the width and the number of epochs")
def test_best_model_accuracy_80():
    _tier(0.80)


@check("Q7", "test_best_model_accuracy_85",
       hint="85% needs a tuned network with hidden layers (e.g. Adam, a few hundred units, several epochs)")
def test_best_model_accuracy_85():
    _tier(0.85)


# ============================================================================================== Q8
@check("Q8", "test_conv_forward",
       hint="do not flip the filters: the layer computes a cross-correlation (sum of window * w), over the "
            "zero-padded input, moving by the stride")
def test_conv_forward():
    x = lin((2, 3, 4, 4), -0.1, 0.5)
    w = lin((3, 3, 4, 4), -0.2, 0.3)
    b = lin((3,), -0.1, 0.2)
    out, _ = pair(module("layers").conv_forward_naive(x, w, b, {"stride": 2, "pad": 1}), "conv_forward_naive")
    close(out, [[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                 [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                 [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                 [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                 [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]], "out", 1e-7)


@check("Q8", "test_conv_backward",
       hint="dx, dw and db of the naive convolution: each output position adds dout * w to its window of dx "
            "and dout * window to dw; remove the padding from dx at the end")
def test_conv_backward():
    L = module("layers")
    x, w, b = np.random.randn(4, 3, 5, 5), np.random.randn(2, 3, 3, 3), np.random.randn(2)
    dout = np.random.randn(4, 2, 5, 5)
    param = {"stride": 1, "pad": 1}
    _, cache = pair(L.conv_forward_naive(x, w, b, param), "conv_forward_naive")
    dx, dw, db = pair(L.conv_backward_naive(dout, cache), "conv_backward_naive", 3)
    grad_close(dx, lambda v: L.conv_forward_naive(v, w, b, param)[0], x, dout, "dx", 1e-7)
    grad_close(dw, lambda v: L.conv_forward_naive(x, v, b, param)[0], w, dout, "dw", 1e-7)
    grad_close(db, lambda v: L.conv_forward_naive(x, w, v, param)[0], b, dout, "db", 1e-7)


POOL = {"pool_width": 2, "pool_height": 2, "stride": 2}


@check("Q8", "test_max_pool_forward", hint="max pooling keeps the maximum of each pool_height x pool_width window")
def test_max_pool_forward():
    out, _ = pair(module("layers").max_pool_forward_naive(lin((2, 3, 4, 4), -0.3, 0.4), dict(POOL)),
                  "max_pool_forward_naive")
    close(out, [[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                 [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                 [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                 [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                 [[0.32631579, 0.34105263], [0.38526316, 0.4]]]], "out", 5e-7)


@check("Q8", "test_max_pool_backward",
       hint="the upstream gradient of a window goes to the position of its maximum only")
def test_max_pool_backward():
    L = module("layers")
    x, dout = np.random.randn(3, 2, 8, 8), np.random.randn(3, 2, 4, 4)
    _, cache = pair(L.max_pool_forward_naive(x, dict(POOL)), "max_pool_forward_naive")
    grad_close(L.max_pool_backward_naive(dout, cache), lambda v: L.max_pool_forward_naive(v, dict(POOL))[0], x, dout,
               "dx", 1e-9)


@check("Q8", "test_spatial_batchnorm_forward",
       hint="reshape to (N*H*W, C) after moving the channel axis last (transpose(0, 2, 3, 1)); a plain reshape "
            "mixes the channels")
def test_spatial_batchnorm_forward():
    L = module("layers")
    x = 4 * np.random.randn(2, 3, 4, 5) + 10
    out, _ = pair(L.spatial_batchnorm_forward(x, np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0]),
                                              {"mode": "train"}), "spatial_batchnorm_forward")
    arr = array(out, "out (train mode)", x.shape)
    close(arr.mean(axis=(0, 2, 3)), [6., 7., 8.], "out (train mode): means per channel", 1e-6)
    close(arr.std(axis=(0, 2, 3)), [2.99999885, 3.99999804, 4.99999798], "out (train mode): stds per channel", 1e-6)
    np.random.seed(231)
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(4), np.zeros(4)
    for _ in range(50):
        L.spatial_batchnorm_forward(2.3 * np.random.randn(10, 4, 11, 12) + 13, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = pair(L.spatial_batchnorm_forward(2.3 * np.random.randn(10, 4, 11, 12) + 13, gamma, beta, bn_param),
                  "spatial_batchnorm_forward")
    arr = array(out, "out (test mode)", (10, 4, 11, 12))
    close(arr.mean(axis=(0, 2, 3)), [-0.08034406, 0.07562881, 0.05716371, 0.04378383],
          "out (test mode): means per channel", 1e-6)
    close(arr.std(axis=(0, 2, 3)), [0.96718744, 1.0299714, 1.02887624, 1.00585577],
          "out (test mode): stds per channel", 1e-6)


def _spatial_backward(forward, backward, C, param_shape, extra):
    L = module("layers")
    x = 5 * np.random.randn(2, C, 4, 5) + 12
    gamma, beta = np.random.randn(*param_shape), np.random.randn(*param_shape)
    dout = np.random.randn(2, C, 4, 5)
    fwd = getattr(L, forward)
    _, cache = pair(fwd(x, gamma, beta, *extra()), forward)
    dx, dgamma, dbeta = pair(getattr(L, backward)(dout, cache), backward, 3)
    grad_close(dx, lambda v: fwd(v, gamma, beta, *extra())[0], x, dout, "dx", 1e-6)
    grad_close(dgamma, lambda v: fwd(x, v, beta, *extra())[0], gamma, dout, "dgamma", 1e-8)
    grad_close(dbeta, lambda v: fwd(x, gamma, v, *extra())[0], beta, dout, "dbeta", 1e-8)


@check("Q8", "test_spatial_batchnorm_backward",
       hint="spatial batchnorm backward is batchnorm_backward on dout moved to (N*H*W, C), moved back after")
def test_spatial_batchnorm_backward():
    _spatial_backward("spatial_batchnorm_forward", "spatial_batchnorm_backward", 3, (3,),
                      lambda: ({"mode": "train"},))


@check("Q8", "test_spatial_groupnorm_forward",
       hint="group normalization takes the statistics over each group of C // G channels of each example "
            "(x.reshape(N, G, -1)); gamma and beta have shape (1, C, 1, 1)")
def test_spatial_groupnorm_forward():
    x = 4 * np.random.randn(2, 6, 4, 5) + 10
    out, _ = pair(module("layers").spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 2, {}),
                  "spatial_groupnorm_forward")
    groups = array(out, "out", x.shape).reshape(4, -1)
    if not np.all(np.abs(groups.mean(axis=1)) <= 1e-6):
        fail("out: the means of the groups should be zero")
    close(groups.std(axis=1), [0.99999963, 0.99999948, 0.99999973, 0.99999968], "out: stds of the groups", 1e-6)


@check("Q8", "test_spatial_groupnorm_backward",
       hint="group normalization backward is layernorm's backward on each group of channels, with dgamma and "
            "dbeta summed over N, H and W (shape (1, C, 1, 1))")
def test_spatial_groupnorm_backward():
    _spatial_backward("spatial_groupnorm_forward", "spatial_groupnorm_backward", 6, (1, 6, 1, 1), lambda: (2, {}))


CNN_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
CNN_PARAMS = {"W1": ((3, 3, 3, 3), -0.3, 0.3), "b1": ((3,), -0.1, 0.2), "W2": ((48, 7), -0.2, 0.3),
              "b2": ((7,), -0.1, 0.1), "W3": ((7, 10), -0.3, 0.4), "b3": ((10,), -0.9, 0.1)}


def _cnn():
    return module("classifiers.cnn").ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3,
                                                       hidden_dim=7, dtype=np.float64)


def _cnn_fixed():
    model = _cnn()
    params = params_of(model, CNN_KEYS)
    for k, spec in CNN_PARAMS.items():
        params[k] = lin(*spec)
    return model, lin((2, 3, 8, 8), -0.3, 1.0)


@check("Q8", "test_three_layer_convnet_init",
       hint="ThreeLayerConvNet keeps W1 (F, C, filter_size, filter_size), W2 (F * H/2 * W/2, hidden_dim), "
            "W3 (hidden_dim, num_classes) and zero biases b1, b2, b3 in self.params")
def test_three_layer_convnet_init():
    model = module("classifiers.cnn").ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, filter_size=3,
                                                        hidden_dim=20, weight_scale=1e-2, dtype=np.float64)
    params = params_of(model, CNN_KEYS)
    init_ok(params, {"W1": (8, 3, 3, 3), "b1": (8,), "W2": (512, 20), "b2": (20,), "W3": (20, 10), "b3": (10,)},
            1e-2, rel_tol=0.25)


@check("Q8", "test_three_layer_convnet_scores",
       hint="scores of conv (stride 1, pad (filter_size - 1) // 2) - relu - 2x2 max pool (stride 2) - affine - "
            "relu - affine")
def test_three_layer_convnet_scores():
    model, X = _cnn_fixed()
    close(model.loss(X), [
        [-0.6581226015, -0.3852740318, -0.1124254622, 0.1604231075, 0.4332716772, 0.7061202468, 0.9789688165,
         1.2518173861, 1.5246659558, 1.7975145254],
        [-0.0371255754, 1.1472305226, 2.3315866207, 3.5159427187, 4.7002988168, 5.8846549148, 7.0690110128,
         8.2533671109, 9.4377232089, 10.622079307]], "scores", 1e-8)


@check("Q8", "test_three_layer_convnet_loss",
       hint="the softmax loss of the scores plus 0.5 * reg * (sum of W1 ** 2, W2 ** 2 and W3 ** 2); the "
            "gradients come from the backward passes in reverse order")
def test_three_layer_convnet_loss():
    model, X = _cnn_fixed()
    y = np.array([3, 7])
    for reg, expected in ((0.0, 2.867805668062264), (0.5, 6.2399868229761)):
        model.reg = reg
        loss, _ = pair(model.loss(X, y), "model.loss(X, y)")
        close_scalar(loss, expected, f"loss (reg {reg})", 1e-9, L2_HINT if reg and matches(
            loss, 2 * expected - 2.867805668062264, 1e-8) else None)
    np.random.seed(231)
    X, y = np.random.randn(2, 3, 8, 8), np.random.randint(10, size=2)
    model = _cnn()
    model.params.update({k: v * 50 if k.startswith("W") else v for k, v in model.params.items()})
    model_gradients(model, X, y, CNN_KEYS, 1e-2, h=1e-6)


@check("Q8", "test_three_layer_convnet_training",
       hint="the Solver trains the network with its loss and gradients: a correct ThreeLayerConvNet learns 50 "
            "small images by heart")
def test_three_layer_convnet_training():
    model = module("classifiers.cnn").ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=8, filter_size=3,
                                                        hidden_dim=100, num_classes=5, weight_scale=0.1,
                                                        dtype=np.float64)
    _overfit(model, (1, 8, 8), "adam", 1e-2, 20)
