"""Real servers as child processes, for the tests and the benchmark: the service, RQ workers, Redis, PostgreSQL.

(``tests/`` is on ``sys.path``: ``from support.servers import Service``; ``bench/service_load.py`` puts it there.)

Nothing here is a mock: ``Service`` runs ``python -m api serve`` on a free loopback port with its own data
directory, ``RedisServer`` runs Debian's ``redis-server``, ``PostgresServer`` runs ``initdb`` and ``postgres``
in a temporary directory (as the ``postgres`` user via ``setpriv`` when we are root, because PostgreSQL
refuses to run as root). Every process gets its own session/process group so it can be stopped with all of
its children.
"""
from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .paths import ROOT as REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: process exited with {proc.returncode}\n{tail}")
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s\n{tail}")


def _stop_group(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One default TLS context shared by all test clients (httpx builds a new one per client otherwise,
    ~50 ms each here; the service itself is plain HTTP on loopback)."""
    return ssl.create_default_context()


def base_env(**extra) -> dict[str, str]:
    """The environment of the processes started here. They grade code questions only unless the caller says
    otherwise (a grade with the notebooks takes over a minute; the grader's own tests cover notebooks)."""
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env.setdefault("GRADER_GRADE_NOTEBOOKS", "0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


class Service:
    """``python -m api serve --port 0`` in ``data_dir``; knows its URL and the bootstrap tokens."""

    def __init__(self, data_dir: Path, workers: int = 1, queue: str = "local", env: dict | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.data_dir = Path(data_dir)
        self.workers, self.queue = workers, queue
        self.env = base_env(**(env or {}))
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.instructor_token: str | None = None
        self.student_token: str | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.data_dir / f"serve-{self.starts}.log"

    def start(self, timeout: float = 60.0) -> "Service":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        cmd = [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", "0",
               "--data-dir", str(self.data_dir), "--workers", str(self.workers), "--queue", self.queue,
               *self.extra_args]
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=REPO_ROOT, start_new_session=True)

        def url_line():
            m = re.search(r"grading service at (http://\S+/)", self.log.read_text(errors="replace"))
            return m.group(1) if m else None

        self.url = _wait_for(url_line, timeout, "service start", self.proc, self.log)
        text = self.log.read_text(errors="replace")
        m = re.search(r"instructor token \(user 'instructor'\): (\S+)", text)
        if m:
            self.instructor_token = m.group(1)
        m = re.search(r"demo student token \(user 'demo-student'\): (\S+)", text)
        if m:
            self.student_token = m.group(1)
        _wait_for(lambda: httpx.get(self.url + "healthz", timeout=2).status_code == 200, timeout,
                  "service health", self.proc, self.log)
        return self

    def stop(self, sig=signal.SIGTERM) -> None:
        _stop_group(self.proc, sig)

    def kill(self) -> None:
        """SIGKILL the service process only (its local workers notice through PR_SET_PDEATHSIG)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout, verify=_ssl_context())

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``python -m api ARGS --data-dir <ours>`` with this service's environment."""
        return subprocess.run([sys.executable, "-m", "api", *args, "--data-dir", str(self.data_dir)],
                              env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, check=check,
                              timeout=120)

    def add_user(self, name: str, role: str = "student") -> str:
        return self.cli("add-user", name, "--role", role).stdout.strip().splitlines()[-1]


class Worker:
    """``python -m api worker`` (RQ or local) with the given environment."""

    def __init__(self, log: Path, env: dict, queue: str = "rq", name: str | None = None):
        self.log_path, self.env, self.queue, self.name = Path(log), base_env(**env), queue, name
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        cmd = [sys.executable, "-m", "api", "worker", "--queue", self.queue]
        if self.name:
            cmd += ["--name", self.name]
        with open(self.log_path, "ab") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=REPO_ROOT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig=signal.SIGTERM) -> None:
        _stop_group(self.proc, sig)


class RedisServer:
    """A throw-away ``redis-server`` on a free loopback port, without persistence."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "redis.log"
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--dir", str(self.workdir)],
                                         stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        import redis
        _wait_for(lambda: redis.Redis.from_url(self.url).ping(), 20, "redis-server", self.proc, log)
        return self

    def stop(self) -> None:
        _stop_group(self.proc)


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A throw-away PostgreSQL cluster (initdb into ``workdir``), on a free loopback port, trust auth."""

    def __init__(self, workdir: Path | None = None, user: str = "grader", database: str = "grader"):
        # the cluster's directory must be reachable by the 'postgres' user: by default a fresh one in /tmp
        self.own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="api-pg-"))
        self.port = free_port()
        self.user, self.database = user, database
        self.proc: subprocess.Popen | None = None
        self.bindir = postgres_bindir()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _as_postgres(self) -> list[str]:
        """Prefix that drops root to the 'postgres' system user (PostgreSQL refuses to run as root)."""
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]

    def start(self) -> "PostgresServer":
        if self.bindir is None:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
        self.workdir.mkdir(parents=True, exist_ok=True)
        data, sockdir, log = self.workdir / "data", self.workdir / "sock", self.workdir / "postgres.log"
        sockdir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            shutil.chown(sockdir, "postgres", "postgres")
        subprocess.run(self._as_postgres() + [str(self.bindir / "initdb"), "-D", str(data), "-U", self.user,
                                              "--auth=trust", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True, cwd="/tmp")
        self._launch()
        import psycopg

        def created():
            with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                                 autocommit=True, connect_timeout=2) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{self.database}"')
            return True

        _wait_for(created, 60, "postgres", self.proc, log)
        return self

    def _launch(self) -> None:
        data, sockdir, log = self.workdir / "data", self.workdir / "sock", self.workdir / "postgres.log"
        with open(log, "ab") as fh:
            if os.geteuid() == 0:
                shutil.chown(log, "postgres", "postgres")
            self.proc = subprocess.Popen(
                self._as_postgres() + [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                                       "-h", "127.0.0.1", "-k", str(sockdir), "-c", "fsync=off",
                                       "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                       "-c", "max_connections=200"],
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, cwd="/tmp")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server (fast shutdown: clients are disconnected), stay down ``down_seconds``, start it
        again on the same port and data (what was committed survives)."""
        import psycopg
        _stop_group(self.proc, signal.SIGINT)
        time.sleep(down_seconds)
        self._launch()
        _wait_for(lambda: psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=self.database,
                                          connect_timeout=2).close() or True,
                  60, "postgres restart", self.proc, self.workdir / "postgres.log")

    def stop(self) -> None:
        _stop_group(self.proc, signal.SIGINT)      # SIGINT = fast shutdown
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ------------------------------------------------------------------------------ helpers for tests and bench

def make_zips(out_dir: Path, assignment: str = "assignment2", timeout: float = 300.0,
              env: dict | None = None) -> dict[str, Path]:
    """Build ``assignment``'s ``starter.zip`` and ``solutions.zip`` with
    ``python -m grader make-zips OUT_DIR --assignment A`` (they are written to ``OUT_DIR/A/``); returns
    ``{"starter": path, "solutions": path}``. ``env``: more environment (e.g. ``GRADER_COURSE_DIRS``).

    (The grader command is the one the service uses, ``$GRADER_GRADER_COMMAND``, default ``python -m grader``.)
    """
    from api.settings import load_settings

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(load_settings().grader_argv() + ["make-zips", str(out_dir), "--assignment", assignment],
                          cwd=REPO_ROOT, env=base_env(**(env or {})), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"make-zips failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    zips = {"starter": out_dir / assignment / "starter.zip", "solutions": out_dir / assignment / "solutions.zip"}
    for name, path in zips.items():
        if not path.is_file():
            raise FileNotFoundError(f"make-zips did not write {path}")
    return zips


def wait_for_status(client: httpx.Client, submission_id: int, statuses=("graded", "error"),
                    timeout: float = 180.0, interval: float = 0.25) -> dict:
    """Poll ``GET /api/v1/submissions/{id}`` until its status is one of ``statuses``; returns the body."""
    deadline = time.monotonic() + timeout
    body = {}
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/submissions/{submission_id}")
        r.raise_for_status()
        body = r.json()
        if body["status"] in statuses:
            return body
        time.sleep(interval)
    raise TimeoutError(f"submission {submission_id} still {body.get('status')!r} after {timeout:.0f} s")


def upload(client: httpx.Client, path: Path, assignment: str = "assignment2", name: str | None = None):
    with open(path, "rb") as fh:
        return client.post("/api/v1/submissions", data={"assignment": assignment},
                           files={"file": (name or Path(path).name, fh, "application/zip")})
