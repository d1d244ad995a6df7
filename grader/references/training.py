"""Training checks: a student model trained with the Solver in the sandbox, its accuracy measured here.

An assignment's ``training.py`` lists its checks (``TRAINING_CHECKS``, :class:`TrainingCheck` by name). They
train a student model with the Solver inside the sandbox on a small Fashion-MNIST task and measure accuracy
on the trusted side. The task varies with the salt (a salted
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

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .datasets import fashion_mnist
from .errors import ReferenceError


@dataclass(frozen=True)
class TrainingCheck:
    """Train ``model`` (a class of the student's package) with the Solver on the symmetric task.

    ``image_shape``: None for a model that takes flat rows ``(N, 196)``; ``(1, 14, 14)`` for a model that
    takes images ``(N, C, H, W)`` (the same images, reshaped).

    How a model is trained, scored and given parameters is the CS231n API here (``Solver(model, data,
    **solver_kwargs).train()``, test-mode scores ``model.loss(X)``, ``model.params[k] = v``); an assignment
    with another API subclasses this class in its ``training.py`` and overrides the methods below
    (``sandbox_train``, ``reference_train``, ``scores``, ``set_params``, ``linear_reference``); the task,
    the judging and the calibration stay the same.
    """

    name: str
    question: str
    model: str                       # dotted path inside the package, e.g. "classifiers.fc_net.TwoLayerNet"
    model_kwargs: dict = field(default_factory=dict)
    solver_kwargs: dict = field(default_factory=dict)
    image_shape: tuple[int, ...] | None = None
    # the linear baseline of the calibration: a class of the package and its keywords, e.g.
    # ("classifiers.fc_net.FullyConnectedNet", {"hidden_dims": []}); trained on the flat rows
    linear_model: tuple[str, dict] | None = None
    solver: str = "solver.Solver"    # dotted path of the Solver class inside the package

    def spec(self) -> dict:
        spec = {"model": self.model, "model_kwargs": self.model_kwargs, "solver_kwargs": self.solver_kwargs,
                "task": TASK}
        if self.image_shape is not None:     # (left out for flat checks: their stored spec stays the same)
            spec["image_shape"] = list(self.image_shape)
        return spec

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """The task's flat rows ``X (N, 196)`` as this check's model takes them."""
        return X if self.image_shape is None else X.reshape((X.shape[0],) + tuple(self.image_shape))

    # ------------------------------------------------------------------ the model's API (overridable)
    def sandbox_train(self, sb, package: str, model, data: dict[str, np.ndarray], timeout: float) -> dict:
        """Train the student's ``model`` (a Handle) in the sandbox ``sb`` on ``data`` (``X_train``,
        ``y_train``, ``X_val``, ``y_val``) -> a Handle whose attributes ``HISTORIES`` names hold the
        histories; the training call gets ``timeout`` seconds."""
        solver = sb.new(f"{package}.{self.solver}", model, sb.put(data), **self.solver_kwargs)
        sb.call_method(solver, "train", timeout=timeout)
        return solver

    TRAINER = "Solver"   # what trains the model, as the feedback names it

    #: the histories of ``sandbox_train``'s result: report key -> attribute (the Solver's)
    HISTORIES = {"loss_history": "loss_history", "train_acc_history": "train_acc_history",
                 "val_acc_history": "val_acc_history"}

    def reference_train(self, ref: Any, model, data: dict[str, np.ndarray]) -> None:
        """Train a reference ``model`` in this process as ``sandbox_train`` trains the student's."""
        ref.cls(self.solver)(model, data, **self.solver_kwargs).train()

    def scores(self, model, X: np.ndarray) -> np.ndarray:
        """Test-mode class scores ``(N, C)`` of a reference ``model``."""
        return model.loss(X)

    def set_params(self, model, params: dict[str, np.ndarray]) -> None:
        """Give a reference ``model`` the parameters ``params`` (validated: its keys and shapes)."""
        for k, v in params.items():
            model.params[k] = v

    def linear_reference(self, ref: Any):
        """A reference model without hidden layer for the flat rows, built from ``linear_model``."""
        if self.linear_model is None:
            raise ReferenceError(f"training check {self.name} has no linear_model to calibrate against")
        cls, linear_kwargs = self.linear_model
        kwargs = {k: v for k, v in self.model_kwargs.items() if k in ("num_classes", "weight_scale")}
        input_dim = int(np.prod(self.model_kwargs["input_dim"]))    # 196, also for (1, 14, 14)
        return ref.cls(cls)(**linear_kwargs, input_dim=input_dim, dtype=np.float64, **kwargs)


TASK = dict(train_images=1000, val_images=100, eval_images=2000, downsample=2, salted_pool=10000,
            salted_labels="derangement of the 10 classes")
CALIBRATION_SEEDS = tuple(range(20))
CALIBRATION_MARGIN = 0.08        # absolute accuracy below the worst calibrated run
CALIBRATION_SEPARATION = 0.15    # the threshold must exceed linear/untrained runs by this much

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


def reference_model(check: TrainingCheck, ref: Any, params: dict[str, np.ndarray] | None = None):
    """A model of the reference solution ``ref`` of ``check``'s class and shape, with ``params`` when given."""
    state = np.random.get_state()
    try:
        model = ref.cls(check.model)(**check.model_kwargs)
    finally:
        np.random.set_state(state)
    if params is not None:
        check.set_params(model, params)
    return model


def evaluate_params(check: TrainingCheck, ref: Any, params: dict[str, np.ndarray], salt: bytes | None = None) -> float:
    """Accuracy on the trusted evaluation split (of the task of ``salt``) of the reference model holding
    ``params``."""
    task = training_task(salt)
    return accuracy(reference_model(check, ref, params), check.inputs(task["X_eval"]), task["y_eval"], check.scores)


EVAL_BATCH = 500   # images per forward pass: im2col columns of a few MB, not one mmap()ed block of 50+ MB


def accuracy(model, X: np.ndarray, y: np.ndarray, scores=None) -> float:
    """The fraction of ``X`` that ``model`` (test-mode scores: ``scores(model, X)``, default ``model.loss(X)``)
    classifies as ``y``, computed batch by batch (each row's scores do not depend on the other rows)."""
    scores = scores or (lambda m, x: m.loss(x))
    predicted = np.concatenate([np.argmax(scores(model, X[i:i + EVAL_BATCH]), axis=1)
                                for i in range(0, len(X), EVAL_BATCH)])
    return float(np.mean(predicted == y))


def calibration_salt(seed: int) -> bytes:
    """The (public, fixed) salt of calibration run ``seed``: calibration covers the salted tasks."""
    return hashlib.sha256(b"cs231n-calibration:%d" % seed).digest()


def train_reference(check: TrainingCheck, ref: Any, seed: int, *, linear: bool = False, untrained: bool = False,
                    salt: bytes | None = None) -> float:
    """Run ``check`` on the reference in this process (on the task of ``salt``, default unsalted); the
    accuracy on the evaluation split.

    ``linear``: the same procedure with the check's ``linear_model`` (a model without hidden layer) on the
    flat rows of the same images (for a convolutional check too), evaluated with its own forward pass - the
    best a linear model does. ``untrained``: no training at all.
    """
    shape = (lambda X: X) if linear else check.inputs     # the linear model takes the flat rows
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        if linear:
            model = check.linear_reference(ref)
        else:
            model = ref.cls(check.model)(**check.model_kwargs)
        if not untrained:
            data = {k: np.array(v) for k, v in sandbox_training_data(salt).items()}
            data["X_train"], data["X_val"] = shape(data["X_train"]), shape(data["X_val"])
            check.reference_train(ref, model, data)
    finally:
        np.random.set_state(state)
    task = training_task(salt)
    return accuracy(model, shape(task["X_eval"]), task["y_eval"], check.scores)


def calibrate(check: TrainingCheck, ref: Any, seeds=CALIBRATION_SEEDS) -> dict:
    """Calibrate ``check`` (see the module doc); raises ``ReferenceError`` if it cannot separate.

    Run ``seed`` initialises and trains with ``np.random.seed(seed)`` on the task of
    ``calibration_salt(seed)``, as a grade does on the task of its submission's salt."""
    accs = [train_reference(check, ref, s, salt=calibration_salt(s)) for s in seeds]
    linear = [train_reference(check, ref, s, linear=True, salt=calibration_salt(s)) for s in seeds[:5]]
    untrained = [train_reference(check, ref, s, untrained=True, salt=calibration_salt(s)) for s in seeds[:5]]
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
