"""The limits of unpacking and the error that refuses a submission (its message is for the student)."""
from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
CHUNK = 64 * 1024


class ArchiveError(Exception):
    """The submission cannot be unpacked or understood; the message is meant for the student."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits applied by ``safe_extract``.

    Ratio checks (uncompressed / compressed size) apply to entries, and to the whole archive, whose
    uncompressed size exceeds ``ratio_floor_bytes``: small files may compress very well harmlessly.
    """

    max_total_bytes: int = 200 * MiB
    max_file_bytes: int = 50 * MiB
    max_entries: int = 5000
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * MiB
    max_depth: int = 32
    max_name_length: int = 255      # one path component
    max_path_length: int = 1024     # the whole relative path


def human_size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"
