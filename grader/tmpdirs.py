"""Private temporary folders that do not outlive their process by long.

Trusted side. A grade unpacks the submission, stages the sandbox's copy of the package and runs notebooks
in folders under the system's temporary directory. A grader killed mid-grade (a job timeout, a worker
SIGKILLed, a hostile submission killing its parent) leaves them behind, with the student's files in them.
``private_tmpdir`` names each folder after the process that made it and first removes the folders of its
kind whose process is gone. (A temporary directory shared by several pid namespaces would need its own
sweeping: there another namespace's live pid can look dead here.)
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(prefix: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Remove ``<root>/<prefix><pid>-*`` folders whose process has ended -> the folders removed."""
    root = Path(root if root is not None else tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix):].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:       # another grade may be sweeping the same folder right now: gone is as good as removed
            mine = entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.geteuid()
        except OSError:
            continue
        if mine:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def private_tmpdir(prefix: str) -> Path:
    """A new folder ``<tmp>/<prefix><pid>-<random>`` (mode 0700), after sweeping the dead ones of ``prefix``."""
    sweep(prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
