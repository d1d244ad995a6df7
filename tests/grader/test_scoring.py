"""The assignment manifest and the results.json built from test outcomes (no sandbox, fast)."""
from __future__ import annotations

import json
import tomllib

import pytest
from pydantic import ValidationError

from grader.assignments import ASSIGNMENTS_DIR, Assignment, ManifestError, load_assignment
from grader.scoring import build_results
from grader.suites.plugin import Outcome


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("assignment2")


def _raw():
    return tomllib.loads((ASSIGNMENTS_DIR / "assignment2" / "manifest.toml").read_text())


def test_manifest_content(assignment):
    assert [q.id for q in assignment.questions] == [f"Q{i}" for i in range(1, 9)]
    titles = {q.id: q.title for q in assignment.questions}
    assert titles["Q1"] == "Fully-connected layers" and titles["Q8"] == "Convolutional networks"
    assert assignment.dropout_semantics == "keep"
    assert [n.name for n in assignment.notebooks] == ["FullyConnectedNets", "BatchNormalization", "Dropout",
                                                      "ConvolutionalNetworks"]
    assert all(n.points == 2 for n in assignment.notebooks) and assignment.notebook_points == 8
    assert all(n.cell_timeout <= n.total_timeout for n in assignment.notebooks)
    assert assignment.max_score == sum(sum(q.tests.values()) for q in assignment.questions) == 100
    assert assignment.limits.call_timeout < assignment.limits.train_timeout < assignment.limits.total_time
    for q in assignment.questions:
        assert len(q.tests) >= 3, q.id
    assert set(assignment.best_model.tiers) <= set(assignment.question("Q7").tests)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d["questions"].append(dict(d["questions"][0])), "duplicate question ids"),
    (lambda d: d["questions"][0]["tests"].update(test_affine_forward=0), "non-positive"),
    (lambda d: d["questions"][0].update(tests={}), "at least one test"),
    (lambda d: d.update(dropout_semantics="maybe"), "dropout_semantics"),
    (lambda d: d.update(unknown_key=1), "unknown_key"),
    (lambda d: d["limits"].update(call_timeout=-1), "call_timeout"),
    (lambda d: d["best_model"]["tiers"].update(test_nonexistent=0.5), "tiers name tests"),
    (lambda d: d["notebooks"].append(dict(d["notebooks"][0])), "a notebook is listed twice"),
    (lambda d: d["notebooks"][0].update(name="../x"), "name"),
])
def test_invalid_manifests_are_rejected(mutate, fragment):
    data = _raw()
    mutate(data)
    with pytest.raises(ValidationError) as info:
        Assignment.model_validate(data)
    assert fragment in str(info.value)


def test_unknown_assignment():
    with pytest.raises(ManifestError, match="no manifest"):
        load_assignment("assignment9")
    with pytest.raises(ManifestError, match="invalid"):
        load_assignment("../etc/passwd")


def _outcomes(assignment, failing=(), missing=()):
    out = {}
    for q in assignment.questions:
        for name in q.tests:
            if name in missing:
                continue
            passed = name not in failing
            out[(q.module, name)] = Outcome(q.module, name, passed, "" if passed else f"{name} is wrong", 0.01)
    return out


def _build(assignment, outcomes, **kw):
    defaults = dict(problems=[], notes=[], sandbox_info={"sandboxed": True}, submission={}, execution_time=1.5)
    defaults.update(kw)
    return build_results(assignment, outcomes, **defaults)


def test_full_marks(assignment):
    r = _build(assignment, _outcomes(assignment))
    assert r.score == r.extra_data.max_score == 100
    assert all(t.status == "passed" and t.score == t.max_score for t in r.tests)
    assert [q.score for q in r.extra_data.questions] == [q.max_score for q in assignment.questions]


def test_partial_credit_is_the_sum_of_passed_tests(assignment):
    failing = {"test_affine_backward", "test_adam", "test_conv_forward"}
    r = _build(assignment, _outcomes(assignment, failing=failing))
    lost = sum(pts for q in assignment.questions for t, pts in q.tests.items() if t in failing)
    assert r.score == 100 - lost
    by_q = {q.id: q for q in r.extra_data.questions}
    assert by_q["Q1"].score == by_q["Q1"].max_score - assignment.question("Q1").tests["test_affine_backward"]
    assert by_q["Q2"].score == by_q["Q2"].max_score
    failed = [t for t in r.tests if t.status == "failed"]
    assert {t.extra_data["test"] for t in failed} == failing
    assert all(t.score == 0 and t.output.endswith("is wrong") for t in failed)


def test_missing_outcome_is_a_failure(assignment):
    r = _build(assignment, _outcomes(assignment, missing={"test_relu_forward"}), not_run_reason="did not run")
    t = next(t for t in r.tests if t.extra_data["test"] == "test_relu_forward")
    assert t.status == "failed" and t.score == 0 and t.output == "did not run"
    assert _build(assignment, {}).score == 0


def test_numbering_and_gradescope_fields(assignment, tmp_path):
    r = _build(assignment, _outcomes(assignment, failing={"test_svm_loss"}),
               problems=["cs231n/optim.py is missing"], sandbox_info={"sandboxed": True, "uid": 65534})
    numbers = [t.number for t in r.tests]
    assert numbers[0] == "1.1" and numbers[2] == "1.3" and numbers[-1] == f"8.{len(assignment.question('Q8').tests)}"
    assert len(set(numbers)) == len(numbers)
    path = tmp_path / "results.json"
    r.write(path)
    data = json.loads(path.read_text())
    assert {"score", "execution_time", "output", "tests", "extra_data", "visibility", "stdout_visibility"} <= set(data)
    for t in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(t)
        assert t["status"] in ("passed", "failed") and t["visibility"] in ("visible", "hidden", "after_published",
                                                                           "after_due_date")
    extra = data["extra_data"]
    assert extra["assignment"] == "assignment2" and extra["max_score"] == 100
    assert [q["id"] for q in extra["questions"]] == [f"Q{i}" for i in range(1, 9)]
    assert set(extra["questions"][0]) == {"id", "title", "score", "max_score"}
    assert extra["sandbox"]["uid"] == 65534
    assert "cs231n/optim.py is missing" in data["output"]


def test_unsandboxed_results_are_marked(assignment):
    r = _build(assignment, _outcomes(assignment), sandbox_info={"sandboxed": False})
    assert "WITHOUT a sandbox" in r.output
    assert r.extra_data.sandbox["sandboxed"] is False


def test_grader_errors_are_reported_separately(assignment):
    outcomes = _outcomes(assignment, failing={"test_rmsprop"})
    o = outcomes[("q4_update_rules", "test_rmsprop")]
    outcomes[("q4_update_rules", "test_rmsprop")] = Outcome(o.module, o.name, False, "internal", 0.0, "Traceback...")
    r = _build(assignment, outcomes)
    assert r.extra_data.grader_errors == [{"test": "Q4 test_rmsprop", "error": "Traceback..."}]
    assert "Traceback" not in json.dumps([t.output for t in r.tests])


def test_training_curves_set_after_build_results_are_capped(assignment, tmp_path):
    """``extra_data.training_curves`` is set after build_results (the Solver's histories, from the student's
    code): assigning it cleans and caps it, so results.json stays small and valid."""
    from grader import caps, scoring

    r = _build(assignment, _outcomes(assignment))
    curve = {"id": "fc\udcff" + "i" * 10_000, "title": "t" * 10_000, "loss_history": [2.5, float("nan"), True, "x",
             *range(100_000)], "loss_every": 3, "val_acc_history": (0.1, float("inf")), "junk": object(), 7: "k",
             **{f"k{i}": i for i in range(100)}}
    r.extra_data.training_curves = [curve] * 1000 + ["not a dict"]
    curves = r.extra_data.training_curves
    assert len(curves) == caps.CURVES
    c = curves[0]
    assert len(c) <= caps.CURVE_KEYS and 7 not in c
    assert c["id"].startswith("fc?i") and len(c["id"]) <= caps.CURVE_TEXT and len(c["title"]) <= 200
    assert c["loss_history"][:5] == [2.5, None, None, None, 0.0] and len(c["loss_history"]) == caps.CURVE_POINTS
    assert c["val_acc_history"] == [0.1, None] and c["loss_every"] == 3 and c["junk"] is None
    r.extra_data.notebooks_run = True                       # other keys may still be added freely
    r.write(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["extra_data"]["training_curves"] == json.loads(json.dumps(curves))
    assert data["extra_data"]["notebooks_run"] is True
    # real curves (grader.report.training_curve entries) pass unchanged
    from grader.report import training_curve

    real = training_curve("fc_net", "Q3: FullyConnectedNet", loss_history=[2.3, 1.9], train_acc_history=[0.2, 0.5],
                          val_acc_history=[0.2, 0.4])
    r.extra_data.training_curves = [real]
    assert r.extra_data.training_curves == [real]
