"""One source of truth: an assignment's starter is generated from its solutions.

What goes into the starter
--------------------------
Every file under ``src`` except:

- hidden names (any path component starting with ``.``: ``.ipynb_checkpoints``, ``.git``, ``.DS_Store``)
  and ``__pycache__``, ``__MACOSX``, ``*.egg-info``, ``Thumbs.db``;
- generated artefacts: compiled files (``.pyc``, ``.pyo``, ``.so``), saved arrays and models (``.npz``,
  ``.npy``, ``.pkl``, ``.pickle``, ``.pt``, ``.pth``, ``.h5`` - for example ``best_model.npz`` written by
  the FC notebook) and archives (``.zip``, ``.tar``, ``.gz``, ``.tgz``, ``.bz2``, ``.xz``);
- downloaded data: anything inside a sub-folder of a ``datasets/`` folder (``cs231n/datasets/get_datasets.sh``
  is kept, ``cs231n/datasets/cifar-10-batches-py/...`` is not).

The same names are *ignored* in ``dest``: they are neither removed by ``make_starter`` nor reported by
``starter_diff`` (a local ``__pycache__`` or a downloaded dataset in ``starter/`` is not a difference).
Any other file of ``dest`` is removed: ``dest`` is fully generated. A kept file larger than
``MAX_PROVIDED_FILE_BYTES`` (notebooks excepted: their outputs are dropped) is an ``AuthoringError``: the
starter is committed to git and downloaded by every student, so big files must be an explicit decision.

Python files (``.py``, ``.pyx``) are stripped (``regions``); notebooks are rewritten (``notebook``).
Every other kept file (README, shell scripts, small images) is copied byte for byte. With ``checks``
(``grader.authoring.public_checks``), the package gets its generated ``check/`` folder and the notebooks
their check cells. The result depends
on the bytes of ``src`` only: generating twice gives identical bytes. Nothing is written to ``dest`` unless
the whole generation succeeded.

``python -m grader make-starter`` calls ``make_starter``; ``selftest`` calls ``starter_diff``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from .notebook import strip_notebook
from .regions import AuthoringError, _decode, has_region, strip_regions

STRIPPED_SUFFIXES = (".py", ".pyx")
NOTEBOOK_SUFFIX = ".ipynb"
MAX_PROVIDED_FILE_BYTES = 2 * 1024 * 1024
SKIPPED_NAMES = frozenset({"__pycache__", "__MACOSX", "Thumbs.db"})
ARTEFACT_SUFFIXES = (
    ".pyc", ".pyo", ".so", ".npz", ".npy", ".pkl", ".pickle", ".pt", ".pth", ".h5",
    ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz",
)

def is_skipped(rel: PurePosixPath) -> bool:
    """True for paths (relative to the tree root) that are never part of a starter (see module doc)."""
    parts = rel.parts
    for part in parts:
        if part.startswith(".") or part in SKIPPED_NAMES or part.endswith(".egg-info"):
            return True
    if rel.name.lower().endswith(ARTEFACT_SUFFIXES):
        return True
    for i, part in enumerate(parts[:-1]):
        if part == "datasets" and len(parts) - i > 2:  # datasets/<folder>/... = downloaded data
            return True
    return False


def _tree_files(root: Path) -> list[PurePosixPath]:
    """Relative paths of the regular files under ``root`` that are not skipped, sorted; symlinked dirs
    are not followed (a symlinked file is read through its link)."""
    found: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = PurePosixPath(Path(dirpath).relative_to(root).as_posix())
        dirnames[:] = sorted(d for d in dirnames if not is_skipped(base / d / "x"))
        for name in filenames:
            rel = base / name if str(base) != "." else PurePosixPath(name)
            if not is_skipped(rel) and (Path(dirpath) / name).is_file():
                found.append(rel)
    return sorted(found)


def generate_starter(src: Path, package: str = "cs231n", checks=None) -> dict[PurePosixPath, bytes]:
    """The starter as ``{relative path: bytes}``, computed in memory from the tree ``src``."""
    src = Path(src)
    if not (src / package).is_dir():
        raise AuthoringError(f"{src.name}: no {package}/ package folder to generate a starter from")
    files: dict[PurePosixPath, bytes] = {}
    for rel in _tree_files(src):
        data = (src / rel).read_bytes()
        where = rel.as_posix()
        if rel.suffix == NOTEBOOK_SUFFIX:
            parts = checks.notebook_parts.get(rel.stem, []) if checks is not None and len(rel.parts) == 1 else []
            files[rel] = strip_notebook(data, where, [(h, checks.cell_source(q)) for q, h in parts])
            continue
        if len(data) > MAX_PROVIDED_FILE_BYTES:
            raise AuthoringError(
                f"{where}: {len(data)} bytes is too large for the starter (limit {MAX_PROVIDED_FILE_BYTES}); "
                "remove it or give it a skipped suffix"
            )
        if rel.suffix in STRIPPED_SUFFIXES:
            text, _ = strip_regions(_decode(data, where), where)
            files[rel] = text.encode("utf-8")
        else:
            files[rel] = data
    if checks is not None:
        files.update(checks.files)
    return files


def _check_locations(src: Path, dest: Path) -> None:
    s, d = src.resolve(), dest.resolve()
    if s == d or s.is_relative_to(d) or d.is_relative_to(s):
        raise AuthoringError(f"refusing to generate {dest} from {src}: one contains the other")


def _existing_files(root: Path) -> list[PurePosixPath]:
    """Every non-directory under ``root`` (symlinks included, not followed) that is not skipped."""
    found: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root)
        dirnames[:] = [d for d in dirnames if not is_skipped(PurePosixPath(base.as_posix()) / d / "x")]
        entries = filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        for name in entries:
            rel = PurePosixPath((base / name).as_posix())
            if not is_skipped(rel):
                found.append(rel)
    return sorted(found)


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0644) unless it already holds exactly these bytes."""
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    elif path.is_file() and path.read_bytes() == data:
        if (path.stat().st_mode & 0o777) != 0o644:
            path.chmod(0o644)
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def _make_dirs(root: Path, rel_dir: PurePosixPath) -> None:
    path = root
    for part in rel_dir.parts:
        path = path / part
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
        if not path.is_dir():
            path.mkdir()
            path.chmod(0o755)


def make_starter(src: Path, dest: Path, package: str = "cs231n", checks=None) -> list[Path]:
    """Generate the student starter ``dest`` from the solutions tree ``src``; return the generated files.

    ``dest`` is created if needed; files it holds that the generation does not produce are removed
    (skipped names such as ``__pycache__`` excepted). Raises ``AuthoringError`` before touching ``dest``
    if a solution file is malformed.
    """
    src, dest = Path(src), Path(dest)
    files = generate_starter(src, package, checks)
    _check_locations(src, dest)
    if not dest.is_dir():
        dest.mkdir(parents=True)
        dest.chmod(0o755)
    for rel, data in files.items():
        _make_dirs(dest, rel.parent)
        _write_file(dest / rel, data)
    for rel in _existing_files(dest):
        if rel not in files:
            path = dest / rel
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        rel_dir = PurePosixPath(Path(dirpath).relative_to(dest).as_posix())
        if Path(dirpath) != dest and not is_skipped(rel_dir / "x") and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return sorted(dest / rel for rel in files)


def starter_diff(src: Path, dest: Path, package: str = "cs231n", checks=None) -> list[str]:
    """Relative posix paths where ``dest`` differs from a fresh generation of ``src`` (missing, extra or
    different files; skipped names ignored). An empty list means the committed starter is in sync."""
    src, dest = Path(src), Path(dest)
    with tempfile.TemporaryDirectory(prefix="starter-diff-") as tmp:
        fresh = Path(tmp) / "starter"
        make_starter(src, fresh, package, checks)
        expected = set(_existing_files(fresh))
        actual = set(_existing_files(dest)) if dest.is_dir() else set()
        differ = expected ^ actual
        for rel in expected & actual:
            path = dest / rel
            if path.is_symlink() or not path.is_file() or path.read_bytes() != (fresh / rel).read_bytes():
                differ.add(rel)
    return sorted(rel.as_posix() for rel in differ)


def graded_files(pkg_dir: Path) -> list[str]:
    """Relative posix paths of the files of the package ``pkg_dir`` that hold solution code: every ``.py``
    file with at least one START marker. Sorted. (An assignment's manifest may grade more files.)"""
    pkg_dir = Path(pkg_dir)
    graded = set()
    for rel in _tree_files(pkg_dir):
        if rel.suffix in STRIPPED_SUFFIXES:
            text = (pkg_dir / rel).read_text(encoding="utf-8", errors="replace")
            if has_region(text):
                graded.add(rel.as_posix())
    return sorted(graded)
