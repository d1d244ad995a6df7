"""What the service keeps of a grade, built once when the job finishes and served as stored.

The grader's ``results.json`` is read and validated into ``grader.scoring.Results`` by ``grader.child``
(the only place it is parsed); :func:`stored_result` turns it into the columns of the submission's row:

* ``score``, ``max_score``;
* ``questions``: the per-question scores (the gradebook reads only these);
* ``feedback``: what an instructor sees -- every test and the grader's overall output;
* ``student_feedback``: what the student may see, following the Gradescope visibility rules: the tests
  whose ``visibility`` is not ``hidden`` (those are counted in ``hidden_tests``, nothing else of them is
  kept); the ones ``after_due_date`` or ``after_published`` are kept with their visibility and served only
  once the student's due date has passed or the grades are published (``api.course.student_feedback``,
  at each request); the overall output (it speaks of the student's own submission: why an archive was refused, which
  files are missing, the score per question) with the results, whatever ``stdout_visibility`` says; when
  the results as a whole are not ``visible``, nothing but the status (``scores_visible`` false).

The complete results file (with ``extra_data``: sandbox, timing, notebooks...) stays in the job's folder
(``<data>/jobs/<submission>-<attempt>-<token>/results.json``); the database holds what the API serves.
"""
from __future__ import annotations

from pydantic import BaseModel, Field

from grader.scoring import Results

from .schemas import QuestionScore, TestResult

MAX_TEST_OUTPUT_CHARS = 20_000   # characters of one test's output kept (the grader caps it lower already)


class Feedback(BaseModel):
    """The tests and the overall output one audience (instructors, or the student) may see."""

    tests: list[TestResult] = Field(default_factory=list)
    hidden_tests: int = 0
    output: str | None = None
    scores_visible: bool = True
    inline_answers: list[dict] = Field(default_factory=list)    # instructors: the notebooks' written answers


class StoredResult(BaseModel):
    """The result columns of a graded submission (``api.models.Submission``)."""

    score: float
    max_score: float
    questions: list[QuestionScore]
    feedback: Feedback
    student_feedback: Feedback
    graded_sha256: str | None = None

    def columns(self) -> dict:
        """The values of the submission's result columns (JSON-ready)."""
        data = self.model_dump(mode="json")
        return {name: data[name] for name in ("score", "max_score", "questions", "feedback", "student_feedback",
                                              "graded_sha256")}


def _capped(text: str) -> str:
    if len(text) > MAX_TEST_OUTPUT_CHARS:
        return text[:MAX_TEST_OUTPUT_CHARS] + "\n... (output truncated)"
    return text


def stored_result(results: Results) -> StoredResult:
    """The columns of one grade's ``results`` (see the module's docstring for the visibility rules)."""
    tests = [TestResult(name=t.name, number=t.number, score=t.score, max_score=t.max_score, status=t.status,
                        output=_capped(t.output), visibility=t.visibility) for t in results.tests]
    visible = [t for t in tests if t.visibility != "hidden"]
    if results.visibility != "visible":
        student = Feedback(hidden_tests=len(tests), scores_visible=False)
    else:
        # the overall output is about the student's own submission (why it could not be unpacked, which
        # files are missing, the score per question): shown whenever the results are, whatever its
        # ``stdout_visibility`` (which hides it by default)
        student = Feedback(tests=visible, hidden_tests=len(tests) - len(visible), output=results.output)
    questions = [QuestionScore(id=q.id, title=q.title, score=q.score, max_score=q.max_score)
                 for q in results.extra_data.questions]
    extra = results.extra_data.model_dump()
    answers = [a for a in extra.get("inline_answers") or [] if isinstance(a, dict)]
    digest = results.extra_data.submission.get("graded_sha256")
    return StoredResult(score=results.score, max_score=results.extra_data.max_score, questions=questions,
                        feedback=Feedback(tests=tests, output=results.output, inline_answers=answers),
                        student_feedback=student, graded_sha256=digest if isinstance(digest, str) else None)
