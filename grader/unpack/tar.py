"""Unpacking a tar archive (.tar, .tar.gz, .tgz)."""
from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

from .budget import Budget, check_ratio, make_dir
from .limits import ArchiveError, ArchiveLimits, human_size
from .names import NameTable, is_junk, normalise_name


def extract_tar(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    try:
        tf = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"the tar archive is corrupt and cannot be read ({exc}); upload a .zip") from None
    with tf:
        names = NameTable()
        plan: list[tuple[tarfile.TarInfo, tuple[str, ...], bool]] = []
        total = 0
        count = 0
        try:
            for member in tf:  # headers are read one at a time: stop as soon as a limit is passed
                count += 1
                if count > limits.max_entries:
                    raise ArchiveError(f"the archive holds more than {limits.max_entries} entries; remove "
                                       "datasets and generated files")
                parts = normalise_name(member.name, limits)
                if is_junk(parts):
                    continue
                if member.issym() or member.islnk():
                    raise ArchiveError(f"the archive holds a link {member.name!r} -> {member.linkname!r}; "
                                       "links are not accepted, put the real file in the archive")
                if member.isdir():
                    names.add(parts, "folder", member.name)
                    plan.append((member, parts, True))
                    continue
                if not member.isreg():
                    raise ArchiveError(f"the archive holds a special file {member.name!r} (device, fifo or "
                                       "socket); only regular files and folders are accepted")
                if not parts:
                    raise ArchiveError(f"the archive holds a file without a name ({member.name!r})")
                names.add(parts, "file", member.name)
                if member.size > limits.max_file_bytes:
                    raise ArchiveError(f"{member.name!r} is {human_size(member.size)} once unpacked (limit "
                                       f"{human_size(limits.max_file_bytes)}); remove it")
                total += member.size
                if total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is more than {human_size(limits.max_total_bytes)} once "
                                       "unpacked; remove datasets and large files")
                plan.append((member, parts, False))
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise ArchiveError(f"the tar archive is corrupt ({exc}); upload a .zip") from None
        archive_bytes = archive.stat().st_size
        check_ratio("the archive as a whole", total, archive_bytes, limits)
        if not any(not is_dir for _, _, is_dir in plan):
            raise ArchiveError("the archive holds no files")
        budget = Budget(limits, archive_bytes)
        for member, parts, is_dir in plan:
            if is_dir:
                make_dir(dest, parts)
                continue
            parent = make_dir(dest, parts[:-1])
            try:
                source = tf.extractfile(member)
                if source is None:
                    raise ArchiveError(f"{member.name!r} cannot be read from the archive")
                with source:
                    budget.copy(source, parent / parts[-1], member.name, None)
            except ArchiveError:
                raise
            except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
                raise ArchiveError(f"{member.name!r} is corrupt in the archive ({exc})") from None
