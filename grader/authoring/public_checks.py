"""The public checks every starter ships: ``python -m <package>.check [Q1 ...]`` and ``--zip``.

An assignment gets them by writing ``grader/assignments/<A>/public_checks.py``: plain NumPy code that the
student may read (it never imports the grader), one function per hidden test, registered with
``@check("Q1", "test_affine_forward", hint="...")`` (the manifest's question and test name, and the hint
printed when it fails; string literals or module-level string constants, so that they can be read without
running the file; a check may replace the hint by a more precise one with ``fail(message, hint)``), on public inputs only (the notebooks' canonical inputs and values; no hidden
value, no salt). Its helpers come from the generated package (``from . import check, close, module, ...``:
``module`` imports the student's module afresh; ``close``, ``close_scalar``, ``array``, ``fail(message, hint)``,
``matches`` (a known mistake's result), ``numeric_gradient``, ``grad_close``, ``model_gradients``, ``init_ok``,
``lin``, ``pair``: see ``student_check/__init__.py``). Values the notebooks do not print are the solutions'
on the same public inputs, written into the file.
An optional ``NOTEBOOK_PARTS = {"Notebook": [("Q1", "# Heading of the next part"), ("Q2", None)]}`` puts
a cell running that question's check before the markdown cell starting with that heading (None: at the
end of the notebook).

The starter generator writes ``<package>/check/`` from three sources: the runner (the files of
``student_check/`` beside this module, generic), ``spec.json`` (from the manifest: questions, titles,
test names, graded files, notebooks, the saved model, the upload limit) and ``tests.py`` (the
assignment's ``public_checks.py``). ``load`` refuses a source whose checks are not exactly the
manifest's tests, or that imports the grader.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .regions import AuthoringError

SOURCE = "public_checks.py"
RUNNER_DIR = Path(__file__).resolve().parent / "student_check"
RUNNER_FILES = ("__init__.py", "__main__.py")
# The service's default upload limit (GRADER_MAX_UPLOAD_BYTES): ``--zip`` refuses to build a bigger archive.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CELL_TAG = "public-check"


@dataclass(frozen=True)
class PublicChecks:
    """What the starter generator adds for one assignment: the files of ``<package>/check/`` and the
    check cells of each notebook (``{notebook: [(question, heading or None), ...]}``)."""

    package: str
    files: dict[PurePosixPath, bytes]
    notebook_parts: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    def cell_source(self, question: str) -> str:
        return f"# Check your {question} before moving on (python -m {self.package}.check {question} in a shell)\n" \
               f"from {self.package}.check import run\nrun({question!r})"


def _literal_str(node: ast.AST, where: str, names: dict[str, str]) -> str:
    """A string literal, a module-level string constant, or a sum of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_str(node.left, where, names) + _literal_str(node.right, where, names)
    raise AuthoringError(f"{where}: the question, name and hint of @check(...) must be string literals "
                         "(or module-level string constants)")


def _string_constants(tree: ast.Module, where: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = _literal_str(node.value, where, names)
            except AuthoringError:
                continue
    return names


def declared(text: str, where: str) -> tuple[list[tuple[str, str, str]], dict]:
    """The ``(question, test, hint)`` of every ``@check`` in ``text``, and its ``NOTEBOOK_PARTS``."""
    try:
        tree = ast.parse(text, where)
    except SyntaxError as exc:
        raise AuthoringError(f"{where}: {exc}") from None
    found, parts = [], {}
    names = _string_constants(tree, where)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "grader" or n.startswith("grader.") for n in modules):
                raise AuthoringError(f"{where}, line {node.lineno}: public checks never import the grader")
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "check":
                    args = list(dec.args) + [k.value for k in dec.keywords]
                    if len(args) != 3:
                        raise AuthoringError(f"{where}, line {dec.lineno}: @check(question, name, hint=...)")
                    found.append(tuple(_literal_str(a, where, names) for a in args))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "NOTEBOOK_PARTS" for t in node.targets):
            try:
                parts = ast.literal_eval(node.value)
            except ValueError:
                raise AuthoringError(f"{where}: NOTEBOOK_PARTS must be a literal") from None
    return found, parts


def spec(assignment) -> dict:
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "questions": [{"id": q.id, "title": q.title, "tests": list(q.tests)} for q in assignment.questions],
        "graded_files": list(assignment.graded_files),
        "notebooks": [n.name.removesuffix(".ipynb") for n in assignment.notebooks],
        "best_model": assignment.best_model.file if assignment.best_model is not None else None,
        "max_upload_bytes": MAX_UPLOAD_BYTES,
    }


def load(assignment) -> PublicChecks | None:
    """The public checks of ``assignment`` (``grader.assignments.Assignment``), or None when it has no
    ``public_checks.py``. Raises ``AuthoringError`` when they disagree with the manifest."""
    source = assignment.grader_dir / SOURCE
    if not source.is_file():
        return None
    where = f"{assignment.name}/{SOURCE}"
    text = source.read_text(encoding="utf-8")
    checks, parts = declared(text, where)
    have = [(q, t) for q, t, _ in checks]
    want = [(q.id, t) for q in assignment.questions for t in q.tests]
    if len(set(have)) != len(have):
        raise AuthoringError(f"{where}: a check is registered twice")
    if set(have) != set(want):
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        raise AuthoringError(f"{where}: the public checks must be the manifest's tests; missing {missing}, "
                             f"not in the manifest {extra}")
    empty = [t for _, t, h in checks if not h.strip()]
    if empty:
        raise AuthoringError(f"{where}: checks without a hint: {empty}")
    notebooks = set(spec(assignment)["notebooks"])
    questions = {q.id for q in assignment.questions}
    for nb, entries in parts.items():
        if nb not in notebooks or any(q not in questions for q, _ in entries):
            raise AuthoringError(f"{where}: NOTEBOOK_PARTS names an unknown notebook or question: {nb} {entries}")
    base = PurePosixPath(assignment.package) / "check"
    files = {base / name: (RUNNER_DIR / name).read_bytes() for name in RUNNER_FILES}
    files[base / "spec.json"] = (json.dumps(spec(assignment), indent=1) + "\n").encode("utf-8")
    files[base / "tests.py"] = text.encode("utf-8")
    return PublicChecks(assignment.package, files, {nb: [tuple(e) for e in v] for nb, v in parts.items()})
