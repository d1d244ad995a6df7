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

The modules: ``limits`` (``ArchiveLimits``, ``ArchiveError``), ``names`` (safe names, junk, duplicates),
``budget`` (writing with a byte budget), ``zip``, ``tar`` and ``folder`` (one kind of submission each),
``tree`` (walking the result).
"""
from __future__ import annotations

import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path

from .budget import Budget
from .folder import copy_folder
from .limits import MiB, ArchiveError, ArchiveLimits, human_size
from .names import JUNK_DIRS, JUNK_FILES, is_junk, normalise_name
from .tar import extract_tar
from .tree import relative, walk_tree
from .zip import extract_zip

__all__ = ["ArchiveError", "ArchiveLimits", "Budget", "JUNK_DIRS", "JUNK_FILES", "MiB", "human_size", "is_junk",
           "normalise_name", "relative", "safe_extract", "walk_tree"]


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
            copy_folder(archive, dest, limits)
        elif zipfile.is_zipfile(archive):
            extract_zip(archive, dest, limits)
        elif archive.is_file() and _is_tar(archive):
            extract_tar(archive, dest, limits)
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
