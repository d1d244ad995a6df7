"""Assignment 1's accuracy checks: kNN and the two linear classifiers on Fashion-MNIST, 5,000 training and
500 test images, as the notebooks subsample CIFAR-10.

The task varies with the submission's salt: a salted choice of the 5,000 training images from
train[:20000], of the 500 test images from the hidden split t10k[1000:], and a salted derangement of the
class labels (so a classifier prepared beforehand does not fit it). Pixels are scaled to [0, 1], centred
with the training mean and given the bias column (785 numbers a row). kNN predicts the test images in the
sandbox (their labels stay here); the linear classifiers train in the sandbox and only their ``W`` comes
back, evaluated here on the test images, which the sandbox never sees.

The thresholds are calibrated (``refresh-references``) on the reference over the 20 seeds of
``CALIBRATION_SEEDS``, each on the task of its own public salt: the threshold is the worst run minus a
margin, and it must exceed a constant classifier (the most frequent label) and an untrained one by far.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from grader.references.datasets import fashion_mnist
from grader.references.errors import ReferenceError
from grader.references.training import CALIBRATION_SEEDS, _derangement, calibration_salt

TASK = dict(train_images=5000, test_images=500, train_pool=20000, test_pool=(1000, 10000), scale="x/255 - mean, bias column",
            salted_labels="derangement of the 10 classes")
VAL_ROWS = 500          # the Solver's validation split: the first rows of the training set
REFERENCE_NET = "classifiers.fc_net.TwoLayerNet"
MARGIN = 0.05          # absolute accuracy below the worst calibrated run
SEPARATION = 0.3       # the threshold must exceed the constant and untrained classifiers by this much


@lru_cache(maxsize=4)
def accuracy_task(salt: bytes | None = None) -> dict[str, np.ndarray]:
    """``X_train (5000, 785)``, ``y_train``, ``X_test (500, 785)`` float32 / int64 and ``y_test`` (trusted
    only). Unsalted: train[:5000], t10k[1000:1500] and Fashion-MNIST's labels."""
    n, m = TASK["train_images"], TASK["test_images"]
    lo, hi = TASK["test_pool"]
    if salt is None:
        train_idx, test_idx, perm = np.arange(n), np.arange(m), np.arange(10)
    else:
        from grader.secret import derived_seed

        rng = np.random.RandomState(derived_seed(salt, "accuracy-task"))
        train_idx = np.sort(rng.choice(TASK["train_pool"], n, replace=False))
        test_idx = np.sort(rng.choice(hi - lo, m, replace=False))
        perm = _derangement(rng, 10)
    train_images, train_labels = fashion_mnist("train", 0, TASK["train_pool"])
    test_images, test_labels = fashion_mnist("t10k", lo, hi)
    Xtr = train_images[train_idx].reshape(n, -1).astype(np.float64) / 255.0
    Xte = test_images[test_idx].reshape(m, -1).astype(np.float64) / 255.0
    mean = Xtr.mean(axis=0)
    task = dict(X_train=np.hstack([Xtr - mean, np.ones((n, 1))]).astype(np.float32),
                y_train=perm[train_labels[train_idx]].astype(np.int64),
                X_test=np.hstack([Xte - mean, np.ones((m, 1))]).astype(np.float32),
                y_test=perm[test_labels[test_idx]].astype(np.int64))
    for v in task.values():
        v.flags.writeable = False
    return task


def solver_data(task) -> dict[str, np.ndarray]:
    """The Solver's data dict of the task: training rows only (float64, as the notebooks' arrays)."""
    X, y = np.array(task["X_train"], dtype=np.float64), np.array(task["y_train"])
    return {"X_train": X, "y_train": y, "X_val": X[:VAL_ROWS], "y_val": y[:VAL_ROWS]}


@dataclass(frozen=True)
class AccuracyCheck:
    """``kind`` 'knn': ``KNearestNeighbor`` trained on the task, ``predict(X_test, **predict_kwargs)``;
    'linear': ``cls().train(X_train, y_train, **train_kwargs)`` with the RNG seeded, then ``W``;
    'two_layer': ``cls(**model_kwargs)`` trained by ``Solver(model, data, **train_kwargs)`` (``data``: the
    training rows, the first VAL_ROWS of them as validation), then its ``params``, evaluated with the
    reference net's forward pass."""

    name: str
    question: str
    kind: str
    cls: str                                   # dotted path inside the package
    train_kwargs: dict = field(default_factory=dict)
    predict_kwargs: dict = field(default_factory=dict)
    model_kwargs: dict = field(default_factory=dict)
    trains_ahead = False                       # not a Solver check: it runs in the suite's own sandbox

    def spec(self) -> dict:
        return {"kind": self.kind, "cls": self.cls, "train_kwargs": self.train_kwargs,
                "predict_kwargs": self.predict_kwargs, "model_kwargs": self.model_kwargs, "task": TASK}

    def accuracy(self, predicted, task) -> float:
        return float(np.mean(np.asarray(predicted) == task["y_test"]))

    def linear_accuracy(self, W, task) -> float:
        return self.accuracy(np.argmax(task["X_test"].astype(np.float64) @ W, axis=1), task)

    def net_accuracy(self, ref, params: dict, task) -> float:
        """The reference net holding ``params`` (W1, b1, W2, b2), on the test rows."""
        state = np.random.get_state()
        try:
            model = ref.cls(REFERENCE_NET)(**self.model_kwargs)
        finally:
            np.random.set_state(state)
        model.params.update({k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
        return self.accuracy(np.argmax(model.loss(task["X_test"].astype(np.float64)), axis=1), task)

    def run_reference(self, ref, seed: int, salt: bytes | None) -> float:
        task = accuracy_task(salt)
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            if self.kind == "two_layer":
                model = ref.cls(self.cls)(**self.model_kwargs)
                ref.cls("solver.Solver")(model, solver_data(task), **self.train_kwargs).train()
                return self.net_accuracy(ref, model.params, task)
            clf = ref.cls(self.cls)()
            clf.train(np.array(task["X_train"]), np.array(task["y_train"]), **self.train_kwargs)
            if self.kind == "knn":
                return self.accuracy(clf.predict(np.array(task["X_test"]), **self.predict_kwargs), task)
            return self.linear_accuracy(clf.W, task)
        finally:
            np.random.set_state(state)

    def calibrate(self, ref, seeds=CALIBRATION_SEEDS) -> dict:
        accs, constant, untrained = [], [], []
        for s in seeds:
            salt = calibration_salt(s)
            task = accuracy_task(salt)
            accs.append(self.run_reference(ref, s, salt))
            constant.append(self.accuracy(np.full(len(task["y_test"]), np.bincount(task["y_train"]).argmax()), task))
            W0 = 0.001 * np.random.RandomState(s).randn(task["X_train"].shape[1], 10)
            untrained.append(self.linear_accuracy(W0, task))
        worst = min(accs)
        threshold = float(np.floor((worst - max(MARGIN, 3 * float(np.std(accs)))) * 100) / 100)
        baseline = max(constant + untrained)
        if threshold < baseline + SEPARATION:
            raise ReferenceError(f"accuracy check {self.name}: threshold {threshold:.2f} does not separate the "
                                 f"reference (worst {worst:.3f}) from trivial classifiers ({baseline:.3f})")
        return {"seeds": list(seeds), "accuracies": [round(a, 6) for a in accs], "threshold": threshold,
                "failures": sum(a < threshold for a in accs),
                "constant_accuracies": [round(a, 6) for a in constant],
                "untrained_accuracies": [round(a, 6) for a in untrained], "margin": MARGIN,
                "salts": "calibration_salt(seed) = sha256(b'cs231n-calibration:%d' % seed)", "spec": self.spec()}


TRAINING_CHECKS: dict[str, AccuracyCheck] = {c.name: c for c in (
    AccuracyCheck("knn_k1", "Q1", "knn", "classifiers.k_nearest_neighbor.KNearestNeighbor",
                  predict_kwargs={"k": 1, "num_loops": 0}),
    AccuracyCheck("linear_svm", "Q4", "linear", "classifiers.linear_classifier.LinearSVM",
                  train_kwargs={"learning_rate": 0.03, "reg": 0.01, "num_iters": 500, "batch_size": 200}),
    AccuracyCheck("softmax", "Q4", "linear", "classifiers.linear_classifier.Softmax",
                  train_kwargs={"learning_rate": 0.03, "reg": 0.01, "num_iters": 500, "batch_size": 200}),
    # the 2016-2020 net trains itself the same way: train(..., learning_rate=0.5, learning_rate_decay=1.0,
    # reg=0.0, num_iters=250, batch_size=100) (shapes.py)
    AccuracyCheck("two_layer_net", "Q5", "two_layer", REFERENCE_NET,
                  model_kwargs={"input_dim": 785, "hidden_dim": 100, "num_classes": 10, "weight_scale": 0.01},
                  train_kwargs={"update_rule": "sgd", "optim_config": {"learning_rate": 0.5}, "num_epochs": 5,
                                "batch_size": 100, "num_train_samples": 500, "num_val_samples": None,
                                "print_every": 10 ** 9, "verbose": False}),
)}
