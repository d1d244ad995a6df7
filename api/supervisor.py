"""``serve --http-workers N`` (N > 1): one supervisor process, N HTTP processes sharing one listening socket.

The supervisor binds the socket, runs the queue dispatcher (local worker pool, maintenance thread) and
starts N children ``python -m api http-worker --fd FD`` that inherit the socket (the kernel spreads the
connections over them) and serve the app with ``create_app(supervised=True)``. A child that dies is
restarted; SIGTERM/SIGINT stops the children (each finishes its requests), then the pool. Children and pool
workers receive SIGTERM if the supervisor dies (PR_SET_PDEATHSIG).

Why: one Python process serves requests on one core (the GIL); a burst of uploads is acknowledged faster
when two or more processes take them.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading

from .db import make_engine, make_session_factory
from .queue import Dispatcher
from .queue.local import _die_with_parent
from .settings import REPO_ROOT, Settings

log = logging.getLogger("api.supervisor")


def _spawn(settings: Settings, sock: socket.socket, index: int, log_level: str, access_log: bool) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(settings.to_env())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "api", "http-worker", "--fd", str(sock.fileno()), "--log-level", log_level]
    if access_log:
        cmd.append("--access-log")
    return subprocess.Popen(cmd, pass_fds=(sock.fileno(),), env=env, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)


def run_supervisor(settings: Settings, sock: socket.socket, n: int, log_level: str = "warning",
                   access_log: bool = False) -> int:
    """Serve with ``n`` HTTP processes until SIGTERM/SIGINT; returns the exit status."""
    engine = make_engine(settings.db_url)
    dispatcher = Dispatcher(settings, make_session_factory(engine), start_workers=True, maintain=True)
    dispatcher.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    children = [_spawn(settings, sock, i, log_level, access_log) for i in range(n)]
    try:
        while not stop.wait(1.0):
            for i, child in enumerate(children):
                if child.poll() is not None:
                    log.warning("HTTP process %d (pid %d) exited with %s; restarting", i, child.pid, child.returncode)
                    children[i] = _spawn(settings, sock, i, log_level, access_log)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        dispatcher.stop()
        engine.dispose()
    return 0
