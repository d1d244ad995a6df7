"""The saved-model question (a ``[best_model]`` of the manifest): the submission's model file is evaluated
once on the trusted side (``_npz`` reads it), then each accuracy tier of the manifest is one test.

A suite defines its own ``evaluation`` fixture with :func:`evaluate_once` and a test per tier that calls
:func:`check_tier` (the tiers' names and thresholds are the manifest's ``[best_model.tiers]``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from grader import checks

Evaluation = tuple[float | None, checks.CheckFailure | None]


def evaluate_once(submission, assignment, evaluate: Callable[[Path, int], float], saved_by: str) -> Evaluation:
    """``(accuracy, None)`` or ``(None, failure)`` of the submission's model file; ``evaluate(path,
    max_bytes) -> accuracy``; ``saved_by`` says where the file comes from (for a submission without it).
    The accuracy is kept among the submission's measures (``measure_title``)."""
    spec = assignment.best_model
    if submission.best_model is None:
        return None, checks.CheckFailure(f"no {spec.file} was found in your submission ({saved_by})")
    try:
        accuracy = evaluate(Path(submission.best_model), spec.max_bytes)
    except checks.CheckFailure as exc:
        return None, exc
    submission.measures[measure_title(assignment)] = accuracy      # extra_data.measures (a leaderboard)
    return accuracy, None


def measure_title(assignment) -> str:
    """The name of the model's accuracy among the results' measures."""
    return f"Accuracy of {assignment.best_model.file}"


def check_loaded(evaluation: Evaluation) -> None:
    _, failure = evaluation
    if failure is not None:
        raise failure


def check_tier(name: str, evaluation: Evaluation, assignment) -> None:
    """The model's accuracy reaches the threshold of the manifest's tier ``name``."""
    accuracy, failure = evaluation
    if failure is not None:
        raise failure
    needed = assignment.best_model.tiers[name]
    if not accuracy >= needed:
        checks.fail(f"{assignment.best_model.file} classifies {accuracy:.1%} of the hidden test images correctly; "
                    f"this test needs at least {needed:.0%}")
