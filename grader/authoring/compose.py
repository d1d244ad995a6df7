"""Files two assignments ship, written once: an assignment's ``[[shared]]`` files are taken from another
assignment's solutions when its solution tree is composed.

A manifest entry ::

    [[shared]]
    file = "layers.py"                 # a file of the package
    source = "assignment2"             # whose solutions hold it
    keep = ["affine_forward", "affine_backward"]   # its top-level functions and classes to take (all if left out)

makes ``layers.py`` of this assignment's solutions the header of the source file (everything before its first
top-level function or class: the imports) followed by the kept definitions, in the source's order, each
with the comments and decorators just above it. A ``from M import (a, b, ...)`` of the header keeps only the
names the kept definitions use (a star import is kept as it is), so a subset does not import what the
smaller package lacks. The solution tree (``Assignment.solution_tree()``) is the
assignment's ``solutions/`` folder with these files written in; the starter, the sample zips and the
reference solution are all made from it, so the shared code has one source. A whole file can also be
shared by a relative symlink in ``solutions/``.
"""
from __future__ import annotations

import ast
import hashlib
import shutil
from pathlib import Path

from .regions import AuthoringError

_COMPOSED: dict[tuple[str, str], Path] = {}


def subset(source: str, keep: list[str] | None, where: str) -> str:
    """The header of ``source`` and its top-level definitions named in ``keep`` (None: all of it)."""
    if keep is None:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise AuthoringError(f"{where}: {exc}") from None
    lines = source.splitlines(keepends=True)
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    missing = sorted(set(keep) - {d.name for d in defs})
    if missing:
        raise AuthoringError(f"{where}: no top-level definition of {', '.join(missing)}")

    def start(node) -> int:   # 0-based first line: decorators, then the comments right above
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        return first

    header_end = start(defs[0]) if defs else len(lines)
    kept = [d for d in defs if d.name in keep]
    parts = [_pruned_header(tree, lines, header_end, kept).rstrip() + "\n"]
    for node in defs:
        if node.name in keep:
            parts.append("".join(lines[start(node):node.end_lineno]).rstrip() + "\n")
    return "\n\n".join(parts)


def _used_names(nodes) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def _pruned_header(tree, lines: list[str], header_end: int, kept) -> str:
    """The header's lines, each ``from M import a, b`` reduced to the names ``kept`` uses (or dropped)."""
    used = _used_names(kept)
    out = list(lines[:header_end])
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.end_lineno > header_end:
            continue
        if any(a.name == "*" for a in node.names):
            continue
        names = [a for a in node.names if (a.asname or a.name) in used]
        if len(names) == len(node.names):
            continue
        text = ""
        if names:
            listed = ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in names)
            text = f"from {'.' * node.level}{node.module or ''} import {listed}\n"
        out[node.lineno - 1] = text
        for i in range(node.lineno, node.end_lineno):
            out[i] = ""
    return "".join(out)


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode() + b"\0")
        for f in sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]:
            h.update(f.as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def composed_tree(assignment) -> Path:
    """``solutions/<A>/`` with its shared files written in, in a private folder (recomposed when a source
    changes); the folder itself when the assignment shares nothing."""
    if not assignment.shared:
        return assignment.solutions_dir
    from grader.assignments import load_assignment
    from grader.tmpdirs import private_tmpdir

    sources = {s.file: load_assignment(s.source) for s in assignment.shared}
    key = (assignment.name, _digest([assignment.solutions_dir] + [sources[s.file].solution_package / s.file
                                                                  for s in assignment.shared]))
    if key in _COMPOSED and _COMPOSED[key].is_dir():
        return _COMPOSED[key]
    dest = private_tmpdir(f"solutions-{assignment.name}-") / assignment.name
    shutil.copytree(assignment.solutions_dir, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for s in assignment.shared:
        src = sources[s.file].solution_package / s.file
        if not src.is_file():
            raise AuthoringError(f"{assignment.name}: shared file {s.file} is not in the solutions of {s.source}")
        target = dest / assignment.package / s.file
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            raise AuthoringError(f"{assignment.name}: {s.file} is shared from {s.source}; remove it from "
                                 f"solutions/{assignment.name}/")
        target.write_text(subset(src.read_text(encoding="utf-8"), s.keep, f"{s.source}/{s.file}"), encoding="utf-8")
    _COMPOSED[key] = dest
    return dest
