"""Archive member names: made safe (no absolute paths, ``..``, drive letters, control characters), junk
recognised, and two members naming the same file detected."""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from .limits import ArchiveError, ArchiveLimits

JUNK_DIRS = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


class NameTable:
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
