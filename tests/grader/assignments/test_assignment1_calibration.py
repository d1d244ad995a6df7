"""The stored calibration of assignment 1's accuracy checks (reference_outputs/assignment1/manifest.json,
written by refresh-references): over 20 seeds, each on the task of its own salt, the reference never falls
below a threshold, which a constant classifier (the most frequent label) and an untrained one never reach;
and the checks run on Fashion-MNIST 5,000 / 500."""
import json

import pytest

from grader.assignments import load_assignment
from grader.assignments.assignment1.training import SEPARATION, TASK, TRAINING_CHECKS


@pytest.fixture(scope="module")
def calibration():
    a1 = load_assignment("assignment1")
    return json.loads((a1.references_dir / "manifest.json").read_text())["calibration"]


@pytest.mark.parametrize("name", sorted(TRAINING_CHECKS))
def test_the_reference_never_fails_and_trivial_classifiers_always_do(calibration, name):
    entry = calibration[name]
    assert len(entry["seeds"]) == len(entry["accuracies"]) == 20
    assert entry["failures"] == 0 and min(entry["accuracies"]) >= entry["threshold"]
    trivial = entry["constant_accuracies"] + entry["untrained_accuracies"]
    assert len(trivial) == 40 and max(trivial) + SEPARATION <= entry["threshold"]
    assert entry["spec"] == json.loads(json.dumps(TRAINING_CHECKS[name].spec()))


def test_the_task_is_the_notebooks_subsample():
    assert (TASK["train_images"], TASK["test_images"]) == (5000, 500)
