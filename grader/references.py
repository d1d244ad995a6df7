"""Reference outputs: the hidden inputs of every check and the values the reference solution gives.

Trusted side only. ``python -m grader refresh-references`` runs every case of ``CASES`` on the reference
solution (``solutions/cs231n``, imported as ``_reference_cs231n``) and writes

- ``reference_outputs/<assignment>/<question>.npz``: for each case ``<case>/in/<name>`` (the inputs) and
  ``<case>/out/<name>`` (the expected values), written with ``allow_pickle=False`` semantics into a zip
  whose entries are sorted, stored (not deflated) and dated 1980-01-01, so regenerating gives identical
  bytes;
- ``reference_outputs/<assignment>/manifest.json``: each case's recipe, seed, the shapes and dtypes of
  its arrays, the sha256 of the solution files and datasets used, and the calibration of the training
  checks.

The inputs are HIDDEN: other shapes, seeds and values than the public notebook checks, so a submission
cannot hard-code the notebook's expected arrays. Each case draws its inputs from its own
``np.random.RandomState(seed)``.

Stored cases are the UNSALTED ones: at grade time every case is drawn again from a seed derived from the
submission's salt (``grader.secret``: an HMAC of the graded files under the grader's secret) and its
expected values are computed then by the reference solution (``References.with_salt``), so inputs that
one upload leaks through its feedback are of no use to the next. The stored files stay a regression
guard: ``refresh-references --check`` and ``selftest`` verify that the reference solution still
reproduces them byte for byte.

Training checks (``TRAINING_CHECKS``) train a student model with the Solver inside the sandbox on a small
Fashion-MNIST task and measure accuracy on the trusted side. The task varies with the salt (a salted
choice of training images and a salted derangement of the class labels, see ``training_task``). Their
thresholds are *calibrated*: the same procedure runs on the reference over ``CALIBRATION_SEEDS``, each
seed on the task of its own public salt (none may fail), the threshold is the worst accuracy minus a
margin, and it must lie well above what a linear model and an untrained model reach.

The task ("sign-symmetric Fashion-MNIST"): 14x14 downsampled images scaled to [0, 1], centred with the
training mean, each image present twice, as ``x`` and ``-x`` with the same label. A linear classifier
cannot give ``x`` and ``-x`` the same class (its scores change sign), so it stays near chance, while a
network with one hidden ReLU layer learns it in a few epochs. Only the training images enter the
sandbox; the evaluation images (from the hidden split, Fashion-MNIST t10k[1000:]) stay here. The
fully-connected checks see each image as a row of 196 numbers; a convolutional check
(``TrainingCheck.image_shape``) sees the same images as ``(N, 1, 14, 14)`` arrays.
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_PKG = ROOT / "solutions" / "cs231n"
REFERENCE_DIR = ROOT / "reference_outputs"
REFERENCE_ALIAS = "_reference_cs231n"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST_VERSION = 1


class ReferenceError(Exception):
    """Reference outputs are missing, stale or cannot be generated."""


# --------------------------------------------------------------------------------------------------
# The reference solution
# --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def reference_package() -> SimpleNamespace:
    """The reference solution's modules: ``layers, layer_utils, optim, fc_net, cnn, solver``."""
    from grader.pkgload import load_module

    def mod(sub: str):
        return load_module(SOLUTIONS_PKG, REFERENCE_ALIAS, sub)

    return SimpleNamespace(
        layers=mod("layers"), layer_utils=mod("layer_utils"), optim=mod("optim"),
        fc_net=mod("classifiers.fc_net"), cnn=mod("classifiers.cnn"), solver=mod("solver"),
    )


def solution_files() -> list[Path]:
    """The files of the reference solution whose content the reference outputs depend on."""
    return sorted(p for p in SOLUTIONS_PKG.rglob("*.py") if "__pycache__" not in p.parts)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def solution_hashes() -> dict[str, str]:
    return {p.relative_to(SOLUTIONS_PKG).as_posix(): sha256_file(p) for p in solution_files()}


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST (gzipped IDX), read on the trusted side only
# --------------------------------------------------------------------------------------------------
def _idx_path(kind: str, what: str) -> Path:
    if kind not in ("train", "t10k") or what not in ("images", "labels"):
        raise ValueError(f"unknown Fashion-MNIST file {kind} {what}")
    suffix = "idx3-ubyte.gz" if what == "images" else "idx1-ubyte.gz"
    return FASHION_DIR / f"{kind}-{what}-{suffix}"


def dataset_hashes() -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(FASHION_DIR.glob("*.gz"))} if FASHION_DIR.is_dir() else {}


@lru_cache(maxsize=16)
def fashion_mnist(kind: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 28, 28)`` uint8 and labels ``(n,)`` int64 of ``kind`` ('train'/'t10k')[start:stop].

    Only the prefix up to ``stop`` is decompressed. Read-only arrays (cached).
    """
    images_path, labels_path = _idx_path(kind, "images"), _idx_path(kind, "labels")
    if not images_path.is_file():
        raise ReferenceError(f"Fashion-MNIST not found at {images_path} (Debian package dataset-fashion-mnist)")
    with gzip.open(images_path, "rb") as f:
        magic, count, rows, cols = np.frombuffer(f.read(16), dtype=">u4")
        if magic != 2051 or not 0 <= start <= stop <= count:
            raise ReferenceError(f"{images_path.name}: bad header or range [{start}:{stop}] of {count}")
        f.read(int(start * rows * cols))
        images = np.frombuffer(f.read(int((stop - start) * rows * cols)), dtype=np.uint8)
    with gzip.open(labels_path, "rb") as f:
        magic, count = np.frombuffer(f.read(8), dtype=">u4")
        if magic != 2049 or stop > count:
            raise ReferenceError(f"{labels_path.name}: bad header or range")
        f.read(start)
        labels = np.frombuffer(f.read(stop - start), dtype=np.uint8)
    images = images.reshape(stop - start, int(rows), int(cols))
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


# --------------------------------------------------------------------------------------------------
# Case registry
# --------------------------------------------------------------------------------------------------
Arrays = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One reference case: ``build(rng) -> inputs`` and ``compute(ref, inputs) -> expected``."""

    question: str
    name: str
    seed: int
    recipe: str
    build: Callable[[np.random.RandomState], Arrays]
    compute: Callable[[SimpleNamespace, Arrays], Arrays]

    @property
    def key(self) -> str:
        return f"{self.question}/{self.name}"


CASES: dict[str, Case] = {}


def case(question: str, name: str, seed: int, recipe: str, build: Callable[[np.random.RandomState], Arrays]):
    """Register ``compute`` (the decorated function) as the case ``question/name``."""

    def register(compute):
        c = Case(question, name, seed, recipe, build, compute)
        if c.key in CASES:
            raise ValueError(f"duplicate case {c.key}")
        CASES[c.key] = c
        return compute

    return register


def _r(rng, *shape, scale=1.0, shift=0.0):
    return scale * rng.randn(*shape) + shift


# ---- Q1: fully-connected layers -------------------------------------------------------------------
@case("Q1", "affine_forward", 1101, "x randn(4,3,2,5), w randn(30,6), b randn(6); x2 randn(5,7), w2 (7,3), b2 (3)",
      lambda rng: dict(x=_r(rng, 4, 3, 2, 5), w=_r(rng, 30, 6), b=_r(rng, 6),
                       x2=_r(rng, 5, 7), w2=_r(rng, 7, 3), b2=_r(rng, 3)))
def _affine_forward(ref, a):
    out, _ = ref.layers.affine_forward(a["x"], a["w"], a["b"])
    out2, _ = ref.layers.affine_forward(a["x2"], a["w2"], a["b2"])
    return dict(out=out, out2=out2)


@case("Q1", "affine_backward", 1102, "x randn(3,4,5), w randn(20,7), b randn(7), dout randn(3,7)",
      lambda rng: dict(x=_r(rng, 3, 4, 5), w=_r(rng, 20, 7), b=_r(rng, 7), dout=_r(rng, 3, 7)))
def _affine_backward(ref, a):
    _, cache = ref.layers.affine_forward(a["x"], a["w"], a["b"])
    dx, dw, db = ref.layers.affine_backward(a["dout"], cache)
    return dict(dx=dx, dw=dw, db=db)


@case("Q1", "relu", 1103, "x randn(6,7), dout randn(6,7)",
      lambda rng: dict(x=_r(rng, 6, 7), dout=_r(rng, 6, 7)))
def _relu(ref, a):
    out, cache = ref.layers.relu_forward(a["x"])
    return dict(out=out, dx=ref.layers.relu_backward(a["dout"], cache))


@case("Q1", "leaky_relu", 1104, "x randn(5,6), alpha 0.07, dout randn(5,6)",
      lambda rng: dict(x=_r(rng, 5, 6), alpha=0.07, dout=_r(rng, 5, 6)))
def _leaky_relu(ref, a):
    out, cache = ref.layers.leaky_relu_forward(a["x"], a["alpha"])
    return dict(out=out, dx=ref.layers.leaky_relu_backward(a["dout"], cache))


@case("Q1", "affine_relu", 1105, "x randn(3,2,5), w randn(10,8), b randn(8), dout randn(3,8)",
      lambda rng: dict(x=_r(rng, 3, 2, 5), w=_r(rng, 10, 8), b=_r(rng, 8), dout=_r(rng, 3, 8)))
def _affine_relu(ref, a):
    out, cache = ref.layer_utils.affine_relu_forward(a["x"], a["w"], a["b"])
    dx, dw, db = ref.layer_utils.affine_relu_backward(a["dout"], cache)
    return dict(out=out, dx=dx, dw=dw, db=db)


def _loss_inputs(rng):
    return dict(x=_r(rng, 40, 9, scale=1.5), y=rng.randint(9, size=40),
                x_big=_r(rng, 12, 6, scale=30.0, shift=900.0), y_big=rng.randint(6, size=12))


@case("Q1", "softmax_loss", 1106, "x 1.5*randn(40,9), y randint(9); x_big 30*randn(12,6)+900, y_big", _loss_inputs)
def _softmax_loss(ref, a):
    loss, dx = ref.layers.softmax_loss(a["x"], a["y"])
    loss_big, dx_big = ref.layers.softmax_loss(a["x_big"], a["y_big"])
    return dict(loss=loss, dx=dx, loss_big=loss_big, dx_big=dx_big)


@case("Q1", "svm_loss", 1107, "x 1.5*randn(40,9), y randint(9)", _loss_inputs)
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


@case("Q2", "two_layer_net", 1201, "D,H,C,N = 12,9,5,6; params 0.3*randn (biases 0.1*randn); X randn; reg 0.37",
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


@case("Q2", "two_layer_init", 1202, "TwoLayerNet(input_dim=300, hidden_dim=120, num_classes=10, weight_scale=0.02)",
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


@case("Q3", "fc_net", 1301, "hidden [7,6,5], D 8, C 4, N 5; W 0.4*randn, b 0.1*randn; X randn; reg 0.41",
      _fc_inputs)
def _fc_net(ref, a):
    model = ref.fc_net.FullyConnectedNet(dtype=np.float64, **FC_DIMS)
    return _model_outputs(model, a, _fc_param_names(4), a["reg"])


@case("Q3", "fc_init", 1302, "FullyConnectedNet([80, 60, 40], input_dim=100, num_classes=10, weight_scale=0.03)",
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


@case("Q4", "sgd_momentum", 1401, "w randn(5,6); dw randn(3,5,6) for 3 steps; lr 0.02, momentum 0.8, no velocity",
      lambda rng: _optim_inputs(rng))
def _sgd_momentum(ref, a):
    return _run_steps(ref.optim.sgd_momentum, a, {"learning_rate": 0.02, "momentum": 0.8})


@case("Q4", "rmsprop", 1402, "w, dw as sgd_momentum; cache |0.5*randn+0.3|; lr 0.01, decay 0.95",
      lambda rng: _optim_inputs(rng, [("cache", (0.5, 0.3))]))
def _rmsprop(ref, a):
    return _run_steps(ref.optim.rmsprop, a, {"learning_rate": 0.01, "decay_rate": 0.95, "cache": a["cache"].copy()})


@case("Q4", "adam", 1403, "w, dw as sgd_momentum; m randn, v |randn|, t 7; lr 0.02, beta1 0.85, beta2 0.99",
      lambda rng: dict(_optim_inputs(rng, [("v", (0.3, 0.2))]), m=_r(rng, 5, 6, scale=0.4)))
def _adam(ref, a):
    config = {"learning_rate": 0.02, "beta1": 0.85, "beta2": 0.99, "m": a["m"].copy(), "v": a["v"].copy(), "t": 7}
    return _run_steps(ref.optim.adam, a, config)


@case("Q4", "adam_fresh", 1404, "w, dw as sgd_momentum; empty state (defaults); lr 0.01",
      lambda rng: _optim_inputs(rng))
def _adam_fresh(ref, a):
    return _run_steps(ref.optim.adam, a, {"learning_rate": 0.01})


# ---- Q5: batch and layer normalization ---------------------------------------------------------------
def _bn_inputs(rng, N=30, D=7):
    return dict(x=_r(rng, N, D, scale=3.0, shift=2.0), gamma=_r(rng, D, scale=0.5, shift=1.0),
                beta=_r(rng, D, scale=0.5), running_mean=_r(rng, D), running_var=np.abs(_r(rng, D, shift=1.0)),
                x_test=_r(rng, 11, D, scale=3.0, shift=2.0), dout=_r(rng, N, D), momentum=0.8, eps=1e-4)


@case("Q5", "batchnorm_forward", 1501, "x 3*randn(30,7)+2, gamma, beta, running stats randn; momentum 0.8, eps 1e-4",
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


case("Q5", "batchnorm_backward", 1502, "x 3*randn(30,7)+2, gamma, beta, dout randn; eps 1e-4",
     _bn_inputs)(_bn_backward("batchnorm_backward"))
case("Q5", "batchnorm_backward_alt", 1503, "x 3*randn(64,20)+2, gamma, beta, dout randn; eps 1e-4",
     lambda rng: _bn_inputs(rng, 64, 20))(_bn_backward("batchnorm_backward_alt"))


@case("Q5", "layernorm", 1504, "x 3*randn(9,11)+2, gamma, beta, dout randn; eps 1e-4",
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


case("Q5", "fc_batchnorm", 1505, "hidden [6,5], D 7, C 4, N 8; gamma 1+0.2*randn, beta 0.2*randn; reg 0.41",
     lambda rng: _fc_inputs(rng, norm=True, n=8, dims=FC_NORM_DIMS))(_fc_norm_case("batchnorm"))
case("Q5", "fc_layernorm", 1506, "hidden [6,5], D 7, C 4, N 8; gamma 1+0.2*randn, beta 0.2*randn; reg 0.41",
     lambda rng: _fc_inputs(rng, norm=True, n=8, dims=FC_NORM_DIMS))(_fc_norm_case("layernorm"))


# ---- Q6: dropout -------------------------------------------------------------------------------------
@case("Q6", "dropout", 1601, "x randn(200,250)+5; p (keep) in 0.3, 0.6, 0.85; dout randn(20,30), x_small randn+5",
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


@case("Q6", "fc_dropout", 1602, "hidden [6,5], D 7, C 4, N 8; W 0.4*randn; keep 1 (no dropout) and keep 0.6",
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


@case("Q6", "fc_dropout_probe", 1603, "one sample; hidden [6,5], D 7, C 4; X |randn|, W1, W2 |0.2*randn|, b1, b2 >= 0.5 "
      "(every hidden unit active); W3 0.4*randn", _dropout_probe_inputs)
def _fc_dropout_probe(ref, a):
    model = ref.fc_net.FullyConnectedNet(dropout=1, dtype=np.float64, **FC_DROP_DIMS)
    for k in _fc_param_names(3):
        model.params[k] = a[k].copy()
    loss, _ = model.loss(a["X"], a["y"])
    return dict(scores=model.loss(a["X"]), loss_0=loss)


# ---- Q8: convolutional networks -----------------------------------------------------------------------
@case("Q8", "conv_forward", 1801, "x randn(3,2,7,6), w randn(4,2,3,3), b, stride 2 pad 1; "
      "x2 randn(2,3,5,6), w2 randn(2,3,3,2), b2, stride 1 pad 0",
      lambda rng: dict(x=_r(rng, 3, 2, 7, 6), w=_r(rng, 4, 2, 3, 3), b=_r(rng, 4),
                       x2=_r(rng, 2, 3, 5, 6), w2=_r(rng, 2, 3, 3, 2), b2=_r(rng, 2)))
def _conv_forward(ref, a):
    out, _ = ref.layers.conv_forward_naive(a["x"], a["w"], a["b"], {"stride": 2, "pad": 1})
    out2, _ = ref.layers.conv_forward_naive(a["x2"], a["w2"], a["b2"], {"stride": 1, "pad": 0})
    return dict(out=out, out2=out2)


@case("Q8", "conv_backward", 1802, "x randn(2,3,6,5), w randn(3,3,3,3), b, dout; stride 1 pad 1",
      lambda rng: dict(x=_r(rng, 2, 3, 6, 5), w=_r(rng, 3, 3, 3, 3), b=_r(rng, 3), dout=_r(rng, 2, 3, 6, 5)))
def _conv_backward(ref, a):
    _, cache = ref.layers.conv_forward_naive(a["x"], a["w"], a["b"], {"stride": 1, "pad": 1})
    dx, dw, db = ref.layers.conv_backward_naive(a["dout"], cache)
    return dict(dx=dx, dw=dw, db=db)


POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
POOL2 = {"pool_height": 3, "pool_width": 2, "stride": 2}


@case("Q8", "max_pool", 1803, "x randn(2,3,6,8) 2x2 stride 2; x2 randn(2,2,7,6) 3x2 stride 2; dout randn",
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


@case("Q8", "spatial_batchnorm", 1804, "x 3*randn(4,3,5,6)+7, gamma, beta, running stats; momentum 0.8, eps 1e-4",
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


@case("Q8", "spatial_groupnorm", 1805, "x 3*randn(3,6,4,5)+7, G 3, gamma/beta (1,6,1,1), dout; eps 1e-4",
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


@case("Q8", "three_layer_convnet", 1806, "input (3,10,10), 4 filters 3x3, hidden 7, C 5, N 4; reg 0.3",
      _cnn_inputs)
def _three_layer_convnet(ref, a):
    model = ref.cnn.ThreeLayerConvNet(dtype=np.float64, **CNN_DIMS)
    return _model_outputs(model, a, ("W1", "b1", "W2", "b2", "W3", "b3"), a["reg"])


@case("Q8", "cnn_init", 1807, "ThreeLayerConvNet(input_dim=(2,12,10), num_filters=6, filter_size=5, hidden_dim=20, "
      "num_classes=7, weight_scale=0.05)",
      lambda rng: dict(input_dim=np.array([2, 12, 10]), num_filters=6, filter_size=5, hidden_dim=20, num_classes=7,
                       weight_scale=0.05))
def _cnn_init(ref, a):
    kwargs = dict(a, input_dim=tuple(int(d) for d in a["input_dim"]))
    return _init_stats(ref.cnn.ThreeLayerConvNet(dtype=np.float64, **kwargs))


# --------------------------------------------------------------------------------------------------
# Training checks
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingCheck:
    """Train ``model`` (a class of the student's package) with the Solver on the symmetric task.

    ``image_shape``: None for a model that takes flat rows ``(N, 196)``; ``(1, 14, 14)`` for a model that
    takes images ``(N, C, H, W)`` (the same images, reshaped).
    """

    name: str
    question: str
    model: str                       # dotted path inside the package, e.g. "classifiers.fc_net.TwoLayerNet"
    model_kwargs: dict = field(default_factory=dict)
    solver_kwargs: dict = field(default_factory=dict)
    image_shape: tuple[int, ...] | None = None

    def spec(self) -> dict:
        spec = {"model": self.model, "model_kwargs": self.model_kwargs, "solver_kwargs": self.solver_kwargs,
                "task": TASK}
        if self.image_shape is not None:     # (left out for flat checks: their stored spec stays the same)
            spec["image_shape"] = list(self.image_shape)
        return spec

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """The task's flat rows ``X (N, 196)`` as this check's model takes them."""
        return X if self.image_shape is None else X.reshape((X.shape[0],) + tuple(self.image_shape))


TASK = dict(train_images=1000, val_images=100, eval_images=2000, downsample=2, salted_pool=10000,
            salted_labels="derangement of the 10 classes")
CALIBRATION_SEEDS = tuple(range(20))
CALIBRATION_MARGIN = 0.08        # absolute accuracy below the worst calibrated run
CALIBRATION_SEPARATION = 0.15    # the threshold must exceed linear/untrained runs by this much

TRAINING_CHECKS: dict[str, TrainingCheck] = {c.name: c for c in (
    TrainingCheck(
        "two_layer_net", "Q2", "classifiers.fc_net.TwoLayerNet",
        dict(input_dim=196, hidden_dim=64, num_classes=10, weight_scale=0.1, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=5, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
    ),
    TrainingCheck(
        "fc_net", "Q3", "classifiers.fc_net.FullyConnectedNet",
        dict(hidden_dims=[64, 64], input_dim=196, num_classes=10, weight_scale=0.1, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.3}, num_epochs=5, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
    ),
    # conv(8 filters 3x3) - relu - 2x2 max pool - affine(32) - relu - affine, on the images as (N, 1, 14, 14).
    # weight_scale 0.2: with 1e-2, plain SGD leaves this net at chance (~0.10) for the 8 epochs here.
    TrainingCheck(
        "three_layer_convnet", "Q8", "classifiers.cnn.ThreeLayerConvNet",
        dict(input_dim=(1, 14, 14), num_filters=8, filter_size=3, hidden_dim=32, num_classes=10,
             weight_scale=0.2, reg=0.0),
        dict(update_rule="sgd", optim_config={"learning_rate": 0.5}, num_epochs=8, batch_size=100,
             num_train_samples=200, num_val_samples=None, print_every=10 ** 9, verbose=False),
        image_shape=(1, 14, 14),
    ),
)}


def _downsample(images: np.ndarray, factor: int) -> np.ndarray:
    n, h, w = images.shape
    x = images.astype(np.float32).reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))
    return (x / np.float32(255.0)).reshape(n, -1)


def _derangement(rng: np.random.RandomState, n: int) -> np.ndarray:
    """A random permutation of ``range(n)`` that moves every element (rejection sampling)."""
    while True:
        perm = rng.permutation(n)
        if not np.any(perm == np.arange(n)):
            return perm


@lru_cache(maxsize=4)
def training_task(salt: bytes | None = None) -> dict[str, np.ndarray]:
    """The sign-symmetric Fashion-MNIST task (see the module doc).

    Returns ``X_train (2*1000, 196)``, ``y_train``, ``X_val (2*100, 196)``, ``y_val`` (for the sandbox:
    from the official training split) and ``X_eval (2*2000, 196)``, ``y_eval`` (trusted only: from the
    hidden split t10k[1000:]), all float32 / int64.

    Without a salt: the training images are train[:1000], the validation images train[1000:1100], the
    labels are Fashion-MNIST's. With a salt (``grader.secret``; every grade has one): the 1100 images are a
    salted choice from train[:salted_pool], and every label (evaluation labels included) goes through a
    salted derangement of the classes, so weights trained beforehand on any fixed task score near zero.
    """
    t = TASK
    n, m = t["train_images"], t["val_images"]
    if salt is None:
        images, labels = fashion_mnist("train", 0, n + m)
        perm = np.arange(10)
    else:
        from grader.secret import derived_seed

        rng = np.random.RandomState(derived_seed(salt, "training-task"))
        pool_images, pool_labels = fashion_mnist("train", 0, t["salted_pool"])
        chosen = rng.choice(t["salted_pool"], n + m, replace=False)
        images, labels = pool_images[chosen], pool_labels[chosen]
        perm = _derangement(rng, 10)
    hidden, hidden_labels = fashion_mnist("t10k", 1000, 1000 + t["eval_images"])
    x = _downsample(images, t["downsample"])
    mean = x[:n].mean(axis=0)
    x = x - mean
    xe = _downsample(hidden, t["downsample"]) - mean

    def sym(X, y):
        return np.concatenate([X, -X]).astype(np.float32), np.concatenate([perm[y], perm[y]]).astype(np.int64)

    X_train, y_train = sym(x[:n], labels[:n])
    X_val, y_val = sym(x[n:], labels[n:])
    X_eval, y_eval = sym(xe, hidden_labels)
    task = dict(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val, X_eval=X_eval, y_eval=y_eval)
    for v in task.values():
        v.flags.writeable = False    # cached: shared by every caller
    return task


def sandbox_training_data(salt: bytes | None = None, check: TrainingCheck | None = None) -> dict[str, np.ndarray]:
    """The part of the task (of ``salt``) that may enter the sandbox (no evaluation split), with the images
    shaped as ``check``'s model takes them (default: flat rows)."""
    task = training_task(salt)
    shape = check.inputs if check is not None else (lambda X: X)
    return {"X_train": shape(task["X_train"]), "y_train": task["y_train"],
            "X_val": shape(task["X_val"]), "y_val": task["y_val"]}


def reference_model(check: TrainingCheck, params: dict[str, np.ndarray] | None = None):
    """A reference model of ``check``'s class and shape, with ``params`` when given (trusted side)."""
    ref = reference_package()
    module_path, cls_name = check.model.rsplit(".", 1)
    module = {"classifiers.fc_net": ref.fc_net, "classifiers.cnn": ref.cnn}[module_path]
    state = np.random.get_state()
    try:
        model = getattr(module, cls_name)(**check.model_kwargs)
    finally:
        np.random.set_state(state)
    if params is not None:
        for k, v in params.items():
            model.params[k] = v
    return model


def evaluate_params(check: TrainingCheck, params: dict[str, np.ndarray], salt: bytes | None = None) -> float:
    """Accuracy on the trusted evaluation split (of the task of ``salt``) of the reference model holding
    ``params``."""
    task = training_task(salt)
    return accuracy(reference_model(check, params), check.inputs(task["X_eval"]), task["y_eval"])


EVAL_BATCH = 500   # images per forward pass: im2col columns of a few MB, not one mmap()ed block of 50+ MB


def accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of ``X`` that ``model`` (test-mode scores: ``model.loss(X)``) classifies as ``y``,
    computed batch by batch (each row's scores do not depend on the other rows)."""
    predicted = np.concatenate([np.argmax(model.loss(X[i:i + EVAL_BATCH]), axis=1)
                                for i in range(0, len(X), EVAL_BATCH)])
    return float(np.mean(predicted == y))


def calibration_salt(seed: int) -> bytes:
    """The (public, fixed) salt of calibration run ``seed``: calibration covers the salted tasks."""
    return hashlib.sha256(b"cs231n-calibration:%d" % seed).digest()


def train_reference(check: TrainingCheck, seed: int, *, linear: bool = False, untrained: bool = False,
                    salt: bytes | None = None) -> float:
    """Run ``check`` on the reference in this process (on the task of ``salt``, default unsalted); the
    accuracy on the evaluation split.

    ``linear``: the same procedure with a model without hidden layer (FullyConnectedNet([])) on the flat
    rows of the same images (for a convolutional check too), evaluated with its own forward pass - the best
    a linear model does. ``untrained``: no training at all.
    """
    ref = reference_package()
    shape = (lambda X: X) if linear else check.inputs     # the linear model takes the flat rows
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        if linear:
            kwargs = {k: v for k, v in check.model_kwargs.items() if k in ("num_classes", "weight_scale")}
            input_dim = int(np.prod(check.model_kwargs["input_dim"]))    # 196, also for (1, 14, 14)
            model = ref.fc_net.FullyConnectedNet([], input_dim=input_dim, dtype=np.float64, **kwargs)
        else:
            module_path, cls_name = check.model.rsplit(".", 1)
            module = {"classifiers.fc_net": ref.fc_net, "classifiers.cnn": ref.cnn}[module_path]
            model = getattr(module, cls_name)(**check.model_kwargs)
        if not untrained:
            data = {k: np.array(v) for k, v in sandbox_training_data(salt).items()}
            data["X_train"], data["X_val"] = shape(data["X_train"]), shape(data["X_val"])
            solver = ref.solver.Solver(model, data, **check.solver_kwargs)
            solver.train()
    finally:
        np.random.set_state(state)
    task = training_task(salt)
    return accuracy(model, shape(task["X_eval"]), task["y_eval"])


def calibrate(check: TrainingCheck, seeds=CALIBRATION_SEEDS) -> dict:
    """Calibrate ``check`` (see the module doc); raises ``ReferenceError`` if it cannot separate.

    Run ``seed`` initialises and trains with ``np.random.seed(seed)`` on the task of
    ``calibration_salt(seed)``, as a grade does on the task of its submission's salt."""
    accs = [train_reference(check, s, salt=calibration_salt(s)) for s in seeds]
    linear = [train_reference(check, s, linear=True, salt=calibration_salt(s)) for s in seeds[:5]]
    untrained = [train_reference(check, s, untrained=True, salt=calibration_salt(s)) for s in seeds[:5]]
    worst = min(accs)
    threshold = float(np.floor((worst - max(CALIBRATION_MARGIN, 3 * float(np.std(accs)))) * 100) / 100)
    baseline = max(max(linear), max(untrained))
    if threshold < baseline + CALIBRATION_SEPARATION:
        raise ReferenceError(f"training check {check.name}: threshold {threshold:.2f} does not separate the "
                             f"reference (worst {worst:.3f}) from linear/untrained models ({baseline:.3f})")
    failures = sum(a < threshold for a in accs)
    return {"seeds": list(seeds), "accuracies": [round(a, 6) for a in accs], "threshold": threshold,
            "failures": failures, "linear_accuracies": [round(a, 6) for a in linear],
            "untrained_accuracies": [round(a, 6) for a in untrained], "margin": CALIBRATION_MARGIN,
            "salts": "calibration_salt(seed) = sha256(b'cs231n-calibration:%d' % seed)",
            "spec": check.spec()}


# --------------------------------------------------------------------------------------------------
# Q7: the hidden split for the best model
# --------------------------------------------------------------------------------------------------
HIDDEN_SPLIT = ("t10k", 1000, 10000)


def training_mean_image() -> np.ndarray:
    """The mean image of the notebook's Fashion-MNIST training split (first 59000 images), float32."""
    images, _ = fashion_mnist("train", 0, 59000)
    return images.astype(np.float32).mean(axis=0, dtype=np.float64).astype(np.float32)


def best_model_case() -> dict[str, np.ndarray]:
    return {"best_model/out/mean_image": training_mean_image()}


def hidden_split(mean_image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST t10k[1000:] as ``(N, 1, 28, 28)`` float32 minus ``mean_image``, and labels."""
    images, labels = fashion_mnist(*HIDDEN_SPLIT)
    X = images.astype(np.float32)[:, None, :, :] - mean_image.reshape(1, 1, 28, 28)
    return X, labels


# --------------------------------------------------------------------------------------------------
# Writing and reading
# --------------------------------------------------------------------------------------------------
def _to_array(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ReferenceError(f"cannot store a value of dtype {arr.dtype}")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray would make 0-d 1-d)


def npz_bytes(arrays: dict[str, Any]) -> bytes:
    """A deterministic ``.npz``: sorted entries, stored, fixed dates, no pickles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, _to_array(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, member.getvalue())
    return buffer.getvalue()


def run_case(c: Case, seed) -> tuple[Arrays, Arrays]:
    """``(inputs, expected)`` of case ``c`` with its inputs drawn from ``seed`` (``c.seed`` for the stored,
    unsalted case; a salt-derived seed at grade time). The global generator is seeded too (the reference
    may draw from it) and restored afterwards."""
    ref = reference_package()
    state = np.random.get_state()
    np.random.seed(seed)   # in case the reference draws from the global generator
    try:
        inputs = c.build(np.random.RandomState(seed))
        expected = c.compute(ref, {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()})
    finally:
        np.random.set_state(state)
    clash = set(inputs) & set(expected)
    if clash:
        raise ReferenceError(f"case {c.key}: names used for both an input and an output: {sorted(clash)}")
    return inputs, expected


def compute_question(question: str) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """All arrays of ``question``'s (unsalted) cases and their manifest entries."""
    arrays: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}
    for c in CASES.values():
        if c.question != question:
            continue
        inputs, expected = run_case(c, c.seed)
        described = {}
        for kind, values in (("in", inputs), ("out", expected)):
            for k, v in values.items():
                arr = _to_array(v)
                arrays[f"{c.name}/{kind}/{k}"] = arr
                described[f"{kind}/{k}"] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
        entries[c.name] = {"recipe": c.recipe, "seed": c.seed, "arrays": described}
    if question == "Q7":
        arrays.update(best_model_case())
        entries["best_model"] = {"recipe": "mean image of Fashion-MNIST train[:59000] (float32), for t10k[1000:]",
                                 "seed": None, "arrays": {"out/mean_image": {"shape": [28, 28], "dtype": "float32"}}}
    return arrays, entries


def questions_with_cases() -> list[str]:
    return sorted({c.question for c in CASES.values()} | {"Q7"}, key=lambda q: int(q[1:]))


def generate(assignment: str = "assignment2", *, calibration: dict | None = None,
             calibrate_checks: bool = True) -> dict[str, bytes]:
    """``{file name: bytes}`` of the reference outputs of ``assignment``.

    ``calibration``: reuse these calibration results (by check name) instead of training again.
    """
    files: dict[str, bytes] = {}
    manifest: dict[str, Any] = {"version": MANIFEST_VERSION, "assignment": assignment,
                                "solution_sha256": solution_hashes(), "dataset_sha256": dataset_hashes(),
                                "questions": {}, "calibration": {}}
    for q in questions_with_cases():
        arrays, entries = compute_question(q)
        data = npz_bytes(arrays)
        files[f"{q}.npz"] = data
        manifest["questions"][q] = {"file": f"{q}.npz", "sha256": hashlib.sha256(data).hexdigest(), "cases": entries}
    for name, check in TRAINING_CHECKS.items():
        if calibration is not None and name in calibration:
            manifest["calibration"][name] = calibration[name]
        elif calibrate_checks:
            manifest["calibration"][name] = calibrate(check)
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def output_dir(assignment: str = "assignment2") -> Path:
    return REFERENCE_DIR / assignment


def refresh(assignment: str = "assignment2", *, recalibrate: bool = True) -> list[Path]:
    """Regenerate and write the reference outputs; returns the files written.

    Without ``recalibrate`` the stored calibration is kept when its spec and the solution are unchanged.
    """
    out = output_dir(assignment)
    reuse = None
    if not recalibrate:
        reuse = _reusable_calibration(assignment)
    files = generate(assignment, calibration=reuse)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(files.items()):
        path = out / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    for stale in out.glob("*.npz"):
        if stale.name not in files:
            stale.unlink()
    return written


def _stored_manifest(assignment: str, directory: Path | None = None) -> dict | None:
    path = Path(directory or output_dir(assignment)) / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def _reusable_calibration(assignment: str, directory: Path | None = None) -> dict:
    stored = _stored_manifest(assignment, directory)
    if not stored or stored.get("solution_sha256") != solution_hashes() \
            or stored.get("dataset_sha256") != dataset_hashes():
        return {}
    reuse = {}
    for name, check in TRAINING_CHECKS.items():
        entry = stored.get("calibration", {}).get(name)
        if entry and entry.get("spec") == json.loads(json.dumps(check.spec())) \
                and list(entry.get("seeds", [])) == list(CALIBRATION_SEEDS):
            reuse[name] = entry
    return reuse


def check(assignment: str = "assignment2", directory: Path | None = None) -> list[str]:
    """Why the stored reference outputs are stale (empty list: fresh).

    Compares the solution and dataset hashes, regenerates every case and compares bytes, and checks that
    each training check's stored calibration matches its current spec (calibration itself is not re-run:
    it depends only on the solution files, the datasets and the spec, all compared).
    """
    problems = []
    out = Path(directory or output_dir(assignment))
    stored = _stored_manifest(assignment, out)
    if stored is None:
        return [f"{out / 'manifest.json'} is missing or unreadable"]
    if stored.get("solution_sha256") != solution_hashes():
        problems.append("the solution files changed since the reference outputs were generated")
    if stored.get("dataset_sha256") != dataset_hashes():
        problems.append("the datasets changed since the reference outputs were generated")
    reuse = _reusable_calibration(assignment, out)
    for name in TRAINING_CHECKS:
        if name not in reuse:
            problems.append(f"the calibration of training check {name!r} is missing or stale")
    fresh = generate(assignment, calibration=stored.get("calibration", {}), calibrate_checks=False)
    for name, data in sorted(fresh.items()):
        path = out / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.read_bytes() != data:
            problems.append(f"{name} differs from a fresh regeneration")
    for extra in sorted(p.name for p in out.glob("*.npz")):
        if extra not in fresh:
            problems.append(f"{extra} is not generated any more")
    return problems


@dataclass
class CaseData:
    """Inputs and expected values of one case, as read from the stored ``.npz``."""

    name: str
    inputs: dict[str, Any]
    expected: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        """``case['x']`` (an input) or ``case['out']`` (an expected value); names are unique per case."""
        if key in self.inputs:
            return self.inputs[key]
        return self.expected[key]

    def __contains__(self, key: str) -> bool:
        return key in self.inputs or key in self.expected


def _from_stored(arr: np.ndarray) -> Any:
    if arr.ndim == 0:
        return arr.item()
    arr = np.array(arr)  # a private, writable copy
    return arr


class References:
    """Read access to ``reference_outputs/<assignment>/`` for the suites (trusted side).

    Without a salt, ``refs('Q1/affine_forward')`` is the stored (unsalted) case. ``refs.with_salt(salt)``
    (what ``grader.grade`` uses, see ``grader.secret``) gives a view whose cases have inputs drawn from the
    salt and expected values computed now by the reference solution; the training checks use the task of
    the salt (``training_task(salt)``); the manifest (calibration) and Q7's stored data are shared.
    """

    def __init__(self, assignment: str = "assignment2", directory: Path | None = None):
        self.assignment = assignment
        self.directory = Path(directory) if directory is not None else output_dir(assignment)
        manifest = self.directory / "manifest.json"
        if not manifest.is_file():
            raise ReferenceError(f"no reference outputs in {self.directory}: run `python -m grader refresh-references`")
        self.manifest = json.loads(manifest.read_text())
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        self.salt: bytes | None = None
        self._salted: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}

    def with_salt(self, salt: bytes | None) -> "References":
        """A view of the same reference outputs whose cases are drawn from ``salt`` (None: unsalted)."""
        view = copy.copy(self)
        view.salt = None if salt is None else bytes(salt)
        view._salted = {}
        return view

    def _salted_case(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        if key not in self._salted:
            from grader.secret import derived_seed

            inputs, expected = run_case(CASES[key], derived_seed(self.salt, "case:" + key))
            self._salted[key] = ({k: _to_array(v) for k, v in inputs.items()},
                                 {k: _to_array(v) for k, v in expected.items()})
        return self._salted[key]

    def _question(self, question: str) -> dict[str, np.ndarray]:
        if question not in self._arrays:
            path = self.directory / f"{question}.npz"
            if not path.is_file():
                raise ReferenceError(f"missing reference file {path}")
            with np.load(path, allow_pickle=False) as z:
                self._arrays[question] = {k: z[k] for k in z.files}
        return self._arrays[question]

    def preload(self) -> None:
        """Read every question's file now (they are read lazily otherwise); with a salt, also compute every
        salted case and the salted training task."""
        for entry in self.manifest.get("questions", {}):
            if self.salt is None or not any(c.question == entry for c in CASES.values()):
                self._question(entry)    # with a salt, only what is not computed (Q7's mean image)
        if self.salt is not None:
            for key in CASES:
                self._salted_case(key)
            training_task(self.salt)

    def case(self, key: str) -> CaseData:
        """``refs.case('Q1/affine_forward')`` -> fresh copies of its inputs and expected values."""
        question, name = key.split("/", 1)
        if self.salt is not None and key in CASES:
            inputs, expected = self._salted_case(key)
            return CaseData(name, {k: _from_stored(v) for k, v in inputs.items()},
                            {k: _from_stored(v) for k, v in expected.items()})
        arrays = self._question(question)
        inputs, expected = {}, {}
        prefix = name + "/"
        for k, v in arrays.items():
            if k.startswith(prefix):
                kind, field_name = k[len(prefix):].split("/", 1)
                (inputs if kind == "in" else expected)[field_name] = _from_stored(v)
        if not inputs and not expected:
            raise ReferenceError(f"no reference case {key}")
        return CaseData(name, inputs, expected)

    __call__ = case

    def threshold(self, check_name: str) -> float:
        entry = self.manifest.get("calibration", {}).get(check_name)
        if not entry:
            raise ReferenceError(f"training check {check_name!r} is not calibrated")
        return float(entry["threshold"])
