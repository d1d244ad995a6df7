"""Q7: the tuned model saved by FullyConnectedNets.ipynb as ``best_model.npz``.

Nothing of the submission runs here: the file is data. It is read with ``allow_pickle=False`` after its
zip directory has been checked (member names, count, declared sizes), validated strictly (known meta
entries, exactly the parameters its declared architecture needs, float arrays of the right shapes,
finite values), rebuilt with the *reference* model code, and evaluated on the hidden split
(Fashion-MNIST t10k[1000:], 9000 images, preprocessed like ``get_assignment_data``: float32 pixels on the
0..255 scale minus the training mean image).

Points by accuracy on the hidden split (the tiers of ``[best_model]`` in the manifest):
``test_best_model_accuracy_70`` >= 0.70, ``_80`` >= 0.80, ``_85`` >= 0.85. For scale: an untrained model is
at 0.10, a linear classifier reaches about 0.80-0.84, the solutions' two-hidden-layer model >= 0.85.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import checks
from grader.suites import _npz
from grader.suites._saved_model import check_loaded, check_tier, evaluate_once
from grader.assignments import load_assignment
from grader.assignments.assignment2.cases import hidden_split

MAX_PARAMS = 10_000_000                   # parameters of the declared network (the solutions' model: ~0.3M)
MAX_ELEMENTS = MAX_PARAMS + 200_000       # array entries of the whole file (parameters, statistics, meta)
MAX_UNCOMPRESSED = 96 * 1024 * 1024       # bytes of the arrays once uncompressed (10M float64 + slack)
EVAL_BATCH = 500
MAX_LAYERS = 10
MAX_WIDTH = 4096
KNOWN_META = {"class", "hidden_dims", "normalization", "input_dim", "num_classes", "dtype", "dataset"}


def _meta_str(arrays: dict, key: str, default: str | None = None) -> str | None:
    if key not in arrays:
        return default
    v = arrays[key]
    if v.ndim != 0 or v.dtype.kind != "U":
        checks.fail(f"best_model.npz: {key} should be a string")
    return str(v[()])


def _meta_int(arrays: dict, key: str) -> int:
    if key not in arrays:
        checks.fail(f"best_model.npz: {key} is missing (save the model with cs231n.model_io.save_model)")
    v = arrays[key]
    if v.ndim != 0 or v.dtype.kind not in "iu":
        checks.fail(f"best_model.npz: {key} should be an integer")
    return int(v[()])


def read_npz(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of ``path``, refusing pickles, odd members and oversized content (``grader.suites._npz``)."""
    return _npz.read_npz(path, max_bytes, max_elements=MAX_ELEMENTS, max_uncompressed=MAX_UNCOMPRESSED,
                         max_params=MAX_PARAMS, label="best_model.npz", saver="cs231n.model_io.save_model")


def build_model(arrays: dict[str, np.ndarray]):
    """Validate the saved model and rebuild it with the reference code (trusted)."""
    ref = load_assignment("assignment2").reference()
    meta = {k[5:] for k in arrays if k.startswith("meta_")}
    cls = _meta_str(arrays, "meta_class")
    if cls not in ("TwoLayerNet", "FullyConnectedNet"):
        checks.fail("best_model.npz: meta_class must be 'TwoLayerNet' or 'FullyConnectedNet'")
    dataset = _meta_str(arrays, "meta_dataset", "fashion_mnist")
    if dataset != "fashion_mnist":
        checks.fail(f"best_model.npz was trained on {dataset!r}; this assignment grades Fashion-MNIST models")
    input_dim, num_classes = _meta_int(arrays, "meta_input_dim"), _meta_int(arrays, "meta_num_classes")
    if input_dim != 784 or num_classes != 10:
        checks.fail("best_model.npz: the model must take 784 inputs (28x28 images) and score 10 classes")
    hidden = arrays.get("meta_hidden_dims")
    if hidden is None or hidden.dtype.kind not in "iu" or hidden.ndim > 1:
        checks.fail("best_model.npz: meta_hidden_dims must be a list of integers")
    hidden_dims = [int(h) for h in np.atleast_1d(hidden)]
    if not 1 <= len(hidden_dims) <= MAX_LAYERS or not all(1 <= h <= MAX_WIDTH for h in hidden_dims):
        checks.fail(f"best_model.npz: between 1 and {MAX_LAYERS} hidden layers of 1 to {MAX_WIDTH} units are supported")
    normalization = _meta_str(arrays, "meta_normalization", "none")
    if normalization not in ("none", "batchnorm", "layernorm"):
        checks.fail("best_model.npz: meta_normalization must be 'none', 'batchnorm' or 'layernorm'")
    norm = None if normalization == "none" else normalization
    if cls == "TwoLayerNet" and (len(hidden_dims) != 1 or norm is not None):
        checks.fail("best_model.npz: a TwoLayerNet has one hidden layer and no normalization")
    # The parameters the declared architecture needs, checked BEFORE anything of that size is built.
    dims = [784] + hidden_dims + [10]
    n_params = sum(dims[i - 1] * dims[i] + dims[i] for i in range(1, len(dims)))
    if n_params > MAX_PARAMS:
        checks.fail(f"best_model.npz declares a network of {n_params:,} parameters; models of up to "
                    f"{MAX_PARAMS:,} parameters are graded")
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, len(dims)):
        shapes[f"W{i}"], shapes[f"b{i}"] = (dims[i - 1], dims[i]), (dims[i],)
        if norm is not None and i < len(dims) - 1:
            shapes[f"gamma{i}"] = shapes[f"beta{i}"] = (dims[i],)
    stats = {}
    if norm == "batchnorm":
        for i in range(1, len(hidden_dims) + 1):
            stats[f"bn{i}_running_mean"] = stats[f"bn{i}_running_var"] = (hidden_dims[i - 1],)
    allowed = set(shapes) | set(stats) | {f"meta_{m}" for m in meta}
    extra = sorted(k for k in arrays if k not in allowed)
    if extra:
        checks.fail(f"best_model.npz: unexpected entries {extra[:5]} for the declared architecture")
    params = {}
    for k, shape in shapes.items():
        if k not in arrays:
            checks.fail(f"best_model.npz: parameter {k} is missing")
        if arrays[k].dtype.kind != "f":
            checks.fail(f"best_model.npz: parameter {k} must be a float array, got dtype {arrays[k].dtype}")
        params[k] = checks.array(arrays[k], f"best_model.npz: parameter {k}", shape=shape)
    state = np.random.get_state()
    try:
        if cls == "TwoLayerNet":
            model = ref.fc_net.TwoLayerNet(input_dim=784, hidden_dim=hidden_dims[0], num_classes=10)
        else:
            model = ref.fc_net.FullyConnectedNet(hidden_dims, input_dim=784, num_classes=10, normalization=norm,
                                                 dtype=np.float64)
    finally:
        np.random.set_state(state)
    if set(model.params) != set(shapes):
        raise RuntimeError(f"reference model parameters {sorted(model.params)} != expected {sorted(shapes)}")
    model.params.update(params)
    for i, bn_param in enumerate(getattr(model, "bn_params", []) or [], start=1):
        for stat in ("running_mean", "running_var"):
            key = f"bn{i}_{stat}"
            if key not in arrays:
                checks.fail(f"best_model.npz: {key} is missing (the batchnorm running statistics are needed "
                            "at test time)")
            value = checks.array(arrays[key], f"best_model.npz: {key}", shape=stats[key])
            if stat == "running_var" and not np.all(value >= 0):
                checks.fail(f"best_model.npz: {key} has negative entries")
            bn_param[stat] = value
    return model


def evaluate(path: Path, max_bytes: int, mean_image: np.ndarray) -> float:
    """Accuracy of the saved model on the hidden split. Bounded work: at most MAX_PARAMS parameters
    (checked before anything is built), evaluated EVAL_BATCH images at a time."""
    try:
        model = build_model(read_npz(path, max_bytes))
        X, y = hidden_split(mean_image)
        correct = 0
        for start in range(0, X.shape[0], EVAL_BATCH):
            with np.errstate(all="ignore"):
                scores = model.loss(X[start:start + EVAL_BATCH])
            if not np.all(np.isfinite(scores)):
                checks.fail("best_model.npz: the model's scores are not finite on the hidden images")
            correct += int(np.sum(np.argmax(scores, axis=1) == y[start:start + EVAL_BATCH]))
    except MemoryError:
        checks.fail("best_model.npz: the model is too large to evaluate")
    return correct / X.shape[0]


@pytest.fixture(scope="module")
def evaluation(submission, assignment, ref):
    """(accuracy, None) or (None, failure) of the submission's best_model.npz, computed once."""
    mean_image = ref("Q7/best_model")["mean_image"]
    return evaluate_once(submission, assignment, lambda path, max_bytes: evaluate(path, max_bytes, mean_image),
                         "FullyConnectedNets.ipynb saves it with cs231n.model_io.save_model")


def test_best_model_loads(evaluation):
    check_loaded(evaluation)


def test_best_model_accuracy_70(evaluation, assignment):
    check_tier("test_best_model_accuracy_70", evaluation, assignment)


def test_best_model_accuracy_80(evaluation, assignment):
    check_tier("test_best_model_accuracy_80", evaluation, assignment)


def test_best_model_accuracy_85(evaluation, assignment):
    check_tier("test_best_model_accuracy_85", evaluation, assignment)
