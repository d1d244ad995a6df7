"""Unpacking a zip archive."""
from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

from .budget import Budget, check_ratio, make_dir
from .limits import ArchiveError, ArchiveLimits, human_size
from .names import NameTable, is_junk, normalise_name

_WINDOWS_REPARSE_POINT = 0x400
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _zip_link_target(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    try:
        with zf.open(info) as f:
            return f.read(1024).decode("utf-8", "replace")
    except Exception:  # the target is only for the message
        return "?"


def _declared_entry_count(archive: Path) -> int | None:
    """The entry count of the end-of-central-directory record (read before zipfile parses the whole
    central directory), or ``None`` when it cannot be read cheaply (ZIP64, comment-mangled...)."""
    size = archive.stat().st_size
    with open(archive, "rb") as f:
        f.seek(max(0, size - 65557))
        tail = f.read()
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < 22:
        return None
    count = int.from_bytes(tail[i + 10: i + 12], "little")
    return None if count == 0xFFFF else count


def extract_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    declared = _declared_entry_count(archive)
    if declared is not None and declared > limits.max_entries:
        raise ArchiveError(f"the archive holds {declared} entries (limit {limits.max_entries}); "
                           "remove datasets and generated files")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise ArchiveError(f"the zip archive is corrupt and cannot be read ({exc}); create it again") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise ArchiveError(f"the archive holds {len(infos)} entries (limit {limits.max_entries}); "
                               "remove datasets and generated files")
        names = NameTable()
        plan: list[tuple[zipfile.ZipInfo, tuple[str, ...], bool]] = []
        declared_total = 0
        for info in infos:
            original = info.orig_filename
            if "\x00" in original:
                raise ArchiveError(f"the archive holds a name with a NUL character ({original!r})")
            parts = normalise_name(original, limits)
            if is_junk(parts):
                continue
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK or (info.external_attr & _WINDOWS_REPARSE_POINT):
                target = _zip_link_target(zf, info)
                raise ArchiveError(f"the archive holds a link {original!r} -> {target!r}; links are not "
                                   "accepted, put the real file in the archive")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"the archive holds a special file {original!r} (device, fifo or socket); "
                                   "only regular files and folders are accepted")
            is_dir = kind == stat.S_IFDIR or original.endswith(("/", "\\"))
            if info.flag_bits & 0x1:
                raise ArchiveError(f"{original!r} is encrypted (password-protected); upload an archive "
                                   "without a password")
            if info.compress_type not in _SUPPORTED_METHODS:
                raise ArchiveError(f"{original!r} uses an unsupported compression method "
                                   f"({info.compress_type}); use a standard zip tool (deflate)")
            if is_dir:
                names.add(parts, "folder", original)
                plan.append((info, parts, True))
                continue
            if not parts:
                raise ArchiveError(f"the archive holds a file without a name ({original!r})")
            names.add(parts, "file", original)
            if info.file_size > limits.max_file_bytes:
                raise ArchiveError(f"{original!r} is {human_size(info.file_size)} once unpacked (limit "
                                   f"{human_size(limits.max_file_bytes)}); remove it")
            check_ratio(original, info.file_size, info.compress_size, limits)
            declared_total += info.file_size
            plan.append((info, parts, False))
        if declared_total > limits.max_total_bytes:
            raise ArchiveError(f"the submission is {human_size(declared_total)} once unpacked (limit "
                               f"{human_size(limits.max_total_bytes)}); remove datasets and large files")
        archive_bytes = archive.stat().st_size
        check_ratio("the archive as a whole", declared_total, archive_bytes, limits)
        if not any(not is_dir for _, _, is_dir in plan):
            raise ArchiveError("the archive holds no files (it is empty, or holds only folders and "
                               "system files such as __MACOSX)")
        budget = Budget(limits, archive_bytes)
        for info, parts, is_dir in plan:
            if is_dir:
                make_dir(dest, parts)
                continue
            parent = make_dir(dest, parts[:-1])
            try:
                with zf.open(info) as source:
                    budget.copy(source, parent / parts[-1], info.orig_filename, info.compress_size)
            except ArchiveError:
                raise
            except FileExistsError:
                raise ArchiveError(f"{info.orig_filename!r} appears twice in the archive; keep one copy") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
                    OSError) as exc:
                raise ArchiveError(f"{info.orig_filename!r} is corrupt in the archive ({exc}); create the "
                                   "archive again") from None
