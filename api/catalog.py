"""The assignments the service grades: every assignment the grader finds, read by the grader's own parser.

``grader.assignments.available()`` names them (the repository's ``grader/assignments/<name>/manifest.toml``
and those of the course roots in ``$GRADER_COURSE_DIRS``) and ``load_assignment(name)`` validates each
manifest; the service shows what a grade reports: the code questions (id, title, points) and, when the
service grades notebooks, one more question for them (``grader.notebooks.NOTEBOOK_QUESTION``, worth the
manifest's notebook points) -- so the columns of the gradebook are the questions of the results.

The catalogue looks again every ``recheck_seconds`` (2 s): an assignment added as files is offered without
a restart, and a changed manifest is read again. An assignment whose manifest is invalid is left out
(logged), as the grader would refuse to grade it.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from grader import assignments as grader_assignments
from grader.assignments import MANIFEST, ManifestError, available, find, load_assignment

log = logging.getLogger("api.catalog")


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float


@dataclass(frozen=True)
class InlineQuestion:
    """A written answer scored by hand: the ``number``-th inline answer of ``notebook``."""

    id: str
    title: str
    points: float
    notebook: str = ""
    number: int = 0


@dataclass(frozen=True)
class Offered:
    """One assignment as the service grades it (``questions`` in the order of the results; ``inline``: the
    inline questions the instructors score by hand)."""

    id: str
    title: str
    questions: tuple[Question, ...] = field(default_factory=tuple)
    inline: tuple[InlineQuestion, ...] = field(default_factory=tuple)

    def inline_question(self, qid: str) -> InlineQuestion | None:
        return next((q for q in self.inline if q.id == qid), None)

    @property
    def max_score(self) -> float:
        return float(sum(q.points for q in self.questions))


def offered(name: str, notebooks: bool = True) -> Offered:
    """The grader's assignment ``name`` (``ManifestError`` when its manifest is invalid)."""
    a = load_assignment(name)
    questions = [Question(q.id, q.title, q.max_score) for q in a.questions]
    if notebooks and a.notebook_points > 0:
        from grader.notebooks import NOTEBOOK_QUESTION

        questions.append(Question(*NOTEBOOK_QUESTION, a.notebook_points))
    inline = tuple(InlineQuestion(q.id, q.title, q.points, q.notebook, q.number) for q in a.inline_questions)
    return Offered(a.name, a.title, tuple(questions), inline)


def _stamp() -> tuple:
    """Which manifests there are, and their versions (modification time and size)."""
    out = []
    for name in available():
        root = find(name)
        path = root / "grader" / "assignments" / name / MANIFEST if root is not None else None
        try:
            st = path.stat() if path is not None else None
        except OSError:
            st = None
        out.append((name, str(root), st.st_mtime_ns if st else None, st.st_size if st else None))
    return tuple(out)


class Catalog:
    """Every assignment the grader finds, re-read when the set of manifests or one of them changes."""

    def __init__(self, notebooks: bool = True, recheck_seconds: float = 2.0):
        self.notebooks = notebooks
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked = float("-inf")
        self._items: dict[str, Offered] = {}

    def all(self) -> dict[str, Offered]:
        """``{name: Offered}``, sorted by name."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked < self.recheck_seconds:
                return self._items
            self._checked = now
            stamp = _stamp()
            if stamp != self._stamp:
                if self._stamp is not None:
                    # the grader keeps parsed manifests for the life of the process: read them again
                    grader_assignments.reload()
                items = {}
                for name, *_ in stamp:
                    try:
                        items[name] = offered(name, self.notebooks)
                    except ManifestError as exc:
                        log.warning("assignment %s is not offered: %s", name, exc)
                self._items, self._stamp = items, stamp
            return self._items

    def get(self, name: str) -> Offered | None:
        return self.all().get(name)
