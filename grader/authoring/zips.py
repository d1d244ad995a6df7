"""Sample submissions: ``starter.zip`` and ``solutions.zip`` laid out as a student uploads them."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from .regions import AuthoringError
from .starter import NOTEBOOK_SUFFIX, _tree_files

# Fixed metadata of every zip entry written by build_zips (deterministic archives).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def submission_entries(tree: Path, model: str | None, package: str = "cs231n") -> list[tuple[str, Path]]:
    """``(name in the zip, file)`` of a submission made from ``tree`` (a folder holding ``cs231n/`` and
    the notebooks): the package (starter rules: no caches or artefacts), the top-level notebooks and the
    saved ``model`` file (``best_model.npz``) when given and present. Sorted by name."""
    tree = Path(tree)
    pkg = tree / package
    if not pkg.is_dir():
        raise AuthoringError(f"{tree.name}: no {package}/ folder to put in a submission")
    entries = [(f"{package}/{rel.as_posix()}", pkg / rel) for rel in _tree_files(pkg)]
    entries += [(p.name, p) for p in sorted(tree.glob("*" + NOTEBOOK_SUFFIX)) if p.is_file()]
    if model is not None and (tree / model).is_file():
        entries.append((model, tree / model))
    return sorted(entries)


def write_zip(path: Path, entries: list[tuple[str, bytes]], executable: frozenset[str] = frozenset()) -> Path:
    """Write a deterministic zip: entries in the given order, fixed timestamps and modes (0755 for the
    names in ``executable``, else 0644), deflated."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            zf.writestr(info, data, compresslevel=6)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(buffer.getvalue())
    tmp.chmod(0o644)
    os.replace(tmp, path)
    return path


def build_zips(out_dir: Path, src: Path, starter: Path, *, package: str = "cs231n",
               model: str | None = None) -> dict[str, Path]:
    """Build ``starter.zip`` (from the committed ``starter`` tree, what students download) and
    ``solutions.zip`` (from ``src``, with the saved ``model`` file when present) in ``out_dir``, laid out as
    a student uploads them: ``cs231n/...`` and the notebooks at the top. Deterministic bytes.

    Returns ``{'starter': path, 'solutions': path}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    for key, tree, saved in (("starter", Path(starter), None), ("solutions", Path(src), model)):
        entries = [(name, file.read_bytes()) for name, file in submission_entries(tree, saved, package)]
        built[key] = write_zip(out_dir / f"{key}.zip", entries)
    return built


def build_assignment_zips(out_dir: Path, assignment) -> dict[str, Path]:
    """``build_zips`` for an assignment (``grader.assignments.Assignment``): its solutions and starter."""
    model = assignment.best_model.file if assignment.best_model is not None else None
    return build_zips(out_dir, assignment.solution_tree(), assignment.starter_dir, package=assignment.package,
                      model=model)
