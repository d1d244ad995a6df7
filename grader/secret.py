"""The grader's secret and the per-submission salt of the hidden inputs (trusted side only).

Why: a failing test's feedback can carry text the student's code chose (an exception message), so one
upload can ship the hidden inputs it was called with out of the sandbox. If the inputs were the same at
every grade, the next upload could hard-code answers computed offline. So every hidden input of the code
questions, and the training task of the training checks, is drawn from a *salt* specific to the
submission:

    salt = HMAC-SHA256(secret, sha256 of the assembled graded files)        (submission_salt)

Grading the same files twice gives the same salt, hence the same inputs and the same scores (grading is
deterministic); changing anything in a graded file (one byte, a comment) changes every hidden input, so
answers recorded from an earlier upload do not match. The expected values for salted inputs are
computed at grade time by the reference solution (``grader.references.References.with_salt``). The
stored ``reference_outputs/`` are the *unsalted* cases: a regression guard of the solutions, checked by
``selftest`` and ``refresh-references --check``.

The secret (never shown to students, never mounted in the sandbox):

- ``$GRADER_SECRET`` when set (any non-empty string; at least 16 characters). Set it to the same value
  on every machine that grades one course, so a resubmission is graded identically wherever it runs;
- otherwise a random 32-byte secret generated once and kept in ``$GRADER_SECRET_DIR/secret`` (default
  ``$XDG_CACHE_HOME/cs231n-grader/secret``, i.e. ``~/.cache/cs231n-grader/secret``), created with mode
  0600 in a 0700 folder. The folder must not be inside anything the sandbox mounts (``/usr``, the Python
  prefix); :func:`grader_secret` refuses such a place. Deleting the file changes every salt: later grades
  of an unchanged submission then use other inputs (scores of correct code do not change).

With ``--no-sandbox`` the student's code runs as the grader's user and could read the secret file: that
mode is for trusted code only.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Iterable

import numpy as np

ENV_SECRET = "GRADER_SECRET"
ENV_SECRET_DIR = "GRADER_SECRET_DIR"
SECRET_BYTES = 32
MIN_ENV_SECRET = 16


class SecretError(Exception):
    """The grader's secret cannot be read or created (a configuration error of the grader)."""


def secret_path() -> Path:
    """Where the generated secret is kept (see the module doc)."""
    folder = os.environ.get(ENV_SECRET_DIR)
    if folder:
        return Path(folder).expanduser() / "secret"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "cs231n-grader" / "secret"


def _visible_in_sandbox(path: Path) -> bool:
    """True when ``path`` lies under a host folder the sandbox mounts read-only (``/usr``, the venv)."""
    from grader.sandbox import launch

    _, runtime = launch.python_runtime()
    resolved = str(path.resolve())
    return any(resolved == d or resolved.startswith(d.rstrip("/") + "/") for d in ["/usr", *runtime])


def _create(path: Path) -> None:
    """Write a fresh random secret at ``path`` unless one exists (atomic: concurrent graders agree)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(SECRET_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)          # fails if another grader created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def grader_secret() -> bytes:
    """The secret: ``$GRADER_SECRET``, else the generated file (created on first use)."""
    value = os.environ.get(ENV_SECRET)
    if value:
        if len(value) < MIN_ENV_SECRET:
            raise SecretError(f"${ENV_SECRET} is too short (at least {MIN_ENV_SECRET} characters)")
        return value.encode("utf-8", errors="surrogateescape")
    path = secret_path()
    try:
        if _visible_in_sandbox(path.parent):
            raise SecretError(f"the grader's secret would be visible in the sandbox at {path}: set "
                              f"${ENV_SECRET_DIR} to a private folder")
        if not path.is_file():
            _create(path)
        data = path.read_bytes()
    except OSError as exc:
        raise SecretError(f"cannot read or create the grader's secret {path}: {exc} (set ${ENV_SECRET} or "
                          f"${ENV_SECRET_DIR})") from None
    if len(data) < MIN_ENV_SECRET:
        raise SecretError(f"the grader's secret {path} is damaged (delete it to make a new one)")
    return data


def files_digest(package_dir: Path, files: Iterable[str]) -> str:
    """sha256 over the graded files of an assembled package: each file's name, length and bytes, in
    sorted order (a file that does not exist counts as absent, distinctly from an empty file)."""
    h = hashlib.sha256()
    for rel in sorted(files):
        path = Path(package_dir) / rel
        h.update(rel.encode("utf-8", errors="surrogateescape") + b"\0")
        if path.is_file():
            data = path.read_bytes()
            h.update(len(data).to_bytes(8, "little") + data)
        else:
            h.update(b"absent\0")
    return h.hexdigest()


def submission_salt(digest: str, secret: bytes | None = None) -> bytes:
    """``HMAC-SHA256(secret, digest)``: the salt of every hidden input of one submission."""
    key = grader_secret() if secret is None else secret
    return hmac.new(key, b"cs231n-salt:" + digest.encode("ascii"), hashlib.sha256).digest()


def derived_seed(salt: bytes, label: str) -> np.ndarray:
    """A seed for ``np.random.RandomState`` / ``np.random.seed`` (8 uint32 words) for the use ``label``
    (e.g. a case key) of a salt: independent streams for independent uses."""
    digest = hmac.new(salt, label.encode("utf-8"), hashlib.sha256).digest()
    return np.frombuffer(digest, dtype="<u4").astype(np.uint32)
