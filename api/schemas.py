"""Pydantic models of every request and response body (they are also the OpenAPI schema at ``/docs``)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

Status = Literal["queued", "running", "graded", "error"]
Role = Literal["student", "instructor"]


def _iso_time(value):
    """A time in a JSON body is an ISO 8601 string (not a number of seconds, which pydantic would read)."""
    if value is not None and not isinstance(value, (str, dt.datetime)):
        raise ValueError("a date and time in ISO 8601, e.g. 2026-12-03T23:59:00+01:00")
    return value


def _json_integer(value):
    """An integer of a JSON body is a JSON number with no fraction (``5`` or ``5.0``, as JSON Schema has it),
    not a string or a boolean (which pydantic would read as one)."""
    if isinstance(value, (str, bool, bytes)):
        raise ValueError("an integer (a JSON number)")
    return value


def int_in(**bounds):
    """An integer sent by a client in a JSON body, within ``bounds`` (``ge``, ``le``: applied to the integer
    first, so that the document shows them as ``minimum``/``maximum``)."""
    return Annotated[int, Field(**bounds), BeforeValidator(_json_integer)]

#: A time sent by a client: an ISO 8601 string; without an offset, in the course's time zone.
TimeIn = Annotated[dt.datetime, BeforeValidator(_iso_time)]


class BodyIn(BaseModel):
    """A JSON request body: exactly the documented keys (``additionalProperties: false``), each of its
    documented type (no string read as a number or a number as a boolean)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer."""

    detail: str = Field(description="what went wrong, for a person")
    code: str = Field(description="machine-readable reason, e.g. missing_token, too_large, not_a_zip")


class UploadForm(BaseModel):
    """The multipart form of ``POST /api/v1/submissions`` (documented; the body is read as a stream)."""

    assignment: str = Field(description="the assignment's id, one of GET /api/v1/assignments")
    file: bytes = Field(min_length=1, json_schema_extra={"format": "binary", "contentMediaType": "application/zip"},
                        description="the submission .zip (not empty)")


class SubmissionCreated(BaseModel):
    id: int
    status: Status
    assignment: str
    url: str = Field(description="where to poll the submission")
    created_at: dt.datetime


class QuestionScore(BaseModel):
    id: str
    title: str
    score: float | None = None
    max_score: float


class TestResult(BaseModel):
    name: str
    number: str | None = None
    score: float | None = None
    max_score: float | None = None
    status: str | None = None
    output: str | None = None
    visibility: str = "visible"


class AttemptOut(BaseModel):
    """One claim of the submission by a worker (instructors only)."""

    number: int
    worker: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcome: str | None = Field(None, description="graded, error, lost (worker died), released, superseded")
    detail: str | None = None


class RegradeOut(BaseModel):
    """One regrade of a submission: who asked, when, why, its score before and after."""

    requested_by: str
    requested_at: dt.datetime
    reason: str | None = None
    old_score: float | None = None
    new_score: float | None = None
    finished_at: dt.datetime | None = None
    outcome: str | None = Field(None, description="graded or error; none while it waits or runs")


class ManualScoreIn(BodyIn):
    score: Annotated[float, Field(strict=True)] = Field(ge=0, description="at most the inline question's points")
    comment: str = Field("", max_length=10_000)


class ManualScoreOut(BaseModel):
    question: str
    title: str
    points: float
    score: float | None = None
    comment: str = ""
    graded_by: str | None = None
    graded_at: dt.datetime | None = None
    answer: str | None = Field(None, description="the student's written answer (instructors only)")


class SubmissionOut(BaseModel):
    id: int
    student: str
    assignment: str
    status: Status
    filename: str
    size_bytes: int
    sha256: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    queue_seconds: float | None = Field(None, description="from upload to the start of the last attempt")
    grading_seconds: float | None = Field(None, description="duration of the attempt that produced the result")
    attempts: int
    score: float | None = None
    max_score: float | None = None
    questions: list[QuestionScore] = []
    tests: list[TestResult] = Field([], description="the tests this user may see")
    hidden_tests: int = Field(0, description="tests graded but not shown to this user")
    output: str | None = Field(None, description="the grader's overall message, when visible")
    error: str | None = Field(None, description="why grading failed (status error)")
    log_tail: str | None = Field(None, description="end of the grader's log (instructors only)")
    history: list[AttemptOut] | None = Field(None, description="every claim by a worker (instructors only)")
    late_seconds: int | None = Field(None, description="how late the upload was (0: on time)")
    penalty_percent: float | None = Field(None, description="taken off the points for lateness")
    final_score: float | None = Field(None, description="automatic and manual points after the penalty")
    manual: list[ManualScoreOut] = Field([], description="the inline questions scored by hand")
    regrades: list[RegradeOut] | None = Field(None, description="every regrade (instructors only)")
    duplicate_of: list[int] | None = Field(None, description="other students' submissions with the same graded "
                                                             "files (instructors only)")
    url: str


class SubmissionSummary(BaseModel):
    id: int
    student: str
    assignment: str
    status: Status
    filename: str
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    score: float | None = None
    max_score: float | None = None
    attempts: int
    late_seconds: int | None = None
    penalty_percent: float | None = None
    url: str


class SubmissionList(BaseModel):
    items: list[SubmissionSummary]
    total: int
    limit: int
    offset: int


class QuestionOut(BaseModel):
    id: str
    title: str
    points: float


class PolicyFields(BaseModel):
    due_at: dt.datetime | None = None
    hard_deadline_at: dt.datetime | None = Field(None, description="uploads after it are refused; not before due_at")
    penalty_percent: float = Field(0.0, ge=0, le=100, description="taken off per started unit late")
    penalty_unit: Literal["hour", "day"] = "day"
    penalty_cap_percent: float = Field(100.0, ge=0, le=100)
    max_submissions: int | None = Field(None, ge=1, le=100_000, description="uploads per student")
    published: bool = Field(False, description="grades released: tests 'after_published' are shown")


class PolicyIn(BodyIn):
    """An assignment's due date, late policy and quota. Times: ISO 8601; without an offset, in the course's
    time zone."""

    due_at: TimeIn | None = None
    hard_deadline_at: TimeIn | None = Field(None, description="uploads after it are refused; not before due_at")
    penalty_percent: Annotated[float, Field(strict=True)] = Field(0.0, ge=0, le=100,
                                                                  description="taken off per started unit late")
    penalty_unit: Literal["hour", "day"] = "day"
    penalty_cap_percent: Annotated[float, Field(strict=True)] = Field(100.0, ge=0, le=100)
    max_submissions: int_in(ge=1, le=100_000) | None = Field(None, description="uploads per student")
    published: StrictBool = Field(False, description="grades released: tests 'after_published' are shown")


class PolicyOut(PolicyFields):
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class ExtensionIn(BodyIn):
    due_at: TimeIn = Field(description="the student's own due date (no offset: course time zone)")


class ExtensionOut(BaseModel):
    student: str
    due_at: dt.datetime
    granted_by: str
    granted_at: dt.datetime


class InlineQuestionOut(BaseModel):
    id: str
    title: str
    points: float


class AssignmentOut(BaseModel):
    id: str
    title: str
    max_score: float
    questions: list[QuestionOut]
    inline_questions: list[InlineQuestionOut] = Field([], description="scored by hand by the instructors")
    policy: PolicyOut | None = Field(None, description="due date, late policy, quota (none: no due date)")


class MyDeadline(BaseModel):
    """One assignment's deadlines for the signed-in student (their extension applied)."""

    assignment: str
    due_at: dt.datetime | None = None
    hard_deadline_at: dt.datetime | None = None
    extended: bool = False
    submissions: int = Field(description="uploads so far")
    max_submissions: int | None = None


class Course(BaseModel):
    timezone: str = Field(description="IANA time zone in which the page shows times")


class RegradeIn(BodyIn):
    """Which submissions to grade again: one (``submission_id``), one student's of an assignment
    (``student`` + ``assignment``), or a whole assignment's (``assignment``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["submission_id"], "properties": {"submission_id": {"type": "integer"}}},
                  {"required": ["assignment"], "properties": {"assignment": {"type": "string"}}}]})

    submission_id: int_in(ge=1) | None = None
    student: str | None = Field(None, max_length=200)
    assignment: str | None = Field(None, max_length=100)
    reason: str | None = Field(None, max_length=2000)


class RegradesCreated(BaseModel):
    queued: list[int] = Field(description="submissions put back in the queue")
    skipped: list[int] = Field(description="submissions already queued or running (they grade anyway)")


class AssignmentList(BaseModel):
    items: list[AssignmentOut]


class Me(BaseModel):
    name: str
    role: Role


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool
    queue: str
    queue_ok: bool
    workers_alive: int | None = None
    queued: int
    running: int
    version: str
