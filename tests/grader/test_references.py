"""grader.references: deterministic reference files, staleness detection, hidden inputs, calibration."""
from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from grader.assignments import load_assignment
from grader.references import References, store, training
from grader.references.solution import solution_hashes

A = load_assignment("assignment2")
REF = A.reference()
OUT = A.references_dir
pytestmark = pytest.mark.skipif(not (OUT / "manifest.json").is_file(), reason="reference outputs not generated")


@pytest.fixture(scope="module")
def generated():
    """One regeneration (no calibration) shared by the tests."""
    manifest = json.loads((OUT / "manifest.json").read_text())
    return store.generate(A, calibration=manifest["calibration"], calibrate_checks=False)


def test_regeneration_is_byte_identical(generated):
    again = store.generate(A, calibration=json.loads(generated["manifest.json"])["calibration"],
                       calibrate_checks=False)
    assert again.keys() == generated.keys()
    for name in generated:
        assert again[name] == generated[name], name


def test_npz_is_plain_sorted_and_dated_1980(generated):
    import io

    data = generated["Q1.npz"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        assert "affine_forward/in/x" in z.files and "affine_forward/out/out" in z.files


def test_stored_outputs_are_fresh():
    assert store.check(A) == []


def test_check_detects_stale_files(tmp_path):
    copy = tmp_path / "refs"
    shutil.copytree(OUT, copy)
    assert store.check(A, copy) == []
    # A changed array.
    q1 = copy / "Q1.npz"
    with np.load(q1, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["affine_forward/out/out"] = arrays["affine_forward/out/out"] + 1e-9
    q1.write_bytes(store.npz_bytes(arrays))
    assert any("Q1.npz differs" in p for p in store.check(A, copy))
    # A changed solution hash (as if a solution file had been edited).
    shutil.copy(OUT / "Q1.npz", q1)
    manifest = json.loads((copy / "manifest.json").read_text())
    key = sorted(manifest["solution_sha256"])[0]
    manifest["solution_sha256"][key] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    problems = store.check(A, copy)
    assert any("solution files changed" in p for p in problems)
    assert any("calibration" in p for p in problems)
    # A missing file.
    (copy / "Q3.npz").unlink()
    assert any("Q3.npz is missing" in p for p in store.check(A, copy))


def test_manifest_describes_every_case():
    manifest = json.loads((OUT / "manifest.json").read_text())
    assert manifest["solution_sha256"] == solution_hashes(A.solution_package)
    for c in A.cases.salted.values():
        entry = manifest["questions"][c.question]["cases"][c.name]
        assert entry["seed"] == c.seed and entry["recipe"] == c.recipe
        assert all("shape" in a and "dtype" in a for a in entry["arrays"].values())


def test_hidden_inputs_differ_from_the_public_notebook_inputs():
    refs = References(A)
    x = refs("Q1/affine_forward")["x"]
    assert x.shape != (2, 4, 5, 6)   # the notebook's affine_forward input
    public = np.linspace(-0.1, 0.5, num=240)
    assert not np.allclose(np.sort(x.ravel())[: min(x.size, 240)], public[: min(x.size, 240)])
    w = refs("Q4/sgd_momentum")["w"]
    assert w.shape != (4, 5)
    seeds = [c.seed for c in A.cases.salted.values()]
    assert len(set(seeds)) == len(seeds) and 231 not in seeds


def test_reference_case_values_are_what_the_reference_computes():
    """Spot check one stored case against an independent NumPy computation."""
    c = References(A)("Q1/affine_forward")
    np.testing.assert_allclose(c["out"], c["x"].reshape(c["x"].shape[0], -1) @ c["w"] + c["b"], rtol=1e-12)
    s = References(A)("Q1/softmax_loss")
    z = s["x"] - s["x"].max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert abs(s["loss"] + logp[np.arange(len(s["y"])), s["y"]].mean()) < 1e-12


def test_calibration_separates_reference_from_linear_and_untrained_models():
    """Stored calibration: >= 20 seeds, none fails; linear and untrained models are far below; and a
    fresh run of a linear and an untrained model on this machine fails the stored threshold."""
    manifest = json.loads((OUT / "manifest.json").read_text())
    for name, check in A.training_checks.items():
        cal = manifest["calibration"][name]
        assert len(cal["seeds"]) >= 20 and cal["failures"] == 0
        assert min(cal["accuracies"]) >= cal["threshold"]
        assert max(cal["linear_accuracies"]) < cal["threshold"] - 0.1
        assert max(cal["untrained_accuracies"]) < cal["threshold"] - 0.1
        assert training.train_reference(check, REF, 7, linear=True) < cal["threshold"]
        assert training.train_reference(check, REF, 7, untrained=True) < cal["threshold"]
        assert training.train_reference(check, REF, 0) >= cal["threshold"]


def test_the_convnet_training_check_sees_images_and_separates_linear_and_untrained_models():
    """Q8's check trains ThreeLayerConvNet on the same salted task, the images shaped (N, 1, 14, 14); a linear
    classifier on the same (flat) images and the untrained convnet, evaluated as the grader evaluates a
    submission (``evaluate_params``), stay far below the stored threshold, the trained reference above."""
    check = A.training_checks["three_layer_convnet"]
    assert (check.question, check.model, check.image_shape) == ("Q8", "classifiers.cnn.ThreeLayerConvNet", (1, 14, 14))
    cal = json.loads((OUT / "manifest.json").read_text())["calibration"]["three_layer_convnet"]
    assert len(cal["seeds"]) >= 20 and cal["failures"] == 0 and cal["spec"]["image_shape"] == [1, 14, 14]
    threshold = cal["threshold"]
    salt = training.calibration_salt(3)
    flat, images = training.sandbox_training_data(salt), training.sandbox_training_data(salt, check)
    assert set(images) == {"X_train", "y_train", "X_val", "y_val"}
    for k in ("X_train", "X_val"):
        assert images[k].shape == (flat[k].shape[0], 1, 14, 14)
        np.testing.assert_array_equal(images[k].reshape(flat[k].shape), flat[k])      # the same images
    np.testing.assert_array_equal(images["y_train"], flat["y_train"])
    assert training.train_reference(check, REF, 3, linear=True, salt=salt) < threshold - 0.15
    state = np.random.get_state()
    try:
        np.random.seed(3)
        untrained = {k: v.copy() for k, v in REF.cnn.ThreeLayerConvNet(**check.model_kwargs)
                     .params.items()}
    finally:
        np.random.set_state(state)
    assert training.evaluate_params(check, REF, untrained, salt) < threshold - 0.15
    assert training.train_reference(check, REF, 3, salt=salt) >= threshold


def test_training_data_never_includes_the_evaluation_split():
    task = training.training_task()
    sent = training.sandbox_training_data()
    assert set(sent) == {"X_train", "y_train", "X_val", "y_val"}
    assert task["X_eval"].shape[0] == 2 * training.TASK["eval_images"]
    # The evaluation images come from the hidden split: none equals a training image.
    train_rows = {row.tobytes() for row in sent["X_train"][:200]}
    assert not any(row.tobytes() in train_rows for row in task["X_eval"])
