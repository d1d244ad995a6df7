"""Queue back-ends behind one small interface used by the service.

``Dispatcher`` is what the API process owns:

* ``start()``   -- local mode: start the worker pool; both modes: start the maintenance thread, which
                  every ``reaper_interval`` seconds re-queues submissions whose worker died (expired lease,
                  ``api.jobs.reap_expired``) and, in RQ mode, hands queued submissions to Redis that are
                  not there (``RQQueue.sync``). The first round runs at start-up, so a restarted service
                  resumes every unfinished job.
* ``submitted(id)`` -- a new submission row was committed: RQ mode enqueues it; local workers poll.
* ``stop()``    -- stop the pool (workers release their jobs) and the maintenance thread.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ..jobs import reap_expired
from ..models import Submission
from ..settings import Settings

log = logging.getLogger("api.queue")


class Dispatcher:
    """``start_workers``: run the local pool (local mode); ``maintain``: run the maintenance thread.

    With several HTTP processes (``serve --http-workers N``) the supervisor process owns the pool and the
    maintenance thread, and writes the pool's state to ``<data>/run/pool.json`` for the HTTP processes'
    ``/healthz``; their dispatchers only hand new submissions to the queue.
    """

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], start_workers: bool = True,
                 maintain: bool = True):
        self.settings = settings
        self.sessions = sessions
        self.pool = None
        self.rq = None
        self.maintaining = maintain
        if settings.queue == "rq":
            from .rq import RQQueue
            self.rq = RQQueue(settings)
        elif start_workers and settings.workers > 0:
            from .local import LocalPool
            self.pool = LocalPool(settings, settings.workers)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status_file = settings.data_dir / "run" / "pool.json"

    @property
    def kind(self) -> str:
        return self.settings.queue

    def start(self) -> None:
        if self.maintaining:
            self.maintain()
        if self.pool is not None:
            self.pool.start()
            self._write_status()
        if self.maintaining:
            self._thread = threading.Thread(target=self._loop, name="queue-maintenance", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.reaper_interval):
            self.maintain()
            if self.pool is not None:
                self._write_status()

    def _write_status(self) -> None:
        try:
            self.status_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.status_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"workers_alive": self.pool.alive(), "time": time.time()}))
            os.replace(tmp, self.status_file)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.status_file, exc)

    def _read_status(self) -> int | None:
        """Workers alive according to the supervisor's status file (None if absent or stale)."""
        try:
            data = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return None
        if time.time() - data.get("time", 0) > 3 * self.settings.reaper_interval + 5:
            return None
        return int(data.get("workers_alive", 0))

    def maintain(self) -> None:
        """One round: re-queue expired claims; in RQ mode make sure every queued job is on Redis."""
        try:
            reap_expired(self.sessions, self.settings.max_attempts)
        except Exception as exc:
            log.warning("reaper failed: %s", exc)
        if self.rq is not None:
            try:
                self.rq.sync(self.sessions)
            except Exception as exc:
                log.warning("RQ sync failed (will retry): %s", exc)

    def new_queue_ref(self) -> str | None:
        """The id the queue will know the job by (RQ job id), chosen before the row is inserted."""
        if self.rq is not None:
            from .rq import new_job_id
            return new_job_id()
        return None

    def submitted(self, submission_id: int, queue_ref: str | None) -> None:
        """Hand a committed submission to the queue (RQ); failures are retried by ``maintain``."""
        if self.rq is None or queue_ref is None:
            return
        try:
            self.rq.enqueue(submission_id, queue_ref)
        except Exception as exc:
            log.warning("enqueue of submission %s failed (will retry): %s", submission_id, exc)
            with self.sessions() as session:
                session.execute(update(Submission)
                                .where(Submission.id == submission_id, Submission.queue_ref == queue_ref)
                                .values(enqueued_at=None))
                session.commit()

    def queue_ok(self) -> bool:
        if self.rq is not None:
            return self.rq.ping()
        alive = self.workers_alive()
        if alive is not None:
            return alive > 0
        return self.settings.workers == 0 or self.maintaining   # no pool here by configuration

    def workers_alive(self) -> int | None:
        if self.pool is not None:
            return self.pool.alive()
        if self.settings.queue == "local" and self.settings.workers > 0:
            return self._read_status()
        return None

    def stop(self) -> None:
        self._stop.set()
        if self.pool is not None:
            self.pool.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
