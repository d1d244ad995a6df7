"""Q7: the homework's model, saved by MLP.ipynb as ``mlp_model.npz`` (``np.savez`` of a ThreeLayerNet's params).

Nothing of the submission runs here: the file is data, read safely (``grader.suites._npz``), validated
strictly (exactly W1, b1, W2, b2, W3, b3 of a 784-H1-H2-10 net, float arrays, finite values), rebuilt with the
*reference* ThreeLayerNet (leaky ReLUs of slope 0.01) and evaluated on the hidden split (Fashion-MNIST
t10k[1000:], 9000 images, as ``load_mnist()`` gives them: rows of 784 pixels in [0, 1]).

Points by accuracy (the tiers of ``[best_model]`` in the manifest). For scale: an untrained net is at about
0.10, a linear classifier reaches about 0.84, the solutions' net (two epochs of Adam) about 0.86.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.cases import hidden_split, load_params
from grader.suites import _npz
from grader.suites._saved_model import check_loaded, check_tier, evaluate_once

MAX_WIDTH = 1024
MAX_PARAMS = 784 * MAX_WIDTH + MAX_WIDTH * MAX_WIDTH + MAX_WIDTH * 10 + 2 * MAX_WIDTH + 10
EVAL_BATCH = 500
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def build_net(arrays: dict[str, np.ndarray], ref):
    """Validate the saved parameters and put them into the reference ThreeLayerNet (trusted)."""
    extra = sorted(k for k in arrays if k not in KEYS)
    if extra:
        checks.fail(f"mlp_model.npz: unexpected entries {extra[:5]}; save only W1, b1, W2, b2, W3, b3")
    for k in KEYS:
        if k not in arrays:
            checks.fail(f"mlp_model.npz: parameter {k} is missing")
        if arrays[k].dtype.kind != "f":
            checks.fail(f"mlp_model.npz: parameter {k} must be a float array, got dtype {arrays[k].dtype}")
    W1, W2, W3 = arrays["W1"], arrays["W2"], arrays["W3"]
    if W1.ndim != 2 or W2.ndim != 2 or W3.ndim != 2:
        checks.fail("mlp_model.npz: W1, W2 and W3 must be matrices")
    h1, h2 = W1.shape[1], W2.shape[1]
    if W1.shape[0] != 784 or W3.shape[1] != 10:
        checks.fail("mlp_model.npz: the net must take 784 inputs (28x28 images) and score 10 classes")
    if not (1 <= h1 <= MAX_WIDTH and 1 <= h2 <= MAX_WIDTH):
        checks.fail(f"mlp_model.npz: hidden layers of 1 to {MAX_WIDTH} units are graded")
    shapes = {"W1": (784, h1), "b1": (h1,), "W2": (h1, h2), "b2": (h2,), "W3": (h2, 10), "b3": (10,)}
    params = {k: checks.array(arrays[k], f"mlp_model.npz: parameter {k}", shape=shapes[k]) for k in KEYS}
    state = np.random.get_state()
    try:
        net = ref.three_layer_net.ThreeLayerNet(input_size=784, hidden_size1=h1, hidden_size2=h2, output_size=10)
    finally:
        np.random.set_state(state)
    load_params(net, params)
    return net


def evaluate(path: Path, max_bytes: int, ref) -> float:
    arrays = _npz.read_npz(path, max_bytes, max_elements=MAX_PARAMS + 100, max_uncompressed=8 * MAX_PARAMS + 2**20,
                           max_params=MAX_PARAMS, label="mlp_model.npz")
    try:
        net = build_net(arrays, ref)
        X, y = hidden_split()
        correct = 0
        for start in range(0, X.shape[0], EVAL_BATCH):
            with np.errstate(all="ignore"):
                scores = net.predict(X[start:start + EVAL_BATCH])
            if not np.all(np.isfinite(scores)):
                checks.fail("mlp_model.npz: the net's scores are not finite on the hidden images")
            correct += int(np.sum(np.argmax(scores, axis=1) == y[start:start + EVAL_BATCH]))
    except MemoryError:
        checks.fail("mlp_model.npz: the net is too large to evaluate")
    return correct / X.shape[0]


@pytest.fixture(scope="module")
def evaluation(submission, assignment, ref):
    """(accuracy, None) or (None, failure) of the submission's mlp_model.npz, computed once."""
    return evaluate_once(submission, assignment, lambda path, max_bytes: evaluate(path, max_bytes, ref.package),
                         "MLP.ipynb saves it")


def test_mlp_model_loads(evaluation):
    check_loaded(evaluation)


def test_mlp_model_accuracy_80(evaluation, assignment):
    check_tier("test_mlp_model_accuracy_80", evaluation, assignment)


def test_mlp_model_accuracy_83(evaluation, assignment):
    check_tier("test_mlp_model_accuracy_83", evaluation, assignment)


def test_mlp_model_accuracy_85(evaluation, assignment):
    check_tier("test_mlp_model_accuracy_85", evaluation, assignment)
