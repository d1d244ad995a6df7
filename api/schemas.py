"""Pydantic models of every request and response body (they are also the OpenAPI schema at ``/docs``)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "running", "graded", "error"]
Role = Literal["student", "instructor"]


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


class AssignmentOut(BaseModel):
    id: str
    title: str
    max_score: float
    questions: list[QuestionOut]


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
