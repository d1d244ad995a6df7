"""The worker's processes seen from the trusted side: how one ended, its children, the uid it runs as."""
from __future__ import annotations

import fcntl
import os
import signal
import tempfile
from pathlib import Path

from . import launch
from .errors import SandboxUnavailable
from .launch import Limits


def describe_exit(status: int, sandboxed: bool, limits: Limits) -> str:
    """'exit status 3' / 'killed by SIGKILL (...)': bwrap reports a signal N as exit status 128 + N."""
    sig = -status if status < 0 else (status - 128 if sandboxed and status > 128 else 0)
    if not sig:
        return f"exit status {status}"
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    hint = ""
    if name in ("SIGKILL", "SIGXCPU"):
        hint = f" (killed, or its {limits.cpu_seconds} s CPU-time limit was reached)"
    return f"killed by {name}{hint}"


def children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid`` (from /proc)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        pass
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == str(pid):
                out.append(int(name))
    return out


def kill_uid(uid: int) -> int:
    """SIGKILL every process running as ``uid`` (the setpriv tier has no pid namespace: a process that left
    the worker's group with setsid() is found by its uid) -> how many were signalled. Only for the uids of
    ``launch.UID_POOL``, which nothing else uses."""
    if uid not in launch.UID_POOL:
        return 0
    killed = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        line = next((ln for ln in status.splitlines() if ln.startswith("Uid:")), "")
        if str(uid) in line.split()[1:2]:
            try:
                os.kill(int(name), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def acquire_uid():
    """Take a uid of launch.UID_POOL no other sandbox (in any process) holds -> (uid, open lock file).

    The lock is an flock on ``<tmp>/cs231n-sandbox-uids/<uid>.lock``, released by closing the file (or by
    the process ending).
    """
    lock_dir = Path(tempfile.gettempdir()) / "cs231n-sandbox-uids"
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    pool = launch.UID_POOL
    offset = (os.getpid() * 7919) % len(pool)
    for k in range(len(pool)):
        uid = pool[(offset + k) % len(pool)]
        f = open(lock_dir / f"{uid}.lock", "a")  # noqa: SIM115 - kept open while the uid is in use
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        return uid, f
    raise SandboxUnavailable("no free sandbox uid in launch.UID_POOL")
