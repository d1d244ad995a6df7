"""Hardening of the grader (H-harden): per-submission salted hidden inputs and training task, the grader's
secret, and the text/size caps on student-derived feedback. Trusted side only (no sandbox): fast.

The end-to-end attacks (a leaked-and-replayed input, pretrained weights, forged worker frames, non-UTF-8
text...) are in ``test_grader_redteam.py``; determinism of a whole grade in ``test_grader_e2e.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import sys

import numpy as np
import pytest

from support.paths import ROOT, STARTER
from grader import checks, secret, text
from grader.assignments import load_assignment
from grader.references import References, training

A = load_assignment("assignment2")
REF = A.reference()

pytestmark = pytest.mark.skipif(not (A.references_dir / "manifest.json").is_file(),
                                reason="reference outputs not generated")

GRADED = load_assignment("assignment2").graded_files


# ------------------------------------------------------------------------------------------------ secret
def test_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv(secret.ENV_SECRET, "a-course-wide-secret-value")
    assert secret.grader_secret() == b"a-course-wide-secret-value"
    monkeypatch.setenv(secret.ENV_SECRET, "short")
    with pytest.raises(secret.SecretError, match="too short"):
        secret.grader_secret()


def test_secret_file_is_created_once_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(secret.ENV_SECRET, raising=False)
    monkeypatch.setenv(secret.ENV_SECRET_DIR, str(tmp_path / "keys"))
    first = secret.grader_secret()
    path = tmp_path / "keys" / "secret"
    assert path.is_file() and len(first) == secret.SECRET_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secret.grader_secret() == first                       # kept: same salts at every grade
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary file left behind
    path.write_bytes(b"xx")
    with pytest.raises(secret.SecretError, match="damaged"):
        secret.grader_secret()


def test_secret_is_refused_where_the_sandbox_could_read_it(monkeypatch):
    monkeypatch.delenv(secret.ENV_SECRET, raising=False)
    inside = os.path.join(sys.prefix, "cs231n-grader-secret-test")
    monkeypatch.setenv(secret.ENV_SECRET_DIR, inside)
    with pytest.raises(secret.SecretError, match="visible in the sandbox"):
        secret.grader_secret()
    assert not os.path.exists(inside)


# ------------------------------------------------------------------------------------------------ salt
def test_the_salt_changes_with_any_byte_of_a_graded_file_and_with_the_secret(tmp_path):
    pkg = tmp_path / "cs231n"
    shutil.copytree(STARTER / "cs231n", pkg)
    key = b"k" * 32
    digest = secret.files_digest(pkg, GRADED)
    assert digest == secret.files_digest(pkg, list(reversed(GRADED)))        # order does not matter
    salt = secret.submission_salt(digest, key)
    assert secret.submission_salt(secret.files_digest(pkg, GRADED), key) == salt   # deterministic
    assert secret.submission_salt(digest, b"j" * 32) != salt
    layers = pkg / "layers.py"
    layers.write_bytes(layers.read_bytes() + b"#")                         # one byte: a comment
    assert secret.files_digest(pkg, GRADED) != digest
    layers.write_bytes(layers.read_bytes()[:-1])
    assert secret.files_digest(pkg, GRADED) == digest
    (pkg / "solver.py").write_text("# a provided file: not part of the salt\n")
    assert secret.files_digest(pkg, GRADED) == digest
    (pkg / "optim.py").write_bytes(b"")
    empty = secret.files_digest(pkg, GRADED)
    (pkg / "optim.py").unlink()
    assert len({digest, empty, secret.files_digest(pkg, GRADED)}) == 3   # empty and missing differ


def test_salted_cases_are_fresh_inputs_with_reference_values():
    refs = References(A)
    a, b = refs.with_salt(b"\x01" * 32), refs.with_salt(b"\x02" * 32)
    assert refs.salt is None and a.salt == b"\x01" * 32
    stored, first, again, other = (r("Q1/affine_forward") for r in (refs, a, a.with_salt(a.salt), b))
    for c in (first, again, other):
        assert c["x"].shape == stored["x"].shape and c["w"].shape == stored["w"].shape
        np.testing.assert_allclose(c["out"], c["x"].reshape(len(c["x"]), -1) @ c["w"] + c["b"], rtol=1e-12)
    assert not np.array_equal(first["x"], stored["x"]) and not np.array_equal(first["x"], other["x"])
    np.testing.assert_array_equal(first["x"], again["x"])
    np.testing.assert_array_equal(first["out"], again["out"])
    first["x"][...] = 0                                     # each call returns fresh copies
    assert np.any(a("Q1/affine_forward")["x"] != 0)
    # Every case is computed for a salt; the names and shapes are those of the stored case.
    for key in A.cases:
        salted, plain = a(key), refs(key)
        assert set(salted.inputs) == set(plain.inputs) and set(salted.expected) == set(plain.expected), key
        for k in list(salted.inputs) + list(salted.expected):
            assert np.shape(salted[k]) == np.shape(plain[k]), (key, k)
    # Q7's data is not salted (the hidden split is data, never sent to the sandbox).
    np.testing.assert_array_equal(a("Q7/best_model")["mean_image"], refs("Q7/best_model")["mean_image"])
    assert a.threshold("two_layer_net") == refs.threshold("two_layer_net")


def test_the_salted_training_task_relabels_every_class_and_draws_other_images():
    plain, salted = training.training_task(), training.training_task(b"\x03" * 32)
    assert salted is training.training_task(b"\x03" * 32)           # cached
    for k in plain:
        assert plain[k].shape == salted[k].shape and plain[k].dtype == salted[k].dtype
    # The evaluation images are the same images, relabelled by a derangement of the classes.
    mapping = {}
    for old, new in zip(plain["y_eval"], salted["y_eval"]):
        assert mapping.setdefault(int(old), int(new)) == int(new)
    assert sorted(mapping) == sorted(mapping.values()) == list(range(10))
    assert all(old != new for old, new in mapping.items())
    # The training images are another choice from the training pool.
    plain_rows = {row.tobytes() for row in plain["X_train"][:1000]}
    assert sum(row.tobytes() in plain_rows for row in salted["X_train"][:1000]) < 500
    assert set(training.sandbox_training_data(b"\x03" * 32)) == {"X_train", "y_train", "X_val", "y_val"}


def test_weights_trained_beforehand_fail_the_salted_task():
    """What test_two_layer_training sees from a model holding weights trained on the unsalted task (the
    red team's pretrained TwoLayerNet): far below the threshold for any salt, while training on the
    salted task itself passes."""
    check = A.training_checks["two_layer_net"]
    threshold = References(A).threshold("two_layer_net")
    ref = REF
    state = np.random.get_state()
    try:
        np.random.seed(0)
        model = ref.fc_net.TwoLayerNet(**check.model_kwargs)
        data = {k: np.array(v) for k, v in training.sandbox_training_data().items()}
        ref.solver.Solver(model, data, **check.solver_kwargs).train()
    finally:
        np.random.set_state(state)
    assert training.evaluate_params(check, REF, model.params) >= threshold          # fits the task it was trained on
    for s in range(3):
        salt = bytes([s + 10]) * 32
        assert training.evaluate_params(check, REF, model.params, salt) < threshold - 0.3
    assert training.train_reference(check, REF, 3, salt=b"\x0a" * 32) >= threshold


def test_calibration_covers_salted_tasks():
    manifest = json.loads((A.references_dir / "manifest.json").read_text())
    for name, check in A.training_checks.items():
        cal = manifest["calibration"][name]
        assert cal["spec"]["task"]["salted_pool"] == training.TASK["salted_pool"]
        acc = training.train_reference(check, REF, 1, salt=training.calibration_salt(1))
        assert abs(acc - cal["accuracies"][cal["seeds"].index(1)]) < 1e-6


# ------------------------------------------------------------------------------------------------ text
def test_clean_replaces_surrogates_and_caps_length():
    assert text.clean("ok \udcff\ud800 done") == "ok ?? done"
    assert text.clean(None) == "" and text.clean(b"bytes") == ""
    long = text.clean("x" * 10_000, 100)
    assert len(long) == 100 and long.endswith("[... truncated]")
    assert text.clean("short", 100) == "short"
    tree = text.clean_tree({"a\udcff": ["b\udcff", ("c\udcff",)], "n": 3})
    json.dumps(tree).encode("utf-8")
    assert tree == {"a?": ["b?", ("c?",)], "n": 3}


def test_relative_errors_are_reported_as_orders_of_magnitude():
    expected = np.linspace(1.0, 2.0, 6).reshape(2, 3)
    with pytest.raises(checks.CheckFailure) as info:
        checks.close(expected * 1.0123, expected, "dx", 1e-8)
    msg = str(info.value)
    assert "relative error about 1e-02" in msg and "1e-08" in msg
    assert "6.1e-03" not in msg and "0.0061" not in msg
    with pytest.raises(checks.CheckFailure, match="about 1e-01"):
        checks.close_scalar(1.3, 1.0, "loss", 1e-8)


def test_unexpected_keys_are_listed_short():
    keys = {"a": 1, "b": 2, **{f"extra{i}" + "x" * 10_000: 0 for i in range(50)}}
    with pytest.raises(checks.CheckFailure) as info:
        checks.mapping(keys, "grads", ["a", "b"], exact=True)
    msg = str(info.value)
    assert "unexpected key" in msg and "and 45 more" in msg and len(msg) < 600


def test_results_are_capped_and_always_writable(tmp_path):
    from grader.caps import TEST_OUTPUT as MAX_TEST_OUTPUT
    from grader.scoring import build_results
    from grader.suites.plugin import Outcome

    assignment = load_assignment("assignment2")
    outcomes = {(q.module, name): Outcome(q.module, name, False, "bad \udcff " + "y" * 100_000, 0.0,
                                          grader_error="err \udcff")
                for q in assignment.questions for name in q.tests}
    results = build_results(assignment, outcomes, problems=["p \udcff" * 10_000] * 50, notes=["n\udcff"],
                            sandbox_info={"sandboxed": True, "x": "s\udcff"},
                            submission={"package": "hw\udcff/cs231n", "rejected": {"f\udcff": "why\udcff"}},
                            execution_time=1.0)
    assert all(len(t.output) <= MAX_TEST_OUTPUT for t in results.tests)
    assert len(results.output) <= 30_000 and results.output.rstrip().endswith(
        f"{assignment.questions[-1].id} {assignment.questions[-1].title}: 0 / {assignment.questions[-1].max_score:g}")
    out = tmp_path / "results.json"
    results.write(out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["extra_data"]["submission"]["package"] == "hw?/cs231n"
    results.tests[0].output = "added later \udcff"           # e.g. merged in after build_results
    results.write(out)
    assert json.loads(out.read_text(encoding="utf-8"))["tests"][0]["output"] == "added later ?"


def test_feedback_trusts_nothing_the_worker_says():
    from grader.sandbox.proxy import RequestError, StudentError
    from grader.caps import FEEDBACK as MAX_FEEDBACK
    from grader.suites.plugin import feedback

    limits = load_assignment("assignment2").limits
    text_, error = feedback(RequestError("CodecError: raised by the student's code"), limits)
    assert error is None and "answered with an error" in text_
    text_, error = feedback(StudentError("T" * 1_000_000, "m\udcff" * 100_000, "Traceback\n" + "t" * 10**6), limits)
    assert error is None and len(text_) <= MAX_FEEDBACK and "\udcff" not in text_
    text_, error = feedback(checks.CheckFailure("c" * 1_000_000, hint="h"), limits)
    assert error is None and len(text_) <= MAX_FEEDBACK
    text_, error = feedback(KeyError("a bug of the grader"), limits)
    assert error is not None and "internal grader error" in text_


def test_a_declared_network_over_the_parameter_cap_is_refused_before_it_is_built():
    from grader.assignments.assignment2.suites import q7_best_model as q7

    hidden = [4096, 4096]
    arrays = {"meta_class": np.array("FullyConnectedNet"), "meta_hidden_dims": np.array(hidden),
              "meta_input_dim": np.array(784), "meta_num_classes": np.array(10)}
    with pytest.raises(checks.CheckFailure, match="parameters are graded"):
        q7.build_model(arrays)
    assert 784 * 4096 + 4096 * 4096 > q7.MAX_PARAMS


def test_an_unusable_secret_is_a_grader_error_before_any_work(tmp_path, monkeypatch):
    from grader.pipeline import GraderError, grade

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.delenv(secret.ENV_SECRET, raising=False)
    monkeypatch.setenv(secret.ENV_SECRET_DIR, str(blocker / "keys"))
    with pytest.raises(GraderError, match="secret"):
        grade(STARTER, "assignment2", notebooks=False)
