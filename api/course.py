"""The course's rules around a grade: due dates, extensions, the late penalty, the quota, test visibility.

An assignment's policy (``api.models.AssignmentPolicy``; none: no due date, no limit) has

* ``due_at``: uploads after it are late; a student's extension (``Extension.due_at``) replaces it for them;
* ``hard_deadline_at``: uploads after it are refused (``403 past_deadline``); an extension moves it by as
  much as it moves the due date;
* the penalty: ``penalty_percent`` per started ``penalty_unit`` (``hour`` or ``day``) late, at most
  ``penalty_cap_percent``; it takes that percentage off the submission's points (automatic and manual);
* ``max_submissions``: uploads per student beyond it are refused (``429 quota_exhausted``);
* ``published``: the grades are released (tests ``after_published`` are shown).

Each submission records at upload how late it was and the penalty (``late_seconds``, ``penalty_percent``):
changing the policy later does not change past submissions' penalties. Times are UTC in the database and the
API (ISO 8601 with an offset); the page shows them in the course's time zone (``GRADER_COURSE_TIMEZONE``).

Test visibility (the manifest's, Gradescope's vocabulary): ``visible`` always; ``after_due_date`` once the
student's own due date has passed; ``after_published`` once the grades are published; ``hidden`` never
(those are not even stored in the student's feedback, ``api.results``).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AssignmentPolicy, Extension

UNITS = {"hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Deadline:
    """One student's deadlines and the penalty rule of one assignment."""

    due_at: dt.datetime | None = None
    hard_deadline_at: dt.datetime | None = None
    penalty_percent: float = 0.0
    penalty_unit: str = "day"
    penalty_cap_percent: float = 100.0
    max_submissions: int | None = None
    published: bool = False
    extended: bool = False

    def late_seconds(self, at: dt.datetime) -> int:
        if self.due_at is None or at <= self.due_at:
            return 0
        return int(math.ceil((at - self.due_at).total_seconds()))

    def penalty(self, late_seconds: int) -> float:
        """The percentage taken off for being ``late_seconds`` late."""
        if late_seconds <= 0 or self.penalty_percent <= 0:
            return 0.0
        units = math.ceil(late_seconds / UNITS.get(self.penalty_unit, 86400))
        return float(min(self.penalty_cap_percent, self.penalty_percent * units, 100.0))

    def refused(self, at: dt.datetime) -> bool:
        return self.hard_deadline_at is not None and at > self.hard_deadline_at

    def shows(self, visibility: str, at: dt.datetime) -> bool:
        """Whether a test of this ``visibility`` is shown to the student at ``at``."""
        if visibility == "visible":
            return True
        if visibility == "after_due_date":
            return self.due_at is not None and at > self.due_at
        if visibility == "after_published":
            return self.published
        return False


def deadline(session: Session, assignment: str, user_id: int | None) -> Deadline:
    """The deadlines of ``assignment`` for the student ``user_id`` (their extension applied)."""
    policy = session.get(AssignmentPolicy, assignment)
    if policy is None:
        return Deadline()
    due, hard, extended = policy.due_at, policy.hard_deadline_at, False
    if user_id is not None:
        ext = session.scalar(select(Extension).where(Extension.assignment == assignment,
                                                     Extension.user_id == user_id))
        if ext is not None:
            if hard is not None and due is not None and ext.due_at > due:
                hard = hard + (ext.due_at - due)
            elif hard is not None and ext.due_at > hard:
                hard = ext.due_at
            due, extended = ext.due_at, True
    return Deadline(due_at=due, hard_deadline_at=hard, penalty_percent=policy.penalty_percent,
                    penalty_unit=policy.penalty_unit, penalty_cap_percent=policy.penalty_cap_percent,
                    max_submissions=policy.max_submissions, published=policy.published, extended=extended)


def after_penalty(points: float | None, penalty_percent: float | None) -> float | None:
    if points is None:
        return None
    return round(points * (1.0 - (penalty_percent or 0.0) / 100.0), 4)


def student_feedback(stored: dict | None, rule: Deadline, at: dt.datetime) -> dict | None:
    """The student's stored feedback with the tests their visibility does not show yet counted as hidden."""
    if not stored:
        return stored
    tests = stored.get("tests") or []
    shown = [t for t in tests if rule.shows(t.get("visibility", "visible"), at)]
    return dict(stored, tests=shown, hidden_tests=int(stored.get("hidden_tests") or 0) + len(tests) - len(shown))
