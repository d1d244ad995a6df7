"""Writing unpacked files with a byte budget: sizes and compression ratios are checked on the bytes actually
written, never on what the headers declare."""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Sequence

from .limits import CHUNK, ArchiveError, ArchiveLimits, human_size


class Budget:
    """Counts the bytes actually written; raises as soon as a limit is passed."""

    def __init__(self, limits: ArchiveLimits, archive_bytes: int | None) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes
        self.total = 0

    def copy(self, source: BinaryIO, target: Path, name: str, compressed: int | None) -> None:
        limits = self.limits
        written = 0
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)
            while True:
                chunk = source.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                self.total += len(chunk)
                if written > limits.max_file_bytes:
                    raise ArchiveError(f"{name!r} is larger than {human_size(limits.max_file_bytes)} once unpacked; "
                                       "remove it (datasets and large outputs do not belong in a submission)")
                if self.total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is larger than {human_size(limits.max_total_bytes)} once "
                                       "unpacked; remove datasets and large files")
                if compressed is not None:
                    check_ratio(name, written, compressed, limits)
                if self.archive_bytes is not None:
                    check_ratio("the archive as a whole", self.total, self.archive_bytes, limits)
                out.write(chunk)


def check_ratio(name: str, size: int, compressed: int, limits: ArchiveLimits) -> None:
    if size <= limits.ratio_floor_bytes:
        return
    if size > limits.max_ratio * max(compressed, 1):
        ratio = size / max(compressed, 1)
        what = name if name.startswith("the archive") else repr(name)
        raise ArchiveError(f"{what} expands from {human_size(compressed)} to at least {human_size(size)} (ratio "
                           f"{ratio:.0f}:1, limit {limits.max_ratio:.0f}:1); this looks like a zip bomb and "
                           "is not accepted")


def make_dir(root: Path, parts: Sequence[str]) -> Path:
    path = root
    for part in parts:
        path = path / part
        try:
            os.mkdir(path, 0o755)
            os.chmod(path, 0o755)
        except FileExistsError:
            if path.is_symlink() or not path.is_dir():
                raise ArchiveError(f"{'/'.join(parts)!r} is both a file and a folder in the archive") from None
    return path
