"""``python -m grader export-gradescope --assignment A --out autograder.zip``: the Gradescope autograder zip.

Layout of the zip (Gradescope unpacks it into ``/autograder/source`` and runs ``setup.sh`` there)::

    setup.sh, run_autograder        the two files Gradescope needs at the root
    requirements.txt                the grader's dependencies (pinned by constraints.txt)
    constraints.txt, pyproject.toml
    grader/                         the grader, with ``grader/assignments/`` holding A (and the assignments
                                    it shares files with) only
    solutions/<A>/, starter/<A>/, reference_outputs/<A>/
    grader-secret/secret            a fresh random secret: the hidden inputs' salt (every submission of
                                    this autograder shares it)

Symlinks are written as the files they point to; caches are left out. The bytes depend on the tree and the
secret only (fixed timestamps and modes).
"""
from __future__ import annotations

import re
import secrets
import tomllib
from pathlib import Path, PurePosixPath

from grader.assignments import REPO_ROOT, load_assignment
from grader.authoring.zips import write_zip

FILES = Path(__file__).resolve().parent / "files"
VENV = "/opt/cs231n-grader/venv"        # where setup.sh builds the venv (outside the root-only source)
SECRET_DIR = "grader-secret"
# The distributions the grader imports (pyproject.toml lists the service's too): numpy, matplotlib and
# scikit-learn for the assignments, pytest, pydantic, tqdm, and the notebook runner.
GRADER_DISTRIBUTIONS = ("numpy", "matplotlib", "scikit-learn", "pytest", "tqdm", "pydantic", "nbformat",
                        "nbclient", "ipykernel", "jupyter_client", "pyzmq")
SKIP_PARTS = {"__pycache__", ".pytest_cache"}


def _files(folder: Path) -> list[Path]:
    """Regular files (symlinks followed) under ``folder``, without caches, sorted."""
    out = []
    for path in sorted(folder.rglob("*")):
        if SKIP_PARTS & set(path.relative_to(folder).parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_file():
            out.append(path)
    return out


def requirements() -> str:
    """requirements.txt: the grader's distributions as pyproject.toml declares them."""
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    by_name = {re.split(r"[<>=\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-"): d for d in declared}
    missing = [d for d in GRADER_DISTRIBUTIONS if d.lower().replace("_", "-") not in by_name]
    if missing:
        raise ValueError(f"pyproject.toml does not declare {missing}")
    return "".join(by_name[d.lower().replace("_", "-")] + "\n" for d in GRADER_DISTRIBUTIONS)


def _template(name: str, assignment: str) -> bytes:
    text = (FILES / name).read_text(encoding="utf-8")
    return text.replace("__VENV__", VENV).replace("__ASSIGNMENT__", assignment).encode("utf-8")


def entries(name: str, secret: bytes | None = None) -> list[tuple[str, bytes]]:
    """``(name in the zip, bytes)`` of the autograder of assignment ``name``."""
    a = load_assignment(name)
    if a.root != REPO_ROOT:
        raise ValueError(f"{name} belongs to the course root {a.root}; export it from there")
    needed = [name] + sorted({s.source for s in a.shared} - {name})
    out: dict[str, bytes] = {
        "setup.sh": _template("setup.sh", name),
        "run_autograder": _template("run_autograder", name),
        "requirements.txt": requirements().encode("utf-8"),
        "constraints.txt": (REPO_ROOT / "constraints.txt").read_bytes(),
        "pyproject.toml": (REPO_ROOT / "pyproject.toml").read_bytes(),
        f"{SECRET_DIR}/secret": secret if secret is not None else secrets.token_bytes(32),
    }
    grader_dir = REPO_ROOT / "grader"
    assignments_dir = grader_dir / "assignments"
    for path in _files(grader_dir):
        rel = path.relative_to(grader_dir)
        if rel.parts[0] == "assignments" and len(rel.parts) > 2 and rel.parts[1] not in needed:
            continue
        out[str(PurePosixPath("grader") / rel.as_posix())] = path.read_bytes()
    for top in ("solutions", "starter", "reference_outputs"):
        for each in (needed if top == "solutions" else [name]):
            folder = REPO_ROOT / top / each
            if not folder.is_dir():
                raise FileNotFoundError(f"{top}/{each} is missing: generate it first (make-starter, "
                                        "refresh-references)")
            for path in _files(folder):
                out[f"{top}/{each}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    assert (assignments_dir / name / "manifest.toml").is_file()
    return sorted(out.items())


def export(name: str, out: Path, secret: bytes | None = None) -> Path:
    """Write the autograder zip of assignment ``name`` to ``out`` (``run_autograder`` and ``setup.sh``
    executable)."""
    return write_zip(Path(out), entries(name, secret), executable=frozenset({"setup.sh", "run_autograder"}))
