"""Q7: best_model.npz is data from the student; it is validated strictly and evaluated on the trusted side."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from support.paths import SOLUTIONS
from grader import checks
from grader.assignments import load_assignment
from grader.assignments.assignment2.cases import hidden_split
from grader.assignments.assignment2.suites import q7_best_model as q7
from grader.references import References
from grader.suites._saved_model import check_tier

LIMIT = 50 * 2**20


@pytest.fixture(scope="module")
def mean_image():
    return References("assignment2")("Q7/best_model")["mean_image"]


@pytest.fixture(scope="module")
def model_io(solutions):
    return solutions("model_io")


def _save_random_model(model_io, solutions, path, hidden=(20,), normalization=None, **meta):
    np.random.seed(0)
    fc = solutions("classifiers.fc_net")
    model = fc.FullyConnectedNet(list(hidden), input_dim=784, num_classes=10, normalization=normalization,
                                 weight_scale=1e-3, dtype=np.float64)
    if normalization == "batchnorm":
        model.loss(np.random.randn(5, 784), np.zeros(5, dtype=int))   # fills the running statistics
    meta.setdefault("dataset", "fashion_mnist")
    model_io.save_model(model, str(path), **meta)
    return path


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    np.savez(path, **arrays)


@pytest.mark.skipif(not (SOLUTIONS / "best_model.npz").is_file(), reason="solutions/best_model.npz not generated")
def test_solutions_best_model_reaches_085_and_matches_model_io(model_io, mean_image):
    path = SOLUTIONS / "best_model.npz"
    accuracy = q7.evaluate(path, LIMIT, mean_image)
    assert accuracy >= 0.85
    # Independent rebuild with the provided loader: same predictions.
    model = model_io.load_model(str(path))
    X, y = hidden_split(mean_image)
    assert abs(np.mean(np.argmax(model.loss(X), axis=1) == y) - accuracy) < 1e-9


def test_a_valid_but_untrained_model_loads_and_fails_the_tiers(tmp_path, model_io, solutions, mean_image):
    path = _save_random_model(model_io, solutions, tmp_path / "best_model.npz", hidden=(20, 10),
                              normalization="batchnorm")
    accuracy = q7.evaluate(path, LIMIT, mean_image)
    assert accuracy < 0.3
    assignment = load_assignment("assignment2")
    q7.test_best_model_loads((accuracy, None))
    for tier in assignment.best_model.tiers:
        with pytest.raises(checks.CheckFailure, match="hidden test images"):
            check_tier(tier, (accuracy, None), assignment)
    check_tier("test_best_model_accuracy_70", (0.7, None), assignment)   # the tier's boundary passes


@pytest.mark.parametrize("change, fragment", [
    (dict(W1=np.zeros((783, 20))), "expected shape"),
    (dict(W1=np.full((784, 20), np.nan)), "NaN or infinite"),
    (dict(W2=np.zeros((20, 10), dtype=np.int64)), "must be a float array"),
    (dict(b2=None), "parameter b2 is missing"),
    (dict(extra_weights=np.zeros(3)), "unexpected entries"),
    (dict(meta_dataset=np.array("cifar10")), "trained on 'cifar10'"),
    (dict(meta_class=np.array("ThreeLayerConvNet")), "meta_class"),
    (dict(meta_input_dim=np.array(3072)), "784 inputs"),
    (dict(meta_hidden_dims=np.array([20, 5])), "expected shape"),
    (dict(meta_hidden_dims=np.array([10 ** 6])), "hidden layers"),
    (dict(meta_normalization=np.array("groupnorm")), "meta_normalization"),
])
def test_invalid_models_are_refused_with_a_message(tmp_path, model_io, solutions, mean_image, change, fragment):
    path = _save_random_model(model_io, solutions, tmp_path / "best_model.npz")
    _rewrite(path, **change)
    with pytest.raises(checks.CheckFailure) as info:
        q7.evaluate(path, LIMIT, mean_image)
    assert fragment in str(info.value)


def test_pickles_odd_members_and_non_zips_are_refused(tmp_path, mean_image):
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, W1=np.array([{"a": 1}], dtype=object))
    with pytest.raises(checks.CheckFailure, match="Python objects"):
        q7.evaluate(pickled, LIMIT, mean_image)
    odd = tmp_path / "odd.npz"
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr("../evil.txt", b"x")
    with pytest.raises(checks.CheckFailure, match="not an array"):
        q7.evaluate(odd, LIMIT, mean_image)
    truncated = tmp_path / "truncated.npz"
    with zipfile.ZipFile(truncated, "w") as zf:
        zf.writestr("W1.npy", b"\x93NUMPY")
    with pytest.raises(checks.CheckFailure, match="not a valid .npy"):
        q7.evaluate(truncated, LIMIT, mean_image)
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(checks.CheckFailure, match="not a valid .npz"):
        q7.evaluate(text, LIMIT, mean_image)
    with pytest.raises(checks.CheckFailure, match="limit"):
        q7.evaluate(text, 3, mean_image)


def test_an_array_header_larger_than_its_data_is_refused(tmp_path, mean_image):
    import io

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (4 * 10 ** 10,)})
    member.write(np.zeros(4).tobytes())
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("W1.npy", member.getvalue())
    with pytest.raises(checks.CheckFailure, match="declares more data than it holds"):
        q7.evaluate(path, LIMIT, mean_image)
