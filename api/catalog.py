"""The assignments the service accepts, read from the grader's manifests (``grader/assignments/*.toml``).

The service needs only an assignment's id, title and its questions (id, title, points); it reads them
leniently so the grader's manifest format may grow without breaking the service:

* id:        ``id`` / ``name`` / ``assignment`` at the top level or in an ``[assignment]`` table, else the
             file name without ``.toml``;
* title:     ``title`` in either place, else the id;
* questions: ``[[questions]]`` (a list of tables) or ``[questions.<id>]`` (a table of tables), each with
             ``id`` (or the table key), ``title``/``name`` and ``points``/``max_score`` or else a
             ``[tests]`` table of per-test points (the question is worth their sum);
* notebooks: when the service grades notebooks, the ``[[notebooks]]`` points add up to one more question,
             ``NB`` "Notebooks run to the end", as the grader reports it (``grader.notebooks``).

The catalogue is re-read when a manifest file changes (mtime, looked at every 2 s), so no restart is needed.
"""
from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    questions: tuple[Question, ...] = field(default_factory=tuple)

    @property
    def max_score(self) -> float:
        return float(sum(q.points for q in self.questions))


def _first(table: dict, *keys, default=None):
    for key in keys:
        if isinstance(table, dict) and table.get(key) not in (None, ""):
            return table[key]
    return default


def _points(q: dict) -> float:
    """A question's points: ``points``/``max_score``, else the sum of its per-test points (``[tests]``)."""
    value = _first(q, "points", "max_score", "max_points", default=None)
    if value is None:
        tests = q.get("tests")
        if isinstance(tests, dict):
            value = sum(v for v in tests.values() if isinstance(v, (int, float)) and not isinstance(v, bool))
        elif isinstance(tests, list):
            value = sum(float(t.get("points", t.get("max_score", 0)) or 0) for t in tests if isinstance(t, dict))
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _questions(raw) -> tuple[Question, ...]:
    if isinstance(raw, dict):
        raw = [dict(v, id=v.get("id", k)) if isinstance(v, dict) else {"id": k, "points": v}
               for k, v in raw.items()]
    out = []
    for i, q in enumerate(raw or [], start=1):
        if not isinstance(q, dict):
            continue
        qid = str(_first(q, "id", "name", "key", default=f"q{i}"))
        title = str(_first(q, "title", "name", "description", default=qid))
        points = _points(q)
        out.append(Question(qid, title, points))
    return tuple(out)


# The question the grader adds for the notebooks (grader/notebooks.py NOTEBOOK_QUESTION; a test checks they agree).
NOTEBOOK_QUESTION = ("NB", "Notebooks run to the end")


def parse_manifest(path: Path, notebooks: bool = True) -> Assignment:
    """One manifest file -> Assignment (raises ValueError when it is not TOML). ``notebooks``: whether
    the grades include the notebooks' question."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    head = data.get("assignment") if isinstance(data.get("assignment"), dict) else {}
    aid = _first(data, "id", default=None)
    if aid is None:
        aid = _first(head, "id", "name", default=None)
    if aid is None and isinstance(data.get("assignment"), str):
        aid = data["assignment"]
    if aid is None:
        aid = _first(data, "name", default=path.stem)
    title = _first(data, "title", default=None) or _first(head, "title", default=str(aid))
    questions = list(_questions(data.get("questions", head.get("questions"))))
    notebook_points = sum(_points(nb) for nb in data.get("notebooks") or [] if isinstance(nb, dict))
    if notebooks and notebook_points > 0:
        questions.append(Question(*NOTEBOOK_QUESTION, notebook_points))
    return Assignment(str(aid), str(title), tuple(questions))


class Catalog:
    """The assignments of one manifests directory, re-read when a file there changes."""

    def __init__(self, directory: Path, recheck_seconds: float = 2.0, notebooks: bool = True):
        self.directory = Path(directory)
        self.notebooks = notebooks
        self.recheck_seconds = recheck_seconds
        self._stamp: tuple | None = None
        self._checked = float("-inf")
        self._items: dict[str, Assignment] = {}

    def _current_stamp(self) -> tuple:
        try:
            files = sorted(self.directory.glob("*.toml"))
            return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except OSError:
            return ()

    def all(self) -> dict[str, Assignment]:
        now = time.monotonic()
        if now - self._checked < self.recheck_seconds:
            return self._items
        self._checked = now
        stamp = self._current_stamp()
        if stamp != self._stamp:
            items = {}
            for name, _mtime, _size in stamp:
                try:
                    a = parse_manifest(self.directory / name, self.notebooks)
                except (OSError, ValueError):
                    continue
                items[a.id] = a
            self._items, self._stamp = items, stamp
        return self._items

    def get(self, assignment_id: str) -> Assignment | None:
        return self.all().get(assignment_id)
