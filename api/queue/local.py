"""The embedded queue: local worker processes that take jobs straight from the database.

``LocalPool`` (in the service) starts N processes ``python -m api worker --queue local`` and restarts any
that die. Each of them runs ``run_local_worker``: claim the oldest queued submission (an atomic conditional
UPDATE, see ``api.jobs.claim``), grade it, repeat; when idle, look again every ``poll_interval`` seconds.
Local workers need nothing but the database and the uploads directory, so with PostgreSQL and shared
storage they can also run on other machines.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from .. import jobs
from ..grader_process import process
from ..settings import REPO_ROOT, Settings

log = logging.getLogger("api.queue.local")


def _die_with_parent() -> None:
    """In a pool worker: receive SIGTERM when the service dies, so the worker releases its job."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass


class LocalPool:
    """N local worker processes, kept alive by a supervisor thread."""

    def __init__(self, settings: Settings, size: int):
        self.settings = settings
        self.size = size
        self.procs: list[subprocess.Popen | None] = [None] * size
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _spawn(self, slot: int) -> subprocess.Popen:
        env = dict(os.environ)
        env.update(self.settings.to_env())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        log_path = self.settings.data_dir / f"worker-{slot}.log"
        with open(log_path, "ab") as log_fh:
            return subprocess.Popen([sys.executable, "-m", "api", "worker", "--queue", "local"],
                                    stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                                    env=env, preexec_fn=_die_with_parent)

    def start(self) -> None:
        with self._lock:
            for slot in range(self.size):
                self.procs[slot] = self._spawn(slot)
        self._thread = threading.Thread(target=self._supervise, name="local-pool", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                for slot, proc in enumerate(self.procs):
                    if self._stopping.is_set():
                        return
                    if proc is not None and proc.poll() is not None:
                        log.warning("local worker %s (pid %s) exited with %s; restarting", slot, proc.pid,
                                    proc.returncode)
                        self.procs[slot] = self._spawn(slot)
                        self.restarts += 1

    def alive(self) -> int:
        return sum(1 for p in self.procs if p is not None and p.poll() is None)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every worker (each releases its job back to the queue), SIGKILL after ``grace`` s."""
        self._stopping.set()
        with self._lock:
            procs = [p for p in self.procs if p is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_local_worker(ctx: jobs.JobContext) -> None:
    """The loop of one local worker process (returns after SIGTERM/SIGINT, releasing any job it holds)."""
    def _request_stop(signum, _frame):
        ctx.stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    log.info("%s polling %s", ctx.worker, ctx.engine.url.render_as_string(hide_password=True))
    while not ctx.stop.is_set():
        try:
            claim = jobs.claim(ctx)
        except Exception as exc:                 # database unavailable for a moment
            log.warning("claim failed: %s", exc)
            ctx.stop.wait(min(5.0, ctx.settings.poll_interval * 4))
            continue
        if claim is None:
            ctx.stop.wait(ctx.settings.poll_interval)
            continue
        try:
            process(ctx, claim)
        except SystemExit:
            break
        except Exception:                        # e.g. the database went away while recording the result:
            log.exception("submission %s: grading failed", claim.submission_id)   # the lease expires and
            ctx.stop.wait(1.0)                                                     # the job is re-queued
    log.info("%s stopped", ctx.worker)
