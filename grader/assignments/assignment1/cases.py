"""Assignment 1's reference cases: the hidden inputs of every unit check, and how the reference answers.

Each case draws its inputs from its own ``np.random.RandomState`` (see ``grader.references.cases``); the
recipe says what it draws. The sizes the suites rely on are defined here too, so a suite and its cases
cannot disagree.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.references.cases import Cases

CASES = Cases()
Arrays = dict[str, Any]

# the svm.ipynb development set: 500 rows of 3072 pixels and the bias column; the vectorized loss must be
# SPEEDUP times faster than the submission's own naive loss on it. In float64 the vectorized loss is bound
# by reading X twice (X.dot(W), then X.T.dot(...)): on two shared cores the solutions' vectorized losses
# measure about 6 times their naive ones in the sandbox (4.3 to 8 under load; naive about 40 ms,
# vectorized about 7 ms), while a loss that still loops over the examples (the classes vectorized) is
# about as slow as the naive one (ratio about 1).
SPEED_SHAPE = (500, 3073)
SPEED_CLASSES = 10
SPEEDUP = 3.0


def _r(rng, *shape, scale=1.0, shift=0.0):
    return scale * rng.randn(*shape) + shift


def speed_inputs(seed: int) -> Arrays:
    """The inputs of the speed checks (drawn by the suite: nothing secret, too large to store):
    W 1e-4*randn(3073, 10), X 60*randn(500, 3073), y randint(10), reg 5e-6."""
    rng = np.random.RandomState(seed)
    return dict(W=_r(rng, SPEED_SHAPE[1], SPEED_CLASSES, scale=1e-4), X=_r(rng, *SPEED_SHAPE, scale=60.0),
                y=rng.randint(SPEED_CLASSES, size=SPEED_SHAPE[0]), reg=5e-6)


# ---- Q1: k-nearest neighbours --------------------------------------------------------------------
def _distance_inputs(rng):
    X_train = _r(rng, 50, 24, scale=3.0)
    X_test = _r(rng, 13, 24, scale=3.0)
    X_test[2] = X_train[5]            # a zero distance
    return dict(X_train=X_train, y_train=rng.randint(4, size=50), X_test=X_test)


@CASES.case("Q1", "distances", 2101, "X_train 3*randn(50,24), y_train randint(4); X_test 3*randn(13,24), X_test[2] = X_train[5]",
      _distance_inputs)
def _distances(ref, a):
    knn = ref.k_nearest_neighbor.KNearestNeighbor()
    knn.train(a["X_train"], a["y_train"])
    return dict(dists=knn.compute_distances_two_loops(a["X_test"]))


PREDICT_KS = (1, 3, 5)
TIE_KS = (2, 4)


def _label_inputs(rng, classes):
    return dict(y_train=rng.randint(classes, size=40), dists=rng.rand(30, 40) * 10.0)


def _predictions(ref, a, ks):
    knn = ref.k_nearest_neighbor.KNearestNeighbor()
    knn.train(np.zeros((len(a["y_train"]), 1)), a["y_train"])
    return {f"pred_k{k}": np.asarray(knn.predict_labels(a["dists"], k=k), dtype=np.int64) for k in ks}


@CASES.case("Q1", "predict_labels", 2102, "y_train randint(6, size=40), dists 10*rand(30,40); k = 1, 3, 5",
      lambda rng: _label_inputs(rng, 6))
def _predict_labels(ref, a):
    return _predictions(ref, a, PREDICT_KS)


@CASES.case("Q1", "predict_ties", 2103, "y_train randint(3, size=40), dists 10*rand(30,40); k = 2, 4 (votes tie often)",
      lambda rng: _label_inputs(rng, 3))
def _predict_ties(ref, a):
    return _predictions(ref, a, TIE_KS)


# ---- Q2/Q3: SVM and softmax losses -------------------------------------------------------------
def _loss_inputs(rng):
    D, C, N = 20, 6, 40
    return dict(W=_r(rng, D, C, scale=0.5), X=_r(rng, N, D), y=rng.randint(C, size=N), reg=0.37)


def _losses(fn, a):
    out = {}
    for tag, reg in (("0", 0.0), ("reg", a["reg"])):
        loss, dW = fn(a["W"], a["X"], a["y"], reg)
        out[f"loss_{tag}"], out[f"dW_{tag}"] = loss, dW
    return out


@CASES.case("Q2", "svm_loss", 2201, "W 0.5*randn(20,6), X randn(40,20), y randint(6); reg 0 and 0.37", _loss_inputs)
def _svm_loss(ref, a):
    return _losses(ref.linear_svm.svm_loss_vectorized, a)


@CASES.case("Q3", "softmax_loss", 2301, "W 0.5*randn(20,6), X randn(40,20), y randint(6); reg 0 and 0.37; "
                                         "W_big = 400*W (scores in the thousands)", _loss_inputs)
def _softmax_loss(ref, a):
    out = _losses(ref.softmax.softmax_loss_vectorized, a)
    out["loss_big"], out["dW_big"] = ref.softmax.softmax_loss_vectorized(400 * a["W"], a["X"], a["y"], 0.0)
    return out


# ---- Q4: the linear classifier -----------------------------------------------------------------
SGD_STEPS = 3


def _sgd_inputs(rng):
    D, C = 9, 4
    return dict(row=_r(rng, D), label=int(rng.randint(C)), W0=_r(rng, D, C, scale=0.3), learning_rate=0.2,
                reg=0.05, X_pred=_r(rng, 15, D), W_pred=_r(rng, D, C))


@CASES.case("Q4", "sgd", 2401, "20 copies of the row randn(9) with one label; W0 0.3*randn(9,4); lr 0.2, reg 0.05, "
                               "3 steps of batch 5; X_pred randn(15,9), W_pred randn(9,4)", _sgd_inputs)
def _sgd(ref, a):
    X = np.tile(a["row"], (20, 1))
    y = np.full(20, a["label"])
    out = {}
    for name in ("LinearSVM", "Softmax"):
        clf = getattr(ref.linear_classifier, name)()
        clf.W = a["W0"].copy()
        history = clf.train(X, y, learning_rate=a["learning_rate"], reg=a["reg"], num_iters=SGD_STEPS, batch_size=5)
        out[f"W_{name}"], out[f"history_{name}"] = clf.W, np.array(history)
    clf = ref.linear_classifier.Softmax()
    clf.W = a["W_pred"]
    out["y_pred"] = np.asarray(clf.predict(a["X_pred"]), dtype=np.int64)
    return out


# ---- Q5: layers and the two-layer net ----------------------------------------------------------
@CASES.case("Q5", "layers", 2501, "x randn(4,3,5), w randn(15,6), b randn(6), dout randn(4,6); scores 1.5*randn(30,7), "
                                  "y randint(7); big = 30*randn(12,5)+900, y_big randint(5)",
      lambda rng: dict(x=_r(rng, 4, 3, 5), w=_r(rng, 15, 6), b=_r(rng, 6), dout=_r(rng, 4, 6),
                       scores=_r(rng, 30, 7, scale=1.5), y=rng.randint(7, size=30),
                       big=_r(rng, 12, 5, scale=30.0, shift=900.0), y_big=rng.randint(5, size=12)))
def _layers(ref, a):
    L = ref.layers
    out, cache = L.affine_forward(a["x"], a["w"], a["b"])
    dx, dw, db = L.affine_backward(a["dout"], cache)
    relu, relu_cache = L.relu_forward(a["x"])
    res = dict(affine_out=out, affine_dx=dx, affine_dw=dw, affine_db=db, relu_out=relu,
               relu_dx=L.relu_backward(a["x"] * 0.5 + 0.1, relu_cache))
    res["svm_loss"], res["svm_dx"] = L.svm_loss(a["scores"], a["y"])
    res["softmax_loss"], res["softmax_dx"] = L.softmax_loss(a["scores"], a["y"])
    res["softmax_loss_big"], res["softmax_dx_big"] = L.softmax_loss(a["big"], a["y_big"])
    return res


TWO_LAYER_DIMS = dict(input_dim=12, hidden_dim=9, num_classes=5)
TWO_LAYER_KEYS = ("W1", "b1", "W2", "b2")


def _two_layer_inputs(rng):
    D, H, C, N = 12, 9, 5, 6
    return dict(W1=_r(rng, D, H, scale=0.3), b1=_r(rng, H, scale=0.1), W2=_r(rng, H, C, scale=0.3),
                b2=_r(rng, C, scale=0.1), X=_r(rng, N, D), y=rng.randint(C, size=N), reg=0.37)


@CASES.case("Q5", "two_layer_net", 2502, "D,H,C,N = 12,9,5,6; params 0.3*randn (biases 0.1*randn); X randn; reg 0.37 "
                                        "(and the 2016-2020 net's loss at reg 0.37)",
      _two_layer_inputs)
def _two_layer_net(ref, a):
    model = ref.fc_net.TwoLayerNet(weight_scale=1e-2, **TWO_LAYER_DIMS)
    for k in TWO_LAYER_KEYS:
        model.params[k] = a[k].copy()
    out = {"scores": model.loss(a["X"])}
    # "old": the 2016-2020 net's loss(X, y, reg) has reg * sum(W * W), the 2021+ net's reg / 2 of that
    for tag, r in (("0", 0.0), ("reg", a["reg"]), ("old", 2 * a["reg"])):
        model.reg = r
        loss, grads = model.loss(a["X"], a["y"])
        out[f"loss_{tag}"] = loss
        for k in TWO_LAYER_KEYS:
            out[f"grad_{tag}_{k}"] = grads[k]
    return out


@CASES.case("Q5", "two_layer_init", 2503, "TwoLayerNet(input_dim=300, hidden_dim=120, num_classes=10, weight_scale=0.02)",
      lambda rng: dict(input_dim=300, hidden_dim=120, num_classes=10, weight_scale=0.02))
def _two_layer_init(ref, a):
    model = ref.fc_net.TwoLayerNet(**a)
    out = {}
    for k, v in model.params.items():
        out[f"shape_{k}"] = np.array(v.shape, dtype=np.int64)
        out[f"mean_{k}"] = float(np.mean(v))
        out[f"std_{k}"] = float(np.std(v))
    return out


# ---- Q6: image features ------------------------------------------------------------------------
@CASES.case("Q6", "features", 2601, "rgb randint(0,256,(32,32,3)) with a grey 6x6 patch; gray randint(0,256,(28,28)); "
                                    "rgb2 = 255*rand(24,24,3) (square: the classic hog_feature needs it)",
      lambda rng: dict(rgb=_grey_patch(rng.randint(0, 256, size=(32, 32, 3)).astype(np.float64)),
                       gray=rng.randint(0, 256, size=(28, 28)).astype(np.float64),
                       rgb2=255.0 * rng.rand(24, 24, 3)))
def _features(ref, a):
    F = ref.features
    return dict(hog_rgb=F.hog_feature(a["rgb"]), hog_gray=F.hog_feature(a["gray"]), hog_rgb2=F.hog_feature(a["rgb2"]),
                hist_rgb=F.color_histogram_hsv(a["rgb"]), hist_rgb2=F.color_histogram_hsv(a["rgb2"], nbin=7))


def _grey_patch(img):
    img[10:16, 10:16] = 128.0
    return img
