"""Safe unpacking of a submission: a zip, a tar or a folder into a private folder, or a precise refusal.

Trusted side only. Nothing here imports or runs the student's code.

``safe_extract`` accepts a ``.zip`` (the normal upload), a ``.tar``/``.tar.gz``/``.tgz`` and a plain folder
(copied under the same rules). Everything it writes is a regular file (mode 0644) or a folder (0755) under
``dest``; nothing else. It refuses, with an ``ArchiveError`` whose message tells the student what to fix:

- archives over the limits of ``ArchiveLimits``: entry count, total and per-file uncompressed size,
  compression ratio per entry and overall (zip bombs), path depth, name length. Sizes declared in the
  headers are checked first, then the bytes actually written are counted while streaming and extraction
  stops as soon as a limit is passed (headers are never trusted);
- absolute paths, ``..`` components, drive letters (``C:``), control characters in names;
- links (zip entries whose Unix mode is a symlink, Windows reparse points, tar sym/hard links, symlinks
  in a folder) and special files (devices, fifos, sockets);
- two entries naming the same file: exact duplicates, names equal after normalisation (``a/./b`` vs
  ``a/b``, ``a//b``), names that differ only in letter case or Unicode normal form (``Layers.py`` vs
  ``layers.py`` - ambiguous, and impossible to unpack on the students' macOS/Windows machines), and a
  name used both as a file and as a folder;
- encrypted entries, unsupported compression methods, corrupt archives (bad CRC, truncated data), files
  that are not archives, archives with no file.

Backslashes are treated as folder separators (Windows tools such as PowerShell 5's Compress-Archive
write ``cs231n\\layers.py``); the result then goes through every check above, so ``..\\..\\x`` is still
refused. Junk is skipped silently: ``__MACOSX/``, ``.DS_Store``, ``._*`` AppleDouble files, ``Thumbs.db``,
``desktop.ini``, ``__pycache__/``, ``*.pyc``, ``.ipynb_checkpoints/``, ``.git/``.

What is then taken from the unpacked tree is ``grader.assemble``'s job.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tarfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

MiB = 1024 * 1024
CHUNK = 64 * 1024

JUNK_DIRS = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_REPARSE_POINT = 0x400
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


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


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------
def normalise_name(name: str, limits: ArchiveLimits) -> tuple[str, ...]:
    """The path components of an archive member name, or ``ArchiveError`` if the name is unsafe.

    Backslashes count as separators; empty and ``.`` components are dropped. ``()`` means the member
    names the archive root itself (e.g. ``./``).
    """
    if _CONTROL.search(name):
        raise ArchiveError(f"the archive holds a name with control characters ({name!r}); rename the file")
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        raise ArchiveError(f"the archive holds an absolute path {name!r}; paths must be relative")
    if _DRIVE.match(unified):
        raise ArchiveError(f"the archive holds a path with a drive letter {name!r}; paths must be relative")
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"the archive holds a path with '..' ({name!r}); paths must stay inside the archive")
    if len(parts) > limits.max_depth:
        raise ArchiveError(f"{name!r} is nested {len(parts)} folders deep (limit {limits.max_depth})")
    if len(unified) > limits.max_path_length:
        raise ArchiveError(f"a path in the archive is {len(unified)} characters long (limit "
                           f"{limits.max_path_length}): {name[:80]!r}...")
    for part in parts:
        if len(part) > limits.max_name_length:
            raise ArchiveError(f"a name in the archive is {len(part)} characters long (limit "
                               f"{limits.max_name_length}): {part[:80]!r}...")
    return parts


def is_junk(parts: Sequence[str]) -> bool:
    """True for OS/editor droppings that are skipped silently."""
    if any(p in JUNK_DIRS for p in parts):
        return True
    if not parts:
        return False
    last = parts[-1]
    return last in JUNK_FILES or last.startswith("._") or last.endswith(".pyc")


def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


class _NameTable:
    """Detects two members naming the same file or folder (exactly, after normalisation, or by case)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str, str]] = {}  # folded -> (normalised path, kind, original)

    def add(self, parts: tuple[str, ...], kind: str, original: str) -> None:
        for i in range(1, len(parts)):
            self._register("/".join(parts[:i]), "folder", original)
        if parts:
            self._register("/".join(parts), kind, original)

    def _register(self, path: str, kind: str, original: str) -> None:
        key = _fold(path)
        if key not in self._seen:
            self._seen[key] = (path, kind, original)
            return
        seen_path, seen_kind, seen_original = self._seen[key]
        if seen_path != path:
            raise ArchiveError(f"the archive holds both {seen_path!r} and {path!r}: names that differ only in "
                               "letter case (or Unicode form) are ambiguous; keep one")
        if seen_kind != kind:
            raise ArchiveError(f"{path!r} is both a file and a folder in the archive; keep one")
        if kind == "file":
            if seen_original == original:
                raise ArchiveError(f"{original!r} appears twice in the archive; keep one copy")
            raise ArchiveError(f"{seen_original!r} and {original!r} name the same file; keep one")


# --------------------------------------------------------------------------------------------------
# Writing with a byte budget
# --------------------------------------------------------------------------------------------------
class _Budget:
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
                    raise ArchiveError(f"{name!r} is larger than {_size(limits.max_file_bytes)} once unpacked; "
                                       "remove it (datasets and large outputs do not belong in a submission)")
                if self.total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is larger than {_size(limits.max_total_bytes)} once "
                                       "unpacked; remove datasets and large files")
                if compressed is not None:
                    _check_ratio(name, written, compressed, limits)
                if self.archive_bytes is not None:
                    _check_ratio("the archive as a whole", self.total, self.archive_bytes, limits)
                out.write(chunk)


def _check_ratio(name: str, size: int, compressed: int, limits: ArchiveLimits) -> None:
    if size <= limits.ratio_floor_bytes:
        return
    if size > limits.max_ratio * max(compressed, 1):
        ratio = size / max(compressed, 1)
        what = name if name.startswith("the archive") else repr(name)
        raise ArchiveError(f"{what} expands from {_size(compressed)} to at least {_size(size)} (ratio "
                           f"{ratio:.0f}:1, limit {limits.max_ratio:.0f}:1); this looks like a zip bomb and "
                           "is not accepted")


def _make_dir(root: Path, parts: Sequence[str]) -> Path:
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


# --------------------------------------------------------------------------------------------------
# Zip
# --------------------------------------------------------------------------------------------------
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


def _extract_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
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
        names = _NameTable()
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
                raise ArchiveError(f"{original!r} is {_size(info.file_size)} once unpacked (limit "
                                   f"{_size(limits.max_file_bytes)}); remove it")
            _check_ratio(original, info.file_size, info.compress_size, limits)
            declared_total += info.file_size
            plan.append((info, parts, False))
        if declared_total > limits.max_total_bytes:
            raise ArchiveError(f"the submission is {_size(declared_total)} once unpacked (limit "
                               f"{_size(limits.max_total_bytes)}); remove datasets and large files")
        archive_bytes = archive.stat().st_size
        _check_ratio("the archive as a whole", declared_total, archive_bytes, limits)
        if not any(not is_dir for _, _, is_dir in plan):
            raise ArchiveError("the archive holds no files (it is empty, or holds only folders and "
                               "system files such as __MACOSX)")
        budget = _Budget(limits, archive_bytes)
        for info, parts, is_dir in plan:
            if is_dir:
                _make_dir(dest, parts)
                continue
            parent = _make_dir(dest, parts[:-1])
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


# --------------------------------------------------------------------------------------------------
# Tar
# --------------------------------------------------------------------------------------------------
def _extract_tar(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    try:
        tf = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"the tar archive is corrupt and cannot be read ({exc}); upload a .zip") from None
    with tf:
        names = _NameTable()
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
                    raise ArchiveError(f"{member.name!r} is {_size(member.size)} once unpacked (limit "
                                       f"{_size(limits.max_file_bytes)}); remove it")
                total += member.size
                if total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is more than {_size(limits.max_total_bytes)} once "
                                       "unpacked; remove datasets and large files")
                plan.append((member, parts, False))
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise ArchiveError(f"the tar archive is corrupt ({exc}); upload a .zip") from None
        archive_bytes = archive.stat().st_size
        _check_ratio("the archive as a whole", total, archive_bytes, limits)
        if not any(not is_dir for _, _, is_dir in plan):
            raise ArchiveError("the archive holds no files")
        budget = _Budget(limits, archive_bytes)
        for member, parts, is_dir in plan:
            if is_dir:
                _make_dir(dest, parts)
                continue
            parent = _make_dir(dest, parts[:-1])
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


# --------------------------------------------------------------------------------------------------
# Folder
# --------------------------------------------------------------------------------------------------
def _copy_folder(source: Path, dest: Path, limits: ArchiveLimits) -> None:
    names = _NameTable()
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
                    raise ArchiveError(f"{shown!r} is {_size(st.st_size)} (limit {_size(limits.max_file_bytes)})")
                total += st.st_size
                if total > limits.max_total_bytes:
                    raise ArchiveError(f"the submission is more than {_size(limits.max_total_bytes)}")
                files.append((Path(entry.path), sub))
            else:
                raise ArchiveError(f"the submission holds a special file {shown!r} (device, fifo or socket)")

    walk(source, ())
    if not files:
        raise ArchiveError("the submitted folder holds no files")
    budget = _Budget(limits, None)
    for parts in dirs:
        _make_dir(dest, parts)
    for path, parts in files:
        parent = _make_dir(dest, parts[:-1])
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


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------
def _describe_file(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    known = {b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive", b"\x1f\x8b": "a gzip file",
             b"%PDF": "a PDF document", b"{": "a text/JSON file", b"BZh": "a bzip2 file"}
    for magic, what in known.items():
        if head.startswith(magic):
            return what
    if not head:
        return "an empty file"
    return f"a file starting with {head!r}"


def safe_extract(archive: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """Unpack ``archive`` (a .zip, .tar[.gz] or a folder) into ``dest`` under the rules of the module doc.

    ``dest`` must not exist or be empty; it is created (mode 0755). On any error ``dest`` is left empty
    (or removed, if this call created it) and ``ArchiveError`` is raised. Returns ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.exists():
        raise ArchiveError(f"the submission {archive.name!r} does not exist")
    created = not dest.exists()
    if created:
        dest.mkdir(parents=True)
    elif not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"{dest} must be an empty folder")
    dest.chmod(0o755)
    try:
        if archive.is_dir():
            a, d = archive.resolve(), dest.resolve()
            if a == d or d.is_relative_to(a) or a.is_relative_to(d):
                raise ValueError(f"cannot copy {archive} into {dest}: one contains the other")
            _copy_folder(archive, dest, limits)
        elif zipfile.is_zipfile(archive):
            _extract_zip(archive, dest, limits)
        elif archive.is_file() and _is_tar(archive):
            _extract_tar(archive, dest, limits)
        else:
            raise ArchiveError(f"{archive.name!r} is not a zip archive (it looks like "
                               f"{_describe_file(archive) if archive.is_file() else 'a special file'}); "
                               "upload a .zip of your assignment folder")
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in list(dest.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()
        raise
    return dest


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error, tarfile.TarError):
        return False


# --------------------------------------------------------------------------------------------------
# Finding things in the extracted tree
# --------------------------------------------------------------------------------------------------
def _walk(root: Path) -> Iterable[tuple[Path, list[str], list[str]]]:
    """``os.walk`` in sorted order, without links and junk folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        yield Path(dirpath), dirnames, sorted(filenames)


def _rel(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return rel if rel != "." else "."
