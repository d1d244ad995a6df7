"""Public checks of assignment 1: the hidden tests' names, on public inputs.

The layers and the two-layer net use the notebooks' canonical inputs and values; the other checks use small
fixed or seeded inputs (np.random.seed(231), which the runner calls before every check) and the values the
solutions give on them (``VALUES``), numeric gradients, and the accuracy on small well-separated clusters
(no data set needed). The grader runs tests of the same names on other inputs and on Fashion-MNIST.
"""
import time

import numpy as np

from . import (array, check, close, close_scalar, fail, grad_close, init_ok, lin, matches, model_gradients, module,
               numeric_gradient, pair, params_of)

NOTEBOOK_PARTS = {
    "knn": [("Q1", None)],
    "svm": [("Q2", "### Stochastic Gradient Descent")],
    "softmax": [("Q3", "### Stochastic Gradient Descent"), ("Q4", None)],
    "two_layer_net": [("Q5", None)],
    "features": [("Q6", "## Train a linear classifier on features")],
}

# The vectorized loss must be this many times faster than the naive one here. The grader asks for 3 times in
# its sandbox, where memory is set up for large arrays (the solutions measure about 6 there, and 3 to 9 in
# a student's plain Python); a loss that still loops over the examples is about as slow as the naive one.
SPEEDUP = 2.0
L2_HINT = "the L2 term of the linear classifiers is reg * np.sum(W * W), without a factor 0.5"
NET_L2_HINT = "the two-layer net's L2 term is 0.5 * reg * (sum(W1 * W1) + sum(W2 * W2))"
STABILITY_HINT = ("the softmax loss is not numerically stable: subtract the maximum score of each row before "
                  "exponentiating, so that large scores do not overflow")
AVERAGE_HINT = "the gradient seems not to be averaged over the N examples (divide by N)"
REG_GRADIENT_HINT = "the gradient of reg * np.sum(W * W) is 2 * reg * W, not reg * W"


def clusters(n_per_class=20, classes=4, dim=10, spread=0.3):
    """Points around ``classes`` well-separated centres: any correct classifier gets (nearly) all right."""
    centres = 3.0 * np.random.randn(classes, dim)
    y = np.repeat(np.arange(classes), n_per_class)
    X = centres[y] + spread * np.random.randn(len(y), dim)
    order = np.random.permutation(len(y))
    return X[order], y[order]


def close_gradient(actual, numeric, what, tol):
    """``actual`` against a numeric gradient: ``|actual - numeric| / (|actual| + |numeric|)`` over the whole
    array (entries near zero make the element-wise relative error noisy)."""
    arr = array(actual, what, np.shape(numeric))
    err = float(np.linalg.norm(arr - numeric) / max(1e-8, np.linalg.norm(arr) + np.linalg.norm(numeric)))
    if not err <= tol:
        fail(f"{what}: relative error {err:.2e} against the numeric gradient (at most {tol:.0e})")


def accuracy_of(pred, y, what):
    pred = array(pred, what, y.shape)
    return float(np.mean(pred == y))


# ============================================================================================== Q1
def _knn(X_train, y_train):
    knn = module("classifiers.k_nearest_neighbor").KNearestNeighbor()
    knn.train(X_train, y_train)
    return knn


def _distances(method):
    knn = _knn(lin((6, 4), -1.0, 2.0) ** 2, np.arange(6))
    close(getattr(knn, method)(lin((3, 4), 0.5, -1.5) ** 3), VALUES["dists"], f"{method}(X)", 1e-8)


@check("Q1", "test_distances_two_loops",
       hint="dists[i, j] is the Euclidean distance between the i-th test point and the j-th training point: "
            "np.sqrt(np.sum((X[i] - self.X_train[j]) ** 2))")
def test_distances_two_loops():
    _distances("compute_distances_two_loops")


@check("Q1", "test_distances_one_loop",
       hint="one loop over the test points: the distances of X[i] to every training row at once (broadcasting "
            "X[i] against self.X_train, summed over axis 1)")
def test_distances_one_loop():
    _distances("compute_distances_one_loop")


@check("Q1", "test_distances_no_loops",
       hint="without loops: |x - t|^2 = |x|^2 + |t|^2 - 2 x.t, with one matrix product X.dot(self.X_train.T) "
            "and two broadcast sums of squares")
def test_distances_no_loops():
    _distances("compute_distances_no_loops")


DISTS = [[3., 1., 2., 5., 4., 6.], [1., 1.5, 6., 2., 5., 3.], [6., 5., 4., 3., 2., 1.], [2., 1., 1.5, 1.2, 9., 8.]]
Y_TRAIN = [2, 0, 1, 1, 0, 2]


def _labels(ks, ties):
    knn = _knn(np.zeros((6, 1)), np.array(Y_TRAIN))
    for k in ks:
        pred = array(knn.predict_labels(np.array(DISTS), k=k), f"predict_labels(dists, k={k})", (4,))
        wrong = int(np.sum(pred != np.array(VALUES[f"pred_k{k}"])))
        if wrong:
            fail(f"predict_labels(dists, k={k}): {wrong} of 4 labels differ from the majority vote of the k nearest "
                 f"training points" + (" (a tie goes to the smaller label)" if ties else ""))


@check("Q1", "test_predict_labels",
       hint="predict_labels takes the labels of the k smallest distances of each row (np.argsort) and their most "
            "common label")
def test_predict_labels():
    _labels((1, 3, 5), False)


@check("Q1", "test_predict_labels_ties",
       hint="a tie between labels goes to the smaller label (np.bincount(...).argmax() does that)")
def test_predict_labels_ties():
    _labels((2, 4), True)


@check("Q1", "test_knn_accuracy",
       hint="predict(X, k) computes the distances (no loops by default) and votes: on well-separated clusters "
            "k = 1 is (nearly) always right")
def test_knn_accuracy():
    X, y = clusters()
    knn = _knn(X[:60], y[:60])
    acc = accuracy_of(knn.predict(X[60:], k=1), y[60:], "predict(X, k=1)")
    if not acc >= 0.9:
        fail(f"k-NN with k=1 classifies {acc:.0%} of 20 points of well-separated clusters correctly (at least 90%)")


# ============================================================================================== Q2, Q3
def _loss_inputs():
    W = 0.01 * np.random.randn(20, 5)
    return W, np.random.randn(30, 20), np.random.randint(5, size=30)


def _check_loss(module_name, fn_name, key, l2_hint=L2_HINT):
    fn = getattr(module(module_name), fn_name)
    W, X, y = _loss_inputs()
    for tag, reg in (("0", 0.0), ("reg", 0.1)):
        loss, dW = pair(fn(W, X, y, reg), fn_name)
        expected = VALUES[f"{key}_loss_{tag}"]
        hint = None
        if tag == "reg":
            penalty = expected - VALUES[f"{key}_loss_0"]
            if matches(loss, VALUES[f"{key}_loss_0"] + 0.5 * penalty, 1e-9):
                hint = l2_hint
        close_scalar(loss, expected, f"loss of {fn_name}(W, X, y, reg={reg:g})", 1e-10, hint)
        numeric = numeric_gradient(lambda w: fn(w, X, y, reg)[0], W, 1.0)
        arr = array(dW, f"dW of {fn_name}(W, X, y, reg={reg:g})", W.shape)
        if matches(arr, numeric * len(y), 1e-4):
            fail("dW is N times too large", AVERAGE_HINT)
        close_gradient(arr, numeric, f"dW of {fn_name}(W, X, y, reg={reg:g})", 1e-8)


def _sparse_gradient_check(module_name, fn_name):
    """The notebooks' grad_check_sparse: 10 random coordinates of dW against the loss's differences."""
    fn = getattr(module(module_name), fn_name)
    W, X, y = _loss_inputs()
    for reg in (0.0, 50.0):
        _, dW = pair(fn(W, X, y, reg), fn_name)
        dW = array(dW, f"dW of {fn_name}", W.shape)
        for _ in range(10):
            ix = tuple(np.random.randint(d) for d in W.shape)
            old = W[ix]
            W[ix] = old + 1e-5
            plus = float(fn(W, X, y, reg)[0])
            W[ix] = old - 1e-5
            minus = float(fn(W, X, y, reg)[0])
            W[ix] = old
            numeric = (plus - minus) / 2e-5
            err = abs(numeric - dW[ix]) / max(1e-8, abs(numeric) + abs(dW[ix]))
            if not err <= 1e-6:
                fail(f"{fn_name}: dW{list(ix)} differs from the numerical gradient of the loss (relative error "
                     f"{err:.1e} at reg={reg:g}; at most 1e-6)")
        if not np.any(dW != 0):
            fail(f"{fn_name}: dW is all zeros")


def _speed(module_name, naive, vectorized):
    """The vectorized loss against the naive one on svm.ipynb's sizes (the best of several runs of each)."""
    mod = module(module_name)
    W, X = 1e-4 * np.random.randn(3073, 10), 60 * np.random.randn(500, 3073)
    y, reg = np.random.randint(10, size=500), 5e-6
    loss_n, dW_n = pair(getattr(mod, naive)(W, X, y, reg), naive)
    loss_v, dW_v = pair(getattr(mod, vectorized)(W, X, y, reg), vectorized)
    close_scalar(loss_v, float(array(loss_n, f"{naive} loss", ())), f"{vectorized} loss vs {naive} loss", 1e-10)
    close(dW_v, array(dW_n, f"{naive} gradient", W.shape), f"{vectorized} gradient vs {naive} gradient", 1e-10)
    best = {}
    for name, runs in ((naive, 3), (vectorized, 7)):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            getattr(mod, name)(W, X, y, reg)
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    ratio = best[naive] / max(best[vectorized], 1e-9)
    if not ratio >= SPEEDUP:
        fail(f"{vectorized} takes {best[vectorized] * 1e3:.1f} ms and {naive} {best[naive] * 1e3:.1f} ms: "
             f"{ratio:.1f} times faster; at least {SPEEDUP:g} times is required")


@check("Q2", "test_svm_loss_naive",
       hint="the SVM loss sums max(0, s_j - s_y + 1) over the wrong classes, averaged over N, plus "
            "reg * np.sum(W * W); dW gets X[i] for each positive margin (column j) and minus it for column y[i]")
def test_svm_loss_naive():
    _check_loss("classifiers.linear_svm", "svm_loss_naive", "svm")


@check("Q2", "test_svm_loss_vectorized",
       hint="the vectorized SVM loss must equal the naive one: the margins of all examples at once "
            "(scores - correct scores[:, None] + 1, the correct class set to 0)")
def test_svm_loss_vectorized():
    _check_loss("classifiers.linear_svm", "svm_loss_vectorized", "svm")


@check("Q2", "test_svm_gradient_check",
       hint=REG_GRADIENT_HINT)
def test_svm_gradient_check():
    _sparse_gradient_check("classifiers.linear_svm", "svm_loss_vectorized")


@check("Q2", "test_svm_vectorized_speed",
       hint="no Python loop over the examples or classes in svm_loss_vectorized: matrix products and boolean "
            "masks only")
def test_svm_vectorized_speed():
    _speed("classifiers.linear_svm", "svm_loss_naive", "svm_loss_vectorized")


@check("Q3", "test_softmax_loss_naive",
       hint="the softmax loss is the mean of -log(softmax(scores)[y]) plus reg * np.sum(W * W); dW = "
            "X.T.dot(softmax - one_hot(y)) / N + 2 * reg * W")
def test_softmax_loss_naive():
    _check_loss("classifiers.softmax", "softmax_loss_naive", "softmax")


@check("Q3", "test_softmax_loss_vectorized",
       hint="the vectorized softmax loss must equal the naive one, without loops")
def test_softmax_loss_vectorized():
    _check_loss("classifiers.softmax", "softmax_loss_vectorized", "softmax")


@check("Q3", "test_softmax_large_scores", hint=STABILITY_HINT)
def test_softmax_large_scores():
    mod = module("classifiers.softmax")
    W, X, y = _loss_inputs()
    W = 40000 * W
    for fn in ("softmax_loss_naive", "softmax_loss_vectorized"):
        loss, dW = pair(getattr(mod, fn)(W, X, y, 0.0), fn)
        value = np.asarray(loss, dtype=float) if loss is not None else None
        hint = STABILITY_HINT if value is not None and value.size == 1 and not np.isfinite(value) else None
        close_scalar(loss, VALUES["softmax_loss_big"], f"{fn} loss (scores in the thousands)", 1e-10, hint)
        numeric = numeric_gradient(lambda w: getattr(mod, fn)(w, X, y, 0.0)[0], W, 1.0)
        close_gradient(dW, numeric, f"{fn} gradient (large scores)", 1e-7)


@check("Q3", "test_softmax_gradient_check",
       hint=REG_GRADIENT_HINT)
def test_softmax_gradient_check():
    _sparse_gradient_check("classifiers.softmax", "softmax_loss_vectorized")


@check("Q3", "test_softmax_vectorized_speed",
       hint="no Python loop over the examples or classes in softmax_loss_vectorized: matrix products only")
def test_softmax_vectorized_speed():
    _speed("classifiers.softmax", "softmax_loss_naive", "softmax_loss_vectorized")


# ============================================================================================== Q4
def _sgd(name):
    """Every training row is the same: whatever rows a step samples, 5 steps from W0 end at one W."""
    clf = getattr(module("classifiers.linear_classifier"), name)()
    clf.W = lin((8, 3), -0.2, 0.2)
    history = clf.train(np.tile(lin((8,), -1.0, 1.0), (20, 1)), np.full(20, 2), learning_rate=0.1, reg=0.01,
                        num_iters=5, batch_size=5)
    if history is None or len(history) != 5:
        fail(f"{name}.train() should return the loss of each of its 5 steps")
    close(np.asarray(history, dtype=float), VALUES[f"history_{name}"], f"{name}.train() loss history", 1e-8)
    close(clf.W, VALUES[f"W_{name}"], f"{name}.W after 5 SGD steps", 1e-8)


@check("Q4", "test_sgd_softmax",
       hint="each step of train() samples batch_size rows (np.random.choice, with replacement), computes the loss "
            "and gradient, and moves W by -learning_rate * grad")
def test_sgd_softmax():
    _sgd("Softmax")


@check("Q4", "test_sgd_svm",
       hint="each step of train() samples batch_size rows (np.random.choice, with replacement), computes the loss "
            "and gradient, and moves W by -learning_rate * grad")
def test_sgd_svm():
    _sgd("LinearSVM")


@check("Q4", "test_predict", hint="predict(X) is the class of the highest score X.dot(self.W) of each row")
def test_predict():
    clf = module("classifiers.linear_classifier").Softmax()
    clf.W = lin((6, 4), -1.0, 1.0) * np.array([1.0, -2.0, 0.5, 3.0])
    X = lin((5, 6), -2.0, 3.0) ** 2 - 2
    pred = array(clf.predict(X), "predict(X)", (5,))
    wrong = int(np.sum(pred != np.argmax(X.dot(clf.W), axis=1)))
    if wrong:
        fail(f"predict(X): {wrong} of 5 labels are not the class of the highest score X.dot(W)")


def _linear_accuracy(name):
    X, y = clusters()
    clf = getattr(module("classifiers.linear_classifier"), name)()
    clf.train(X[:60], y[:60], learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=20)
    acc = accuracy_of(clf.predict(X[60:]), y[60:], f"{name}.predict(X)")
    if not acc >= 0.9:
        fail(f"after 300 steps of train(), {name} classifies {acc:.0%} of 20 points of well-separated clusters "
             "correctly (at least 90%)")


@check("Q4", "test_linear_svm_accuracy",
       hint="a LinearSVM trained by train() separates well-separated clusters: check its loss and train()")
def test_linear_svm_accuracy():
    _linear_accuracy("LinearSVM")


@check("Q4", "test_softmax_accuracy",
       hint="a Softmax classifier trained by train() separates well-separated clusters: check its loss and train()")
def test_softmax_accuracy():
    _linear_accuracy("Softmax")


# ============================================================================================== Q5
@check("Q5", "test_affine",
       hint="affine_forward reshapes each input into a row (x.reshape(N, -1) @ w + b); affine_backward's dx has "
            "the shape of the original x")
def test_affine():
    L = module("layers")
    out, _ = pair(L.affine_forward(lin((2, 4, 5, 6), -0.1, 0.5), lin((120, 3), -0.2, 0.3), lin((3,), -0.3, 0.1)),
                  "affine_forward")
    close(out, [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]], "affine_forward out",
          1e-8)
    x, w, b = np.random.randn(10, 2, 3), np.random.randn(6, 5), np.random.randn(5)
    dout = np.random.randn(10, 5)
    _, cache = pair(L.affine_forward(x, w, b), "affine_forward")
    dx, dw, db = pair(L.affine_backward(dout, cache), "affine_backward", 3)
    grad_close(dx, lambda v: L.affine_forward(v, w, b)[0], x, dout, "affine_backward dx", 1e-8)
    grad_close(dw, lambda v: L.affine_forward(x, v, b)[0], w, dout, "affine_backward dw", 1e-8)
    grad_close(db, lambda v: L.affine_forward(x, w, v)[0], b, dout, "affine_backward db", 1e-8)


@check("Q5", "test_relu",
       hint="relu_forward is max(0, x); relu_backward passes dout where x > 0 and 0 elsewhere")
def test_relu():
    L = module("layers")
    out, _ = pair(L.relu_forward(lin((3, 4), -0.5, 0.5)), "relu_forward")
    close(out, [[0., 0., 0., 0.], [0., 0., 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]],
          "relu_forward out", 5e-7)
    x, dout = np.random.randn(10, 10), np.random.randn(10, 10)
    _, cache = pair(L.relu_forward(x), "relu_forward")
    grad_close(L.relu_backward(dout, cache), lambda v: L.relu_forward(v)[0], x, dout, "relu_backward dx", 1e-8)


def _layer_loss(fn_name, expected):
    L = module("layers")
    x, y = 0.001 * np.random.randn(50, 10), np.random.randint(10, size=50)
    fn = getattr(L, fn_name)
    loss, dx = pair(fn(x, y), fn_name)
    close_scalar(loss, expected, f"{fn_name} loss", 1e-9)
    numeric = numeric_gradient(lambda v: fn(v, y)[0], x, 1.0)
    arr = array(dx, f"{fn_name} dx", x.shape)
    if matches(arr, numeric * len(y), 1e-4):
        fail(f"{fn_name} dx is N times too large", AVERAGE_HINT)
    close(arr, numeric, f"{fn_name} dx", 1e-7)


@check("Q5", "test_svm_loss",
       hint="svm_loss: the mean over N of the sum of max(0, x_j - x_y + 1) over the wrong classes; its dx is "
            "averaged over the N examples too")
def test_svm_loss():
    _layer_loss("svm_loss", 8.999602749096233)


@check("Q5", "test_softmax_loss",
       hint="softmax_loss: the mean of -log(softmax(x)[y]), computed after subtracting each row's maximum (large "
            "scores must not overflow); dx = (softmax(x) - one_hot(y)) / N")
def test_softmax_loss():
    _layer_loss("softmax_loss", 2.302545844500738)
    L = module("layers")
    loss, _ = pair(L.softmax_loss(lin((3, 10), -400.0, 1200.0), np.array([9, 2, 5])), "softmax_loss")
    value = np.asarray(loss, dtype=float) if loss is not None else None
    hint = STABILITY_HINT if value is not None and value.size == 1 and not np.isfinite(value) else None
    close_scalar(loss, 202.29885057471265, "softmax_loss loss (large scores)", 1e-9, hint)


TWO_LAYER_PARAMS = {"W1": ((5, 50), -0.7, 0.3), "b1": ((50,), -0.1, 0.9),
                    "W2": ((50, 7), -0.3, 0.4), "b2": ((7,), -0.9, 0.1)}


def _two_layer():
    np.random.randn(3, 5), np.random.randint(7, size=3)       # the notebook's draws before the model
    return module("classifiers.fc_net").TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=1e-3)


def _two_layer_fixed():
    model = _two_layer()
    params = params_of(model, tuple(TWO_LAYER_PARAMS))
    for k, spec in TWO_LAYER_PARAMS.items():
        params[k] = lin(*spec)
    return model, lin((5, 3), -5.5, 4.5).T


@check("Q5", "test_two_layer_init",
       hint="TwoLayerNet keeps W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) in self.params: weights "
            "weight_scale * randn, biases zeros")
def test_two_layer_init():
    params = params_of(_two_layer(), tuple(TWO_LAYER_PARAMS))
    init_ok(params, {k: s[0] for k, s in TWO_LAYER_PARAMS.items()}, 1e-3, rel_tol=0.1)


@check("Q5", "test_two_layer_scores",
       hint="with y=None, loss(X) returns the class scores of affine - relu - affine (no softmax)")
def test_two_layer_scores():
    model, X = _two_layer_fixed()
    close(model.loss(X), [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]], "scores", 1e-8)


def _two_layer_loss(reg, expected, grad_reg):
    model, X = _two_layer_fixed()
    y = np.array([0, 5, 1])
    model.reg = reg
    loss, _ = pair(model.loss(X, y), "model.loss(X, y)")
    hint = NET_L2_HINT if reg and matches(loss, 2 * expected - 3.4702243556, 1e-8) else None
    close_scalar(loss, expected, f"loss (reg {reg})", 1e-9, hint)
    model.reg = grad_reg
    model_gradients(model, X, y, tuple(TWO_LAYER_PARAMS), 1e-6)


@check("Q5", "test_two_layer_loss",
       hint="the loss is the softmax loss of the scores; the gradients come from the backward passes of the "
            "layers in reverse order")
def test_two_layer_loss():
    _two_layer_loss(0.0, 3.4702243556, 0.0)


@check("Q5", "test_two_layer_loss_regularized", hint=NET_L2_HINT)
def test_two_layer_loss_regularized():
    _two_layer_loss(1.0, 26.5948426952, 0.7)


@check("Q5", "test_two_layer_training",
       hint="the Solver trains the model with its loss and gradients: a correct TwoLayerNet learns 50 examples "
            "by heart in a few epochs")
def test_two_layer_training():
    model = module("classifiers.fc_net").TwoLayerNet(input_dim=20, hidden_dim=50, num_classes=5, weight_scale=0.1)
    X, y = np.random.randn(50, 20), np.random.randint(5, size=50)
    solver = module("solver").Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                                     update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=20,
                                     batch_size=25, print_every=10 ** 9, verbose=False)
    solver.train()
    acc = accuracy_of(np.argmax(array(model.loss(X), "scores"), axis=1), y, "predictions")
    if not acc >= 0.9:
        fail(f"after training, the model classifies {acc:.0%} of its 50 training examples correctly (at least 90%)")


# ============================================================================================== Q6
def _image():
    return lin((16, 16, 3), 0, 1) * 255 * np.abs(np.sin(lin((16, 16, 3), 0, 20)))


@check("Q6", "test_hog_feature",
       hint="hog_feature: the gradient magnitude and orientation of the grey image, then for each 8x8 cell the "
            "mean magnitude in each of the 9 orientation bins of 20 degrees")
def test_hog_feature():
    hog = module("features").hog_feature
    close(hog(_image()), VALUES["hog"], "hog_feature of a (16, 16, 3) image", 1e-8)
    close(hog(_image().mean(axis=2)), VALUES["hog_gray"], "hog_feature of a (16, 16) image", 1e-8)


@check("Q6", "test_color_histogram_hsv",
       hint="color_histogram_hsv: the hue of im / xmax (rgb_to_hue) scaled by xmax, counted in nbin equal bins "
            "(np.histogram), divided by the number of pixels when normalized")
def test_color_histogram_hsv():
    hist = module("features").color_histogram_hsv
    close(hist(_image()), VALUES["hist"], "color_histogram_hsv(im)", 1e-8)
    close(hist(_image(), nbin=7), VALUES["hist7"], "color_histogram_hsv(im, nbin=7)", 1e-8)


# The solutions' values on the public inputs above.
VALUES = {'W_LinearSVM': [[-0.098805587214, -0.081587501648, -0.361976606486],
                          [-0.075494872458, -0.058276786891, -0.2536352659],
                          [-0.052184157701, -0.034966072135, -0.145293925313],
                          [-0.028873442945, -0.011655357378, -0.036952584727],
                          [-0.005562728188, 0.011655357378, 0.07138875586],
                          [0.017747986568, 0.034966072135, 0.179730096446],
                          [0.041058701325, 0.058276786891, 0.288071437033],
                          [0.064369416081, 0.081587501648, 0.396412777619]],
          'W_Softmax': [[-0.068389773321, -0.051171687755, -0.422808234272],
                        [-0.053769291106, -0.036551205539, -0.297086428604],
                        [-0.03914880889, -0.021930723324, -0.171364622936],
                        [-0.024528326674, -0.007310241108, -0.045642817267],
                        [-0.009907844459, 0.007310241108, 0.080078988401], [0.004712637757, 0.021930723324, 0.205800794069],
                        [0.019333119973, 0.036551205539, 0.331522599737],
                        [0.033953602188, 0.051171687755, 0.457244405405]],
          'dists': [[1.3125331802, 0.1438735051, 0.2429948515, 1.2415261591, 3.3592930806, 6.5741986864],
                    [1.7210876844, 0.6147766902, 0.7227539577, 1.760401843, 3.8632891133, 7.0661864633],
                    [5.5241614626, 4.5427277285, 4.6243117015, 5.6976849224, 7.7904793049, 10.9543952441]],
          'hist': [0.390625, 0.0234375, 0.0, 0.0, 0.0, 0.5703125, 0.0078125, 0.0, 0.00390625, 0.00390625],
          'hist7': [0.4140625, 0.0, 0.0, 0.0234375, 0.5546875, 0.00390625, 0.00390625],
          'history_LinearSVM': [2.00347826087, 0.005521504596, 0.005499440664, 0.005477464899, 0.005455576949],
          'history_Softmax': [1.102090549538, 0.887245240001, 0.722332312742, 0.597369556961, 0.502690153529],
          'hog': [5.699419593917, 0.137503738314, 0.0, 0.0, 0.019970742798, 0.047083455459, 0.0, 0.176386930275,
                  13.898982124059, 7.388218161794, 0.463365571346, 0.0, 0.0, 2.062068927933, 0.173042031693, 0.114288538261,
                  0.722562931726, 25.350722863932, 4.066970614303, 0.0, 0.100438724469, 0.0, 0.0, 0.0, 0.104894128912, 0.0,
                  21.847510971179, 12.757738138924, 0.23962377649, 0.0, 0.0, 1.528726929415, 0.138955095798, 0.0,
                  0.35243899181, 20.344402530236],
          'hog_gray': [5.591122081674, 0.140073483874, 0.0, 0.0, 0.019125770547, 0.04383061694, 0.0, 0.164887925946,
                       13.440888838891, 7.261595283658, 0.47241912198, 0.0, 0.0, 2.000223742963, 0.26650747719, 0.0,
                       0.677270252066, 24.467367043927, 3.20783214377, 0.103141343186, 0.0, 0.0, 0.0, 0.0, 0.096353771135,
                       0.0, 21.117849648544, 12.51224447808, 0.244052986843, 0.0, 0.0, 1.478360327404, 0.129383691563, 0.0,
                       0.330090248768, 22.686561083158],
          'pred_k1': [0, 2, 2, 0],
          'pred_k2': [0, 0, 0, 0],
          'pred_k3': [0, 0, 0, 1],
          'pred_k4': [0, 2, 1, 1],
          'pred_k5': [0, 0, 0, 1],
          'softmax_loss_0': 1.6136170112916028,
          'softmax_loss_big': 1917.4558834469758,
          'softmax_loss_reg': 1.6144881581711974,
          'svm_loss_0': 4.017667302966209,
          'svm_loss_reg': 4.018538449845804}

