"""One source of truth: the student starter (and the sample submissions) are generated from ``solutions/``.

Solution regions
----------------
Every piece of solution code sits between two marker lines, indented like the code::

    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    ...solution...
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

``make_starter`` keeps both marker lines and replaces what is between them by one ``pass`` line at the
START marker's indentation (an empty region also gets its ``pass``, so the generation is idempotent:
generating from the starter gives the starter). Markers must be well formed, else ``AuthoringError``
names the file (and notebook cell) and line: a START without END, a START inside an open region (no
nesting), an END without START, an END indented differently from its START, and a comment that looks
like a marker but is not its exact text (``# ***START OF YOUR CODE***``) are all errors. A marker line is
recognised by its stripped text, so any indentation and ``\\n`` or ``\\r\\n`` line ends work; everything
outside the regions is kept byte for byte, so the starter's Python files stay importable exactly like the
classic starter (no header comment is added).

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

Python files (``.py``, ``.pyx``) are stripped. Notebooks (``.ipynb``) are rewritten:

- code cells: the same stripping in the cell source, outputs cleared, ``execution_count`` null;
- cells tagged ``solution`` (code or markdown) are dropped entirely - use it for instructor-only cells;
  markdown and raw cells are otherwise kept verbatim (markers in markdown are not interpreted);
- cell metadata keeps only ``tags``, ``editable`` and ``deletable``; notebook metadata keeps only
  ``kernelspec`` (``display_name``, ``language``, ``name``) and ``language_info.name``;
- the notebook is written as nbformat 4.5: each cell keeps its ``id`` when it is valid and unique, else
  gets ``cell-<index>``; JSON is nbformat's writer (sorted keys, indent 1) plus a final newline.

Every other kept file (README, shell scripts, small images) is copied byte for byte. The result depends
on the bytes of ``src`` only: generating twice gives identical bytes. Nothing is written to ``dest`` unless
the whole generation succeeded.

The CLI (``python -m grader make-starter`` / ``make-zips``) lives in ``grader/__main__.py`` and calls
``make_starter``, ``starter_diff`` and ``build_zips`` here.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
STARTER = ROOT / "starter"
PACKAGE = "cs231n"

START_MARKER = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END_MARKER = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"

STRIPPED_SUFFIXES = (".py", ".pyx")
NOTEBOOK_SUFFIX = ".ipynb"
SOLUTION_TAG = "solution"
ALWAYS_GRADED = ("layer_utils.py",)
MAX_PROVIDED_FILE_BYTES = 2 * 1024 * 1024

SKIPPED_NAMES = frozenset({"__pycache__", "__MACOSX", "Thumbs.db"})
ARTEFACT_SUFFIXES = (
    ".pyc", ".pyo", ".so", ".npz", ".npy", ".pkl", ".pickle", ".pt", ".pth", ".h5",
    ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz",
)
KEPT_CELL_METADATA = ("tags", "editable", "deletable")
KEPT_KERNELSPEC = ("display_name", "language", "name")
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_LOOKS_LIKE_MARKER = ("START OF YOUR CODE", "END OF YOUR CODE")

# Fixed metadata of every zip entry written by build_zips (deterministic archives).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class AuthoringError(Exception):
    """A solution file cannot be turned into a starter file (malformed markers, bad notebook, ...)."""


# --------------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """One solution region: 1-based line numbers of its START and END marker lines, and their indent."""

    start: int
    end: int
    indent: str


def _split_lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their line end (``\\n`` or ``\\r\\n``); ``''.join`` restores it."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _looks_like_marker(stripped: str) -> bool:
    """A comment that was probably meant as a marker (``# ***START OF YOUR CODE***``, a missing space...).

    The classic banner ``#      END OF YOUR CODE      #`` (no asterisks) is an ordinary comment.
    """
    return (stripped.startswith("#") and any(s in stripped for s in _LOOKS_LIKE_MARKER)
            and ("*" in stripped or "DO NOT DELETE" in stripped))


def find_regions(text: str, where: str = "<text>") -> list[Region]:
    """Parse and validate the solution regions of ``text``; ``where`` names it in error messages.

    Raises ``AuthoringError`` with ``"<where>, line <n>: <problem>"`` for malformed markers.
    """
    regions: list[Region] = []
    open_line, open_indent = 0, ""
    for number, line in enumerate(_split_lines(text), start=1):
        stripped = line.strip()
        indent = _indent_of(line)
        if stripped == START_MARKER:
            if open_line:
                raise AuthoringError(
                    f"{where}, line {number}: START marker inside the region opened at line {open_line} "
                    "(regions cannot nest; close the first region with an END marker)"
                )
            open_line, open_indent = number, indent
        elif stripped == END_MARKER:
            if not open_line:
                raise AuthoringError(f"{where}, line {number}: END marker without a START marker before it")
            if indent != open_indent:
                raise AuthoringError(
                    f"{where}, line {number}: END marker indented {indent!r} but its START marker "
                    f"(line {open_line}) is indented {open_indent!r}"
                )
            regions.append(Region(open_line, number, open_indent))
            open_line = 0
        elif _looks_like_marker(stripped):
            raise AuthoringError(
                f"{where}, line {number}: this comment looks like a region marker but is not its exact "
                f"text; use {START_MARKER!r} or {END_MARKER!r}"
            )
    if open_line:
        raise AuthoringError(f"{where}, line {open_line}: START marker has no END marker")
    return regions


def strip_regions(text: str, where: str = "<text>") -> tuple[str, int]:
    """Replace the inside of every region of ``text`` by one ``pass`` line at the START marker's indent.

    Returns ``(stripped_text, number_of_regions)``; the marker lines and everything outside the regions
    are kept unchanged.
    """
    regions = find_regions(text, where)
    if not regions:
        return text, 0
    lines = _split_lines(text)
    out: list[str] = []
    position = 0  # 0-based index of the next line to copy
    for region in regions:
        start_line = lines[region.start - 1]
        out.extend(lines[position: region.start])  # up to and including the START marker
        eol = "\r\n" if start_line.endswith("\r\n") else "\n"
        out.append(f"{region.indent}pass{eol}")
        position = region.end - 1  # the END marker line is copied next
    out.extend(lines[position:])
    return "".join(out), len(regions)


def has_region(text: str) -> bool:
    """True when some line of ``text`` is a START marker (no validation)."""
    return any(line.strip() == START_MARKER for line in _split_lines(text))


# --------------------------------------------------------------------------------------------------
# What belongs to the starter
# --------------------------------------------------------------------------------------------------
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


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuthoringError(f"{where}: not valid UTF-8 ({exc})") from None


# --------------------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------------------
def _clean_cell_metadata(metadata: dict) -> dict:
    return {k: metadata[k] for k in KEPT_CELL_METADATA if k in metadata}


def _clean_notebook_metadata(metadata: dict) -> dict:
    clean: dict = {}
    kernelspec = metadata.get("kernelspec")
    if isinstance(kernelspec, dict):
        clean["kernelspec"] = {k: kernelspec[k] for k in KEPT_KERNELSPEC if k in kernelspec}
    language_info = metadata.get("language_info")
    if isinstance(language_info, dict) and "name" in language_info:
        clean["language_info"] = {"name": language_info["name"]}
    return clean


def strip_notebook(data: bytes, where: str = "<notebook>") -> bytes:
    """The starter version of a notebook (see the module doc); deterministic bytes."""
    text = _decode(data, where)
    try:
        raw = json.loads(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about (and silently adds random) missing ids
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable JSON / unknown versions
        raise AuthoringError(f"{where}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    # Cell ids as written in the file (nbformat may invent random ones while reading; never use those).
    raw_cells = raw.get("cells") if isinstance(raw, dict) and raw.get("nbformat") == 4 else None
    raw_ids = [c.get("id") if isinstance(c, dict) else None for c in raw_cells] if raw_cells else []
    if len(raw_ids) != len(nb.cells):
        raw_ids = [None] * len(nb.cells)
    cells = []
    used_ids: set[str] = set()
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_TAG in tags:
            continue
        cell_type = cell.get("cell_type")
        source = cell.get("source", "")
        if cell_type == "code":
            source, _ = strip_regions(source, f"{where}, cell {index}")
        new = nbformat.from_dict({
            "cell_type": cell_type,
            "metadata": _clean_cell_metadata(cell.get("metadata", {})),
            "source": source,
        })
        if cell_type == "code":
            new["outputs"] = []
            new["execution_count"] = None
        elif "attachments" in cell and cell_type in ("markdown", "raw"):
            new["attachments"] = cell["attachments"]
        cell_id = raw_ids[index]
        if not (isinstance(cell_id, str) and _CELL_ID.match(cell_id) and cell_id not in used_ids):
            cell_id = f"cell-{index}"
            while cell_id in used_ids:
                cell_id += "x"
        used_ids.add(cell_id)
        new["id"] = cell_id
        cells.append(new)
    out = nbformat.from_dict({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": _clean_notebook_metadata(nb.get("metadata", {})),
        "cells": cells,
    })
    try:
        nbformat.validate(out)
    except nbformat.ValidationError as exc:
        raise AuthoringError(f"{where}: the generated notebook is not valid: {exc.message}") from None
    written = nbformat.writes(out, version=4)
    if not written.endswith("\n"):
        written += "\n"
    return written.encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------
def generate_starter(src: Path = SOLUTIONS) -> dict[PurePosixPath, bytes]:
    """The starter as ``{relative path: bytes}``, computed in memory from the tree ``src``."""
    src = Path(src)
    if not (src / PACKAGE).is_dir():
        raise AuthoringError(f"{src}: no {PACKAGE}/ package folder to generate a starter from")
    files: dict[PurePosixPath, bytes] = {}
    for rel in _tree_files(src):
        data = (src / rel).read_bytes()
        where = rel.as_posix()
        if rel.suffix == NOTEBOOK_SUFFIX:
            files[rel] = strip_notebook(data, where)
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


def make_starter(src: Path = SOLUTIONS, dest: Path = STARTER) -> list[Path]:
    """Generate the student starter ``dest`` from the solutions tree ``src``; return the generated files.

    ``dest`` is created if needed; files it holds that the generation does not produce are removed
    (skipped names such as ``__pycache__`` excepted). Raises ``AuthoringError`` before touching ``dest``
    if a solution file is malformed.
    """
    src, dest = Path(src), Path(dest)
    files = generate_starter(src)
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


def starter_diff(src: Path = SOLUTIONS, dest: Path = STARTER) -> list[str]:
    """Relative posix paths where ``dest`` differs from a fresh generation of ``src`` (missing, extra or
    different files; skipped names ignored). An empty list means the committed starter is in sync."""
    src, dest = Path(src), Path(dest)
    with tempfile.TemporaryDirectory(prefix="starter-diff-") as tmp:
        fresh = Path(tmp) / "starter"
        make_starter(src, fresh)
        expected = set(_existing_files(fresh))
        actual = set(_existing_files(dest)) if dest.is_dir() else set()
        differ = expected ^ actual
        for rel in expected & actual:
            path = dest / rel
            if path.is_symlink() or not path.is_file() or path.read_bytes() != (fresh / rel).read_bytes():
                differ.add(rel)
    return sorted(rel.as_posix() for rel in differ)


def graded_files(pkg_dir: Path) -> list[str]:
    """Relative posix paths of the graded files of the package ``pkg_dir``: every ``.py`` file with at
    least one START marker, plus ``layer_utils.py`` when present. Sorted."""
    pkg_dir = Path(pkg_dir)
    graded = set()
    for rel in _tree_files(pkg_dir):
        if rel.suffix in STRIPPED_SUFFIXES:
            text = (pkg_dir / rel).read_text(encoding="utf-8", errors="replace")
            if has_region(text):
                graded.add(rel.as_posix())
    for name in ALWAYS_GRADED:
        if (pkg_dir / name).is_file():
            graded.add(name)
    return sorted(graded)


# --------------------------------------------------------------------------------------------------
# Sample submissions
# --------------------------------------------------------------------------------------------------
def submission_entries(tree: Path, include_model: bool) -> list[tuple[str, Path]]:
    """``(name in the zip, file)`` of a submission made from ``tree`` (a folder holding ``cs231n/`` and
    the notebooks): the package (starter rules: no caches or artefacts), the top-level notebooks and,
    with ``include_model``, ``best_model.npz`` when present. Sorted by name."""
    tree = Path(tree)
    pkg = tree / PACKAGE
    if not pkg.is_dir():
        raise AuthoringError(f"{tree}: no {PACKAGE}/ folder to put in a submission")
    entries = [(f"{PACKAGE}/{rel.as_posix()}", pkg / rel) for rel in _tree_files(pkg)]
    entries += [(p.name, p) for p in sorted(tree.glob("*" + NOTEBOOK_SUFFIX)) if p.is_file()]
    model = tree / "best_model.npz"
    if include_model and model.is_file():
        entries.append((model.name, model))
    return sorted(entries)


def write_zip(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """Write a deterministic zip: entries in the given order, fixed timestamps and modes, deflated."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=6)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(buffer.getvalue())
    tmp.chmod(0o644)
    os.replace(tmp, path)
    return path


def build_zips(out_dir: Path, src: Path = SOLUTIONS, starter: Path = STARTER) -> dict[str, Path]:
    """Build ``starter.zip`` (from the committed ``starter`` tree, what students download) and
    ``solutions.zip`` (from ``src``, with ``best_model.npz`` when present) in ``out_dir``, laid out as a
    student uploads them: ``cs231n/...`` and the notebooks at the top. Deterministic bytes.

    Returns ``{'starter': path, 'solutions': path}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    for key, tree, with_model in (("starter", Path(starter), False), ("solutions", Path(src), True)):
        entries = [(name, file.read_bytes()) for name, file in submission_entries(tree, with_model)]
        built[key] = write_zip(out_dir / f"{key}.zip", entries)
    return built
