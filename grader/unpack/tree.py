"""Walking the unpacked tree (``grader.assemble`` finds the package in it)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .names import JUNK_DIRS


def walk_tree(root: Path) -> Iterable[tuple[Path, list[str], list[str]]]:
    """``os.walk`` in sorted order, without links and junk folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        yield Path(dirpath), dirnames, sorted(filenames)


def relative(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return rel if rel != "." else "."
