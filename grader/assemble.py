"""Finding the student's package in whatever layout the submission has, and assembling the package the
sandbox imports.

Trusted side only. Nothing here imports or runs the student's code.

``locate_package`` finds the package (a folder named after it holding its graded files), ``locate_file`` /
``locate_notebooks`` the files near it, and ``assemble_package`` builds the package the sandbox imports:
the graded files from the submission, every other file from the grader's trusted copy (the starter's).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from grader.unpack import MiB, ArchiveError, human_size, is_junk, relative, walk_tree
from grader.unpack.budget import make_dir


def locate_package(root: Path, graded: Sequence[str], package: str = "cs231n") -> Path:
    """The package folder inside the extracted tree ``root``.

    Candidates are the folders named ``package`` (any letter case) that hold one of its top-level graded
    files (``layers.py``), or, when there are none, any folder (``root`` included) holding one of them and
    every sub-folder the graded files name (``classifiers/``). The one with the most files of ``graded``
    wins, then the shallowest; a tie is an ``ArchiveError`` listing them, as is finding none.
    """
    root = Path(root)
    graded = list(graded)
    top_level = {g for g in graded if "/" not in g} or {PurePosixPath(g).name for g in graded}
    subfolders = {g.split("/", 1)[0] for g in graded if "/" in g}
    named: list[Path] = []
    generic: list[Path] = []
    for folder, dirnames, filenames in walk_tree(root):
        if not top_level & set(filenames):
            continue
        if folder != root and folder.name.lower() == package.lower():
            named.append(folder)
        if subfolders <= set(dirnames):
            generic.append(folder)
    candidates = named or generic
    if not candidates:
        top = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
        shown = ", ".join(repr(t) for t in top[:20]) + (" ..." if len(top) > 20 else "") or "nothing"
        files = ", ".join(sorted(top_level))
        also = f" and {', '.join(s + '/' for s in sorted(subfolders))}" if subfolders else ""
        raise ArchiveError(f"no {package} package found: looked for a folder named '{package}' containing one of "
                           f"{files} (or any folder with one of them{also}). The top level of the submission "
                           f"holds: {shown}")

    def rank(folder: Path) -> tuple[int, int]:
        present = sum((folder / g).is_file() for g in graded)
        return (-present, len(folder.relative_to(root).parts))

    best = min(rank(c) for c in candidates)
    winners = [c for c in candidates if rank(c) == best]
    if len(winners) > 1:
        listed = ", ".join(repr(relative(w, root)) for w in winners)
        raise ArchiveError(f"the submission holds several {package} packages that look equally complete: {listed}; "
                           "keep only the one to grade")
    return winners[0]


def locate_file(root: Path, name: str, near: Sequence[Path] = ()) -> Path | None:
    """A file called ``name`` under ``root``: first directly inside one of the ``near`` folders (in
    order), then anywhere (shallowest first, then by path); exact name before a letter-case-insensitive
    match. ``None`` when there is none."""
    root = Path(root)
    exact: list[Path] = []
    folded: list[Path] = []
    for folder, _, filenames in walk_tree(root):
        for f in filenames:
            if is_junk((f,)):
                continue
            if f == name:
                exact.append(folder / f)
            elif f.casefold() == name.casefold():
                folded.append(folder / f)
    for found in (exact, folded):
        regular = [p for p in found if p.is_file() and not p.is_symlink()]
        for folder in near:
            for p in regular:
                if p.parent == Path(folder):
                    return p
        if regular:
            return min(regular, key=lambda p: (len(p.relative_to(root).parts), p.as_posix()))
    return None


def locate_notebooks(root: Path, names: Sequence[str], package: Path | None = None) -> dict[str, Path]:
    """``{name: path}`` of the notebooks found under ``root`` (missing names are left out).

    Each is looked for beside the package (in the package's parent folder) first, then anywhere. A name
    without ``.ipynb`` gets it added for the search; the key is the name as given. Without ``package``
    (none was found) they are looked for at the top first.
    """
    root = Path(root)
    near = [package.parent, package] if package is not None else [root]
    found = {}
    for name in names:
        filename = name if name.endswith(".ipynb") else name + ".ipynb"
        path = locate_file(root, filename, near)
        if path is not None:
            found[name] = path
    return found


# --------------------------------------------------------------------------------------------------
# Assembling the package the sandbox imports
# --------------------------------------------------------------------------------------------------
@dataclass
class AssemblyReport:
    """What ``assemble_package`` built, for the grader and the student's feedback.

    - ``package``: the assembled package folder;
    - ``graded``: the graded files (relative posix paths);
    - ``from_submission``: graded files taken from the submission;
    - ``missing``: graded files absent from the submission (the starter's version is in the package so
      imports work; the grader gives zero for the tests of these files);
    - ``rejected``: graded files present but not usable (``{path: reason}``: a link, too large, not a
      file); the starter's version is used, as for ``missing``;
    - ``ignored``: files of the submitted package that were not used (provided files - the grader uses
      its own copy - and extra files), sorted;
    - ``extra``: the subset of ``ignored`` that the grader's package does not have at all;
    - ``provided_changed``: the subset of ``ignored`` that are provided files whose content differs from
      the grader's copy (the student edited a file that is not graded);
    - ``created``: files created because neither side had them (``__init__.py`` files);
    - ``best_model``: the submission's ``best_model.npz`` if found (not copied into the package).
    """

    package: Path
    graded: list[str]
    from_submission: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    provided_changed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    best_model: Path | None = None

    @property
    def substituted(self) -> list[str]:
        """Graded files for which the starter's version is used (missing or rejected): score zero."""
        return sorted(set(self.missing) | set(self.rejected))

    def to_dict(self) -> dict:
        """Plain data (for results.json)."""
        return {
            "package": str(self.package), "graded": self.graded, "from_submission": self.from_submission,
            "missing": self.missing, "rejected": self.rejected, "ignored": self.ignored,
            "extra": self.extra, "provided_changed": self.provided_changed, "created": self.created,
            "best_model": str(self.best_model) if self.best_model else None,
        }


class _TooLarge(Exception):
    pass


def _read_regular(path: Path, cap: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (links refused); ``_TooLarge`` beyond ``cap`` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise IsADirectoryError(str(path))
        data = f.read() if cap is None else f.read(cap + 1)
    if cap is not None and len(data) > cap:
        raise _TooLarge()
    return data


def _through_link(base: Path, rel: str) -> bool:
    """True when ``base/rel`` or one of the folders between ``base`` and it is a symlink."""
    path = base
    for part in PurePosixPath(rel).parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


def _write_readable(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o644)
        f.write(data)


def _package_files(pkg: Path) -> list[str]:
    """Relative posix paths of the files of a package folder (junk, links and artefacts left out)."""
    from grader.authoring import is_skipped

    found = []
    for folder, _, filenames in walk_tree(pkg):
        for f in filenames:
            rel = PurePosixPath((folder / f).relative_to(pkg).as_posix())
            if not is_junk(rel.parts) and not is_skipped(rel) and not (folder / f).is_symlink():
                found.append(rel.as_posix())
    return sorted(found)


def assemble_package(student_pkg: Path | None, provided_pkg: Path, graded: Sequence[str], dest: Path,
                     *, max_file_bytes: int = 2 * MiB, search_root: Path | None = None,
                     best_model: str | None = None) -> AssemblyReport:
    """Build in ``dest`` (which must not exist; name it ``.../cs231n``) the package the sandbox imports.

    The ``graded`` files come from ``student_pkg`` (``None``: no package was found, every graded file is
    missing); every other file comes from ``provided_pkg`` (the grader's trusted ``starter/cs231n``);
    nothing else of the submission is copied. A graded file the submission lacks or that cannot be used
    (a link, larger than ``max_file_bytes``, not a regular file) is replaced by the provided version and
    recorded. ``__init__.py`` files are created where missing. Files are copied (never linked), with
    modes 0644 (files) and 0755 (folders) so the sandbox user can read them. ``best_model`` (a file name such
    as ``best_model.npz``) is looked for beside the package, inside it, then anywhere under ``search_root``;
    it is reported, not copied.
    """
    provided_pkg, dest = Path(provided_pkg), Path(dest)
    student_pkg = Path(student_pkg) if student_pkg is not None else None
    graded = sorted(dict.fromkeys(PurePosixPath(g).as_posix() for g in graded))
    if dest.exists():
        raise ValueError(f"{dest} already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.mkdir(0o755)
    dest.chmod(0o755)
    report = AssemblyReport(package=dest, graded=list(graded))
    provided = _package_files(provided_pkg)
    written: set[str] = set()

    def put(rel: str, data: bytes) -> None:
        parts = PurePosixPath(rel).parts
        parent = make_dir(dest, parts[:-1])
        _write_readable(parent / parts[-1], data)
        written.add(rel)

    for rel in provided:
        if rel not in graded:
            put(rel, _read_regular(provided_pkg / rel))
    for rel in graded:
        source = student_pkg / rel if student_pkg is not None else None
        data = None
        if source is None or not (source.exists() or source.is_symlink()):
            report.missing.append(rel)
        elif _through_link(student_pkg, rel):
            report.rejected[rel] = "it is (or is inside) a link"
        else:
            try:
                data = _read_regular(source, max_file_bytes)
                report.from_submission.append(rel)
            except _TooLarge:
                report.rejected[rel] = f"it is larger than {human_size(max_file_bytes)}"
            except OSError:
                report.rejected[rel] = "it is not a regular file"
        if data is None and (provided_pkg / rel).is_file():
            data = _read_regular(provided_pkg / rel)
        if data is not None:
            put(rel, data)
    # Every folder holding Python files must be a package.
    folders = {PurePosixPath(rel).parent for rel in written if rel.endswith(".py")} | {PurePosixPath(".")}
    for folder in sorted(folders):
        init = (folder / "__init__.py").as_posix()
        if init not in written:
            put(init, b"")
            report.created.append(init)
    if student_pkg is not None and student_pkg.is_dir():
        for rel in _package_files(student_pkg):
            if rel in graded:
                continue
            report.ignored.append(rel)
            if rel not in provided:
                report.extra.append(rel)
            else:
                try:
                    mine = _read_regular(student_pkg / rel, max_file_bytes)
                except (OSError, _TooLarge):
                    mine = None
                if mine != (provided_pkg / rel).read_bytes():
                    report.provided_changed.append(rel)
    near = [student_pkg.parent, student_pkg] if student_pkg is not None else []
    if best_model is not None:
        report.best_model = _find_best_model(best_model, near, search_root)
    return report


def _find_best_model(name: str, near: Sequence[Path], search_root: Path | None) -> Path | None:
    for folder in near:
        candidate = folder / name
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    if search_root is not None:
        return locate_file(search_root, name, near)
    return None
