"""Copying a submission that is a folder, under the rules of an archive."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .budget import Budget, make_dir
from .limits import ArchiveError, ArchiveLimits, human_size
from .names import NameTable, is_junk, normalise_name


def copy_folder(source: Path, dest: Path, limits: ArchiveLimits) -> None:
    names = NameTable()
    files: list[tuple[Path, tuple[str, ...]]] = []
    dirs: list[tuple[str, ...]] = []
    total = 0
    count = 0

    def walk(folder: Path, parts: tuple[str, ...]) -> None:
        nonlocal total, count
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            count += 1
            if count > limits.max_entries:
                raise ArchiveError(f"the folder holds more than {limits.max_entries} entries")
            sub = parts + (entry.name,)
            shown = "/".join(sub)
            normalise_name(shown, limits)
            if is_junk(sub):
                continue
            if entry.is_symlink():
                raise ArchiveError(f"the submission holds a link {shown!r} -> {os.readlink(entry.path)!r}; "
                                   "links are not accepted, put the real file in the submission")
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                names.add(sub, "folder", shown)
                dirs.append(sub)
                walk(Path(entry.path), sub)
            elif stat.S_ISREG(st.st_mode):
                names.add(sub, "file", shown)
                if st.st_size > limits.max_file_bytes:
                    raise ArchiveError(f"{shown!r} is {human_size(st.st_size)} (limit {human_size(limits.max_file_bytes)})")
                total += st.st_size
                if total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is more than {human_size(limits.max_total_bytes)}")
                files.append((Path(entry.path), sub))
            else:
                raise ArchiveError(f"the submission holds a special file {shown!r} (device, fifo or socket)")

    walk(source, ())
    if not files:
        raise ArchiveError("the submitted folder holds no files")
    budget = Budget(limits, None)
    for parts in dirs:
        make_dir(dest, parts)
    for path, parts in files:
        parent = make_dir(dest, parts[:-1])
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ArchiveError(f"the submission holds a link {'/'.join(parts)!r}; links are not accepted") from None
            raise
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ArchiveError(f"{'/'.join(parts)!r} is not a regular file")
            budget.copy(f, parent / parts[-1], "/".join(parts), None)
