"""Test outcomes -> tests -> questions -> a Gradescope ``results.json`` (pydantic models).

A test earns its points (from the manifest) when it passed, else zero: there is no other way to score.
A test the suites did not report (a grading problem, an archive that could not be opened) is failed with
the reason. The file follows the Gradescope autograder specification: top-level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility``, ``tests`` (each ``name``, ``number``
such as ``"1.3"``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``) and ``extra_data``
(``max_score``, ``questions[]`` with ``id``, ``title``, ``score``, ``max_score``; ``assignment``;
``sandbox``; ``submission`` problems; ``grader_errors``; ``training_curves``, capped when set; ``measures``,
numbers the suites measured besides the tests, such as the best model's accuracy).
"""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from grader import caps
from grader.assignments import Visibility
from grader.text import clean, clean_tree


class TestResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str = ""
    visibility: Visibility = "visible"
    extra_data: dict[str, Any] = Field(default_factory=dict)


class QuestionScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    score: float
    max_score: float


def _curve_value(value: Any) -> Any:
    """One value of a training curve entry: a number, a short str, or a list of numbers (others: None)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean(value, caps.CURVE_TEXT)
    if isinstance(value, (list, tuple)):
        return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None
                for v in value[:caps.CURVE_POINTS]]
    return None


def cap_training_curves(curves: Any) -> list[dict[str, Any]]:
    """``extra_data.training_curves`` within bounds: at most ``caps.CURVES`` dict entries of at most
    ``caps.CURVE_KEYS`` keys; ids and titles cleaned to ``caps.CURVE_TEXT`` characters, histories to
    ``caps.CURVE_POINTS`` finite numbers (others None). The histories come from the student's Solver."""
    if not isinstance(curves, (list, tuple)):
        return []
    entries = [e for e in curves[:caps.CURVES] if isinstance(e, dict)]
    return [{clean(k, caps.CURVE_TEXT): _curve_value(v) for k, v in itertools.islice(e.items(), caps.CURVE_KEYS)
             if isinstance(k, str)} for e in entries]


class ExtraData(BaseModel):
    """``extra_data`` of results.json. Keys other than the fields may be added (``extra="allow"``);
    ``training_curves`` is set after :func:`build_results` and is capped on assignment
    (:func:`cap_training_curves`)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    assignment: str
    max_score: float
    questions: list[QuestionScore]
    sandbox: dict[str, Any] = Field(default_factory=dict)
    submission: dict[str, Any] = Field(default_factory=dict)
    grader_errors: list[dict[str, str]] = Field(default_factory=list)
    timing: dict[str, float] = Field(default_factory=dict)
    training_curves: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("training_curves", mode="before")
    @classmethod
    def _cap_curves(cls, value: Any) -> list[dict[str, Any]]:
        return cap_training_curves(value)


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float
    execution_time: float
    output: str
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    tests: list[TestResult]
    extra_data: ExtraData

    def write(self, path: Path) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            text = self.model_dump_json(indent=2)
        except ValueError:
            # Text added after build_results (which cleans everything) that is not valid Unicode: the last
            # line of defence, so a results.json is always written (see grader.text).
            text = json.dumps(clean_tree(self.model_dump()), indent=2, ensure_ascii=False, default=str)
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)

    def question_table(self) -> str:
        """A per-question text table (for the terminal)."""
        rows = [f"{'question':<10}{'title':<40}{'score':>14}"]
        for q in self.extra_data.questions:
            rows.append(f"{q.id:<10}{q.title[:38]:<40}{q.score:>7g} / {q.max_score:<5g}")
        rows.append(f"{'total':<50}{self.score:>7g} / {self.extra_data.max_score:<5g}")
        return "\n".join(rows)


def _r(x: float) -> float:
    return round(float(x), 4)


def _measures(measures: dict | None) -> dict[str, float]:
    """``extra_data.measures``: at most ``caps.CURVES`` finite numbers under short cleaned titles."""
    out = {}
    for title, value in list((measures or {}).items())[:caps.CURVES]:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[clean(str(title), caps.CURVE_TEXT)] = round(float(value), 6)
    return out


def _question_tests(q, outcomes, not_run_reason: str, errors: list) -> tuple[list[TestResult], float]:
    tests, q_score = [], 0.0
    for i, (name, points) in enumerate(q.tests.items(), start=1):
        o = outcomes.get((q.module, name))
        passed = bool(o is not None and o.passed)
        # a passed test's output holds its notes (e.g. the shape expected of a value graded as right), if any
        output = clean(o.output if o is not None else not_run_reason, caps.TEST_OUTPUT)
        score = float(points) if passed else 0.0
        q_score += score
        if o is not None and getattr(o, "grader_error", None):
            errors.append({"test": f"{q.id} {name}", "error": clean(o.grader_error, caps.TEST_OUTPUT)})
        tests.append(TestResult(
            name=f"{q.id} {q.title}: {name}", number=f"{q.number}.{i}", score=_r(score), max_score=_r(points),
            status="passed" if passed else "failed", output=output, visibility=q.visibility_of(name),
            extra_data={"question": q.id, "test": name},
        ))
    return tests, q_score


def _notebook_tests(grades, number: int, errors: list) -> tuple[list[TestResult], float, float]:
    """The notebooks worth points as the tests of question ``NB`` (numbered ``number``); a kernel that could
    not start at all is a grader error."""
    from grader.notebooks import NOTEBOOK_QUESTION

    qid, title = NOTEBOOK_QUESTION
    for r in grades.results:
        if r.grader_problem:
            errors.append({"test": f"{qid} {r.name}", "error": clean(r.message, caps.TEST_OUTPUT)})
    tests, score, max_score = [], 0.0, 0.0
    for i, t in enumerate(grades.tests, start=1):
        tests.append(TestResult(
            name=f"{qid} {title}: {t['name']}", number=f"{number}.{i}", score=t["score"], max_score=t["max_score"],
            status=t["status"], output="" if t["status"] == "passed" else clean(t["output"], caps.TEST_OUTPUT),
            extra_data={"question": qid, "test": t["name"], "notebook": t["notebook"]}))
        score += t["score"]
        max_score += t["max_score"]
    return tests, score, max_score


def build_results(assignment, outcomes: dict[tuple[str, str], Any], *, problems: list[str], notes: list[str],
                  sandbox_info: dict, submission: dict, execution_time: float, timing: dict | None = None,
                  notebooks=None, training_curves: list | None = None, measures: dict | None = None,
                  not_run_reason: str = "Not graded: this test did not run.") -> Results:
    """Assemble the results, every question once. ``outcomes``: ``{(suite module, test name): Outcome}``
    (see suites.plugin); ``notebooks``: the ``grader.notebooks.NotebookGrades`` of the notebooks that ran
    (None: they did not run), whose tests with points make question ``NB`` and whose reports go to
    ``extra_data`` (``notebooks``, ``inline_answers``, ``notebook_files``, capped)."""
    tests: list[TestResult] = []
    questions: list[QuestionScore] = []
    errors: list[dict[str, str]] = []
    max_total = assignment.max_score
    for q in assignment.questions:
        q_tests, q_score = _question_tests(q, outcomes, not_run_reason, errors)
        tests += q_tests
        questions.append(QuestionScore(id=q.id, title=q.title, score=_r(q_score), max_score=_r(q.max_score)))
    notebook_extra: dict[str, Any] = {}
    if notebooks is not None:
        from grader.notebooks import NOTEBOOK_QUESTION, capped_extra_data

        notebook_extra = capped_extra_data(notebooks.extra_data)
        nb_tests, nb_score, nb_max = _notebook_tests(notebooks, len(questions) + 1, errors)
        if nb_tests:
            tests += nb_tests
            questions.append(QuestionScore(id=NOTEBOOK_QUESTION[0], title=NOTEBOOK_QUESTION[1], score=_r(nb_score),
                                           max_score=_r(nb_max)))
            max_total += nb_max
    total = sum(q.score for q in questions)
    lines = []
    if problems:
        lines.append("Problems with the submission:")
        lines += [f"- {clean(p, caps.PROBLEM)}" for p in problems]
    if notes:
        lines.append("Notes:")
        lines += [f"- {clean(n, caps.PROBLEM)}" for n in notes]
    if not sandbox_info.get("sandboxed", False):
        lines.append("WARNING: this submission was graded WITHOUT a sandbox (--no-sandbox).")
    lines.append(f"Score: {_r(total):g} / {_r(max_total):g}")
    for q in questions:
        lines.append(f"  {q.id} {q.title}: {q.score:g} / {q.max_score:g}")
    table = lines[-(len(questions) + 1):]           # the score lines always fit
    head = clean("\n".join(lines[:-(len(questions) + 1)]), caps.TOP_OUTPUT - len("\n".join(table)) - 1)
    output = "\n".join(([head] if head else []) + table)
    extra = ExtraData(assignment=assignment.name, max_score=_r(max_total), questions=questions,
                      sandbox=clean_tree(json.loads(json.dumps(clean_tree(sandbox_info, caps.META_STR), default=str)),
                                         caps.META_STR),
                      submission=clean_tree(submission, caps.META_STR), grader_errors=errors, timing=timing or {},
                      training_curves=training_curves or [], notebooks_run=notebooks is not None,
                      measures=_measures(measures), **notebook_extra)
    return Results(score=_r(total), execution_time=_r(execution_time), output=output, tests=tests, extra_data=extra)
