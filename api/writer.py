"""Group commit of new submissions: concurrent uploads are inserted together, in one transaction.

Every accepted upload ends with one INSERT; under a burst of uploads, a transaction per upload costs more
than the rest of the request. ``SubmissionWriter`` owns one thread that takes every pending insert at
once (a batch) and writes them in a single transaction:

1. lock: SQLite ``BEGIN IMMEDIATE`` (the database write lock); PostgreSQL ``SELECT ... FOR UPDATE`` on the
   students' rows (serialises uploads of the same student across API processes);
2. count each student's queued+running submissions (one grouped query);
3. accept uploads in arrival order while a student stays within ``max_in_flight`` and within the
   assignment's quota of submissions (``api.course``); refuse the rest (429); record how late each one is
   (the time of this transaction against the student's due date) and its penalty;
4. insert the accepted rows and commit.

So the in-flight limit is exact however many uploads arrive together, and a lone upload is written at
once (a batch of one). The request handler awaits its own result (``await writer.add(...)``).

One bad row fails alone: when a batch's transaction fails and the database itself is fine (not a lost
connection, lock or timeout), its rows are written again one by one, each in its own transaction, so the
honest uploads of the batch are recorded (exactly once: the failed transaction wrote nothing) and only the
row the database refuses fails -- a 422 ``unstorable_upload`` when it refuses the row's data (PostgreSQL
text cannot hold a NUL byte; ``storage.clean_filename`` removes those before), else its error (500).

On SQLite the thread keeps one connection of its own and sends these few statements to the driver
directly (``_write_sqlite``, ~0.05 ms per batch of one): building and executing them through SQLAlchemy
cost ~0.75 ms of CPU per batch, 40% of what a lone small upload cost in all (a burst of 100 uploads makes
batches of ~10), and it held the database's write lock longer. Other databases use SQLAlchemy Core
(``_write_core``).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from .errors import APIError, unavailable_error
from .course import Deadline
from .models import Submission, User, utcnow

log = logging.getLogger("api.writer")
IN_FLIGHT = ("queued", "running")
# the columns a new submission row sets (the others start NULL); the two times last, both ``now``
INSERT_COLUMNS = ("user_id", "assignment", "status", "original_name", "archive_sha256", "size_bytes", "attempts",
                  "queue_ref", "late_seconds", "penalty_percent", "created_at", "enqueued_at")


def too_many_in_flight(limit: int) -> APIError:
    return APIError(429, "too_many_in_flight",
                    f"you already have {limit} submission(s) queued or running; wait for one to finish",
                    {"Retry-After": "10"})


def _error_names(exc: BaseException) -> set[str]:
    """Class names of ``exc`` and of the driver's exception it wraps (the DB-API names are the same for
    every driver: sqlite3.DataError, psycopg.DataError, ...)."""
    names = {k.__name__ for k in type(exc).__mro__}
    orig = getattr(exc, "orig", None)
    if orig is not None:
        names |= {k.__name__ for k in type(orig).__mro__}
    return names


def is_data_error(exc: BaseException) -> bool:
    """The database (or its driver) refuses a value of the row: it cannot be stored as it is
    (PostgreSQL: a NUL byte in text, a string longer than its column; a string the driver cannot encode)."""
    return bool(_error_names(exc) & {"DataError", "ValueError"})


def database_unavailable(exc: BaseException) -> bool:
    """Trouble of the database itself (connection lost, locked, timed out): retrying rows one by one would
    only wait for it once per row."""
    return bool(getattr(exc, "connection_invalidated", False)
                or _error_names(exc) & {"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"})


def refusal(exc: Exception) -> Exception:
    """What the upload's request gets for ``exc``: a 422 for a row the database cannot store, a 503/507 when
    the database is unavailable or its disk full (``api.errors.unavailable_error``), else ``exc`` itself (a
    500: the service's trouble, not the upload's)."""
    if is_data_error(exc):
        orig = getattr(exc, "orig", None) or exc
        return APIError(422, "unstorable_upload", f"the upload cannot be stored: the database refuses its "
                                                  f"data ({type(orig).__name__}: {str(orig).splitlines()[0][:200]})")
    return unavailable_error(exc) or exc


def quota_exhausted(limit: int) -> APIError:
    return APIError(429, "quota_exhausted", f"you have used all {limit} submission(s) this assignment allows")


@dataclass
class _Pending:
    row: dict
    rule: Deadline | None = None
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


class SubmissionWriter:
    """One thread inserting new submissions in batches (see the module docstring)."""

    def __init__(self, engine: Engine, max_in_flight: int, max_batch: int = 256):
        self.engine = engine
        self.max_in_flight = max_in_flight
        self.max_batch = max_batch
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="submission-writer", daemon=True)
        self.batches = 0
        self.rows = 0
        self._sqlite = engine.dialect.name == "sqlite"
        self._raw = None                       # SQLite: this thread's own DBAPI connection
        if self._sqlite:
            table = Submission.__table__
            self._dt_param = table.c.created_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
            self._insert_sql = (f"INSERT INTO {table.name} ({', '.join(INSERT_COLUMNS)}) "
                                f"VALUES ({', '.join('?' * len(INSERT_COLUMNS))})")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._close_raw()

    def _close_raw(self) -> None:
        if self._raw is not None:
            try:
                self._raw.close()              # back to the engine's pool
            except Exception:
                pass
            self._raw = None

    async def add(self, *, user_id: int, assignment: str, filename: str, sha256: str, size: int,
                  queue_ref: str | None, rule: Deadline | None = None) -> tuple[int, dt.datetime]:
        """Insert one submission (batched with concurrent ones); returns ``(id, created_at)`` or raises 429.
        ``rule``: the student's deadlines of the assignment (its quota, lateness and penalty)."""
        item = _Pending(dict(user_id=user_id, assignment=assignment, status="queued", original_name=filename,
                             archive_sha256=sha256, size_bytes=size, attempts=0, queue_ref=queue_ref,
                             late_seconds=0, penalty_percent=0.0), rule)
        self._queue.put(item)
        return await asyncio.wrap_future(item.future)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)          # stop after this batch
                    break
                batch.append(nxt)
            try:
                outcomes = self._write(batch)
            except Exception as exc:
                if len(batch) > 1 and not database_unavailable(exc):
                    # one row the database refuses must not fail the uploads batched with it
                    log.warning("writing a batch of %d submission(s) failed (%s); writing them one by one",
                                len(batch), exc)
                    outcomes = self._write_each(batch)
                else:                              # a lone row, or the database is unavailable (all fail)
                    log.exception("writing %d submission(s) failed", len(batch))
                    outcomes = [refusal(exc)] * len(batch)
            for item, outcome in zip(batch, outcomes):
                if isinstance(outcome, BaseException):
                    item.future.set_exception(outcome)
                else:
                    item.future.set_result(outcome)

    def _write_each(self, batch: list[_Pending]) -> list:
        """Each row in a transaction of its own (after its batch failed): a bad row fails alone."""
        outcomes: list = []
        for item in batch:
            try:
                outcomes.extend(self._write([item]))
            except Exception as exc:
                if is_data_error(exc):
                    log.warning("the database refuses submission %r: %s", item.row.get("original_name"), exc)
                else:
                    log.exception("writing submission %r failed", item.row.get("original_name"))
                outcomes.append(refusal(exc))
        return outcomes

    def _admit(self, batch: list[_Pending], counts: dict[int, int], used: dict[tuple[int, str], int],
               now: dt.datetime) -> tuple[list, list[int]]:
        """Accept uploads in arrival order while each student stays within the limit and the quota.

        Returns the outcomes (a 429 error for refused uploads, None for accepted ones) and the accepted
        indexes; ``counts`` (queued+running per student) and ``used`` (submissions per student and
        assignment) are updated; an accepted row gets its lateness and penalty at ``now``."""
        outcomes: list = []
        accepted: list[int] = []
        for i, item in enumerate(batch):
            uid, key = item.row["user_id"], (item.row["user_id"], item.row["assignment"])
            quota = item.rule.max_submissions if item.rule is not None else None
            if quota is not None and used.get(key, 0) >= quota:
                outcomes.append(quota_exhausted(quota))
                continue
            if counts.get(uid, 0) >= self.max_in_flight:
                outcomes.append(too_many_in_flight(self.max_in_flight))
                continue
            if item.rule is not None:
                late = item.rule.late_seconds(now)
                item.row.update(late_seconds=late, penalty_percent=item.rule.penalty(late))
            counts[uid] = counts.get(uid, 0) + 1
            used[key] = used.get(key, 0) + 1
            accepted.append(i)
            outcomes.append(None)
        return outcomes, accepted

    def _write(self, batch: list[_Pending]) -> list:
        if self._sqlite:
            try:
                return self._write_sqlite(batch)
            except BaseException:
                self._close_raw()              # a broken connection is not used again
                raise
        return self._write_core(batch)

    def _write_sqlite(self, batch: list[_Pending]) -> list:
        """The batch in one transaction on this thread's own connection, statements sent to the driver."""
        if self._raw is None:
            self._raw = self.engine.raw_connection()      # with the engine's pragmas (WAL, busy timeout)
        conn = self._raw.driver_connection
        now = utcnow()
        stamp = self._dt_param(now)
        users = sorted({item.row["user_id"] for item in batch})
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")                 # the write lock, before counting
            cur.execute(f"SELECT user_id, count(*) FROM {Submission.__tablename__} "
                        f"WHERE status IN ({', '.join('?' * len(IN_FLIGHT))}) "
                        f"AND user_id IN ({', '.join('?' * len(users))}) GROUP BY user_id",
                        (*IN_FLIGHT, *users))
            counts = dict(cur.fetchall())
            used = {}
            limited = sorted({(it.row["user_id"], it.row["assignment"]) for it in batch
                              if it.rule is not None and it.rule.max_submissions is not None})
            for uid, assignment in limited:
                cur.execute(f"SELECT count(*) FROM {Submission.__tablename__} WHERE user_id = ? AND assignment = ?",
                            (uid, assignment))
                used[(uid, assignment)] = cur.fetchone()[0]
            outcomes, accepted = self._admit(batch, counts, used, now)
            for i in accepted:
                row = batch[i].row
                cur.execute(self._insert_sql, (*(row[c] for c in INSERT_COLUMNS[:-2]), stamp, stamp))
                outcomes[i] = (cur.lastrowid, now)
            conn.commit()
        except BaseException:
            try:
                conn.rollback()
            except Exception:
                pass
            raise
        finally:
            cur.close()
        self.batches += 1
        self.rows += len(accepted)
        return outcomes

    def _write_core(self, batch: list[_Pending]) -> list:
        now = utcnow()
        users = sorted({item.row["user_id"] for item in batch})
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(select(User.id).where(User.id.in_(users)).order_by(User.id).with_for_update())
            counts = dict(conn.execute(
                select(Submission.user_id, func.count(Submission.id))
                .where(Submission.user_id.in_(users), Submission.status.in_(IN_FLIGHT))
                .group_by(Submission.user_id)).all())
            used = {}
            for uid, assignment in sorted({(it.row["user_id"], it.row["assignment"]) for it in batch
                                           if it.rule is not None and it.rule.max_submissions is not None}):
                used[(uid, assignment)] = conn.scalar(select(func.count(Submission.id)).where(
                    Submission.user_id == uid, Submission.assignment == assignment)) or 0
            outcomes, accepted = self._admit(batch, counts, used, now)
            if accepted:
                rows = [dict(batch[i].row, created_at=now, enqueued_at=now) for i in accepted]
                ids = conn.execute(insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                                   rows).scalars().all()
                for i, new_id in zip(accepted, ids):
                    outcomes[i] = (new_id, now)
            conn.commit()
        self.batches += 1
        self.rows += len(accepted)
        return outcomes
