"""grader.authoring: the starter and the sample submissions are generated from solutions/.

The last tests check the real repository: the committed starter/ must be exactly a fresh generation of
solutions/ (regenerate with ``python -m grader make-starter`` after editing the solutions).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from grader.assemble import locate_package
from grader.assignments import available, load_assignment
from grader.unpack import safe_extract
from grader.authoring import (
    END_MARKER,
    START_MARKER,
    AuthoringError,
    build_zips,
    find_regions,
    graded_files,
    make_starter,
    starter_diff,
    strip_notebook,
    strip_regions,
)

from support.archives import write_tree  # noqa: E402
from support.paths import SOLUTIONS, STARTER  # noqa: E402

S, E = START_MARKER, END_MARKER

LAYERS = f'''import numpy as np


def affine_forward(x, w, b):
    """Affine layer.

    Inputs: x of shape (N, D), w of shape (D, M), b of shape (M,).
    Returns a tuple (out of shape (N, M), cache).
    """
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass.                                #
    ###########################################################################
    {S}

    out = x @ w + b

    {E}
    cache = (x, w, b)
    return out, cache


class Net:
    def loss(self, X):
        loss, grads = 0.0, {{}}
        for i in range(2):
            {S}
            loss += float(i)
            {E}
        return loss, grads
'''

LAYERS_STARTER = f'''import numpy as np


def affine_forward(x, w, b):
    """Affine layer.

    Inputs: x of shape (N, D), w of shape (D, M), b of shape (M,).
    Returns a tuple (out of shape (N, M), cache).
    """
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass.                                #
    ###########################################################################
    {S}
    pass
    {E}
    cache = (x, w, b)
    return out, cache


class Net:
    def loss(self, X):
        loss, grads = 0.0, {{}}
        for i in range(2):
            {S}
            pass
            {E}
        return loss, grads
'''


# ------------------------------------------------------------------------------------------------
# markers
# ------------------------------------------------------------------------------------------------
def test_regions_are_found_with_their_indentation():
    regions = find_regions(LAYERS, "layers.py")
    assert [(r.start, r.end, r.indent) for r in regions] == [(14, 18, "    "), (27, 29, "            ")]


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"x = 1\n{S}\ny = 2\n", "layers.py, line 2: START marker has no END marker"),
        (f"{S}\n{S}\n{E}\n", "layers.py, line 2: START marker inside the region opened at line 1"),
        (f"x = 1\n{E}\n", "layers.py, line 2: END marker without a START marker"),
        (f"{S}\n{E}\n{E}\n", "layers.py, line 3: END marker without a START marker"),
        (f"    {S}\n    y = 1\n  {E}\n", "layers.py, line 3: END marker indented '  ' but its START marker "
                                          "(line 1) is indented '    '"),
        (f"\t{S}\n\ty = 1\n    {E}\n", "layers.py, line 3: END marker indented '    '"),
        ("# *****START OF YOUR CODE*****\nx = 1\n", "layers.py, line 1: this comment looks like a region marker"),
        (f"{S}\nx = 1\n#  *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****\n",
         "layers.py, line 3: this comment looks like a region marker"),
    ],
)
def test_malformed_markers_name_file_and_line(text, expected):
    with pytest.raises(AuthoringError) as info:
        strip_regions(text, "layers.py")
    assert expected in str(info.value)


def test_classic_banners_are_not_mistaken_for_markers():
    text = f"{S}\nx = 1\n{E}\n####\n#          END OF YOUR CODE          #\n####\n"
    assert strip_regions(text, "a.py") == (f"{S}\npass\n{E}\n####\n#          END OF YOUR CODE          #\n####\n", 1)


def test_stripping_keeps_everything_outside_the_regions():
    stripped, count = strip_regions(LAYERS, "layers.py")
    assert count == 2
    assert stripped == LAYERS_STARTER
    assert strip_regions(stripped, "layers.py") == (stripped, 2)  # idempotent
    assert strip_regions("x = 1\n", "a.py") == ("x = 1\n", 0)


def test_stripped_code_runs_and_returns_the_placeholders():
    namespace: dict = {}
    exec(compile(LAYERS_STARTER, "layers.py", "exec"), namespace)
    out, cache = namespace["affine_forward"](1, 2, 3)
    assert out is None and cache == (1, 2, 3)
    assert namespace["Net"]().loss(None) == (0.0, {})


def test_crlf_and_empty_regions():
    text = f"x = 1\r\n  {S}\r\n  {E}\r\ny = 2"
    assert strip_regions(text)[0] == f"x = 1\r\n  {S}\r\n  pass\r\n  {E}\r\ny = 2"


# ------------------------------------------------------------------------------------------------
# notebooks
# ------------------------------------------------------------------------------------------------
def solution_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3", "env": {"X": "1"}},
        "language_info": {"name": "python", "version": "3.11.4", "codemirror_mode": {"name": "ipython"}},
        "widgets": {"state": {}},
    }
    intro = new_markdown_cell("# Fully connected nets\n\nYour answer: *fill this in*")
    code = new_code_cell(f"lr = None\n{S}\nlr = 1e-3\n{E}\nprint(lr)", execution_count=7,
                         outputs=[new_output("stream", name="stdout", text="0.001\n")])
    code.metadata = {"scrolled": True, "tags": ["tune"], "execution": {"iopub.execute_input": "2025-01-01"}}
    secret = new_code_cell("check_against_reference()")
    secret.metadata = {"tags": ["solution"]}
    answer = new_markdown_cell("Answer: because of the ReLU.")
    answer.metadata = {"tags": ["solution"]}
    nb.cells = [intro, code, secret, answer]
    return nb


def test_notebook_is_stripped_cleared_and_normalised():
    data = nbformat.writes(solution_notebook()).encode()
    starter = json.loads(strip_notebook(data, "FullyConnectedNets.ipynb"))
    assert starter["metadata"] == {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    assert (starter["nbformat"], starter["nbformat_minor"]) == (4, 5)
    intro, code = starter["cells"]  # the two cells tagged 'solution' are dropped
    assert "".join(intro["source"]) == "# Fully connected nets\n\nYour answer: *fill this in*"
    assert "".join(code["source"]) == f"lr = None\n{S}\npass\n{E}\nprint(lr)"
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["tune"]}
    nbformat.validate(nbformat.reads(json.dumps(starter), as_version=4))


def test_notebook_generation_is_deterministic_even_without_cell_ids():
    raw = json.loads(nbformat.writes(solution_notebook()))
    for cell in raw["cells"]:
        del cell["id"]
    raw["nbformat_minor"] = 4
    data = json.dumps(raw).encode()
    first = strip_notebook(data, "nb.ipynb")
    assert first == strip_notebook(data, "nb.ipynb")
    assert [c["id"] for c in json.loads(first)["cells"]] == ["cell-0", "cell-1"]
    assert strip_notebook(first, "nb.ipynb") == first  # idempotent
    assert first.endswith(b"}\n")


def test_notebook_marker_errors_name_the_cell():
    nb = new_notebook(cells=[new_markdown_cell("intro"), new_code_cell(f"x = 1\n{S}\nx = 2")])
    with pytest.raises(AuthoringError, match=r"Dropout.ipynb, cell 1, line 2: START marker has no END"):
        strip_notebook(nbformat.writes(nb).encode(), "Dropout.ipynb")
    with pytest.raises(AuthoringError, match="Dropout.ipynb: not a readable notebook"):
        strip_notebook(b"{not json", "Dropout.ipynb")


# ------------------------------------------------------------------------------------------------
# whole trees
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def solutions_tree(tmp_path) -> Path:
    return write_tree(tmp_path / "solutions", {
        "cs231n/__init__.py": "",
        "cs231n/layers.py": LAYERS,
        "cs231n/layer_utils.py": "from .layers import *\n",
        "cs231n/solver.py": "class Solver:\n    pass\n",
        "cs231n/classifiers/__init__.py": "from .fc_net import *\n",
        "cs231n/classifiers/fc_net.py": f"def f():\n    y = None\n    {S}\n    y = 1\n    {E}\n    return y\n",
        "cs231n/datasets/get_datasets.sh": "#!/bin/bash\necho get\n",
        "cs231n/datasets/cifar-10-batches-py/data_batch_1": b"\x00" * 100,
        "cs231n/__pycache__/layers.cpython-311.pyc": b"\x00",
        "cs231n/.ipynb_checkpoints/x-checkpoint.py": "x",
        "FullyConnectedNets.ipynb": nbformat.writes(solution_notebook()),
        ".ipynb_checkpoints/FullyConnectedNets-checkpoint.ipynb": "{}",
        "best_model.npz": b"PK-not-really",
        "kitten.jpg": b"\xff\xd8\xff\xe0 small image",
        "README.md": "# Assignment 2\n",
    })


EXPECTED_STARTER = [
    "FullyConnectedNets.ipynb", "README.md", "cs231n/__init__.py", "cs231n/classifiers/__init__.py",
    "cs231n/classifiers/fc_net.py", "cs231n/datasets/get_datasets.sh", "cs231n/layer_utils.py",
    "cs231n/layers.py", "cs231n/solver.py", "kitten.jpg",
]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_file_two_assignments_ship_has_one_source(solutions_tree, tmp_path):
    """A second assignment's solutions link to the first's file (one source); its starter gets the
    generated content as a regular file, and its reference package imports the same code."""
    other = tmp_path / "other"
    (other / "cs231n").mkdir(parents=True)
    (other / "cs231n" / "__init__.py").write_text("")
    (other / "cs231n" / "layers.py").symlink_to(Path("..") / ".." / "solutions" / "cs231n" / "layers.py")
    dest = tmp_path / "other_starter"
    make_starter(other, dest)
    shared = dest / "cs231n" / "layers.py"
    assert not shared.is_symlink() and shared.read_text() == LAYERS_STARTER
    assert graded_files(other / "cs231n") == ["layers.py"]
    assert starter_diff(other, dest) == []
    from grader.references.solution import reference_package

    ref = reference_package(other / "cs231n", "other")
    assert ref.layers.affine_forward.__code__.co_filename.endswith("layers.py")


def test_make_starter_generates_the_expected_files(solutions_tree, tmp_path):
    dest = tmp_path / "starter"
    written = make_starter(solutions_tree, dest)
    assert [p.relative_to(dest).as_posix() for p in written] == EXPECTED_STARTER
    files = tree_bytes(dest)
    assert list(files) == EXPECTED_STARTER
    assert files["cs231n/layers.py"].decode() == LAYERS_STARTER
    assert files["cs231n/solver.py"] == b"class Solver:\n    pass\n"
    assert files["kitten.jpg"] == (solutions_tree / "kitten.jpg").read_bytes()
    assert b"0.001" not in files["FullyConnectedNets.ipynb"]
    assert graded_files(dest / "cs231n") == ["classifiers/fc_net.py", "layers.py"]   # the files with regions
    assert graded_files(solutions_tree / "cs231n") == graded_files(dest / "cs231n")


def test_generation_is_byte_for_byte_deterministic(solutions_tree, tmp_path):
    make_starter(solutions_tree, tmp_path / "one")
    make_starter(solutions_tree, tmp_path / "two")
    first = tree_bytes(tmp_path / "one")
    assert first == tree_bytes(tmp_path / "two")
    make_starter(solutions_tree, tmp_path / "one")  # regenerating in place changes nothing
    assert tree_bytes(tmp_path / "one") == first
    make_starter(tmp_path / "one", tmp_path / "three")  # the starter is a fixed point
    assert tree_bytes(tmp_path / "three") == first


def test_make_starter_removes_stale_files_but_keeps_local_caches(solutions_tree, tmp_path):
    dest = tmp_path / "starter"
    write_tree(dest, {
        "cs231n/old_module.py": "stale", "old_dir/x.txt": "stale",
        "cs231n/__pycache__/layers.cpython-311.pyc": b"\x00",
        "cs231n/datasets/cifar-10-batches-py/data_batch_1": b"\x00",
        "best_model.npz": b"student's model",
        "cs231n/layers.py": "edited by hand",
    })
    make_starter(solutions_tree, dest)
    files = tree_bytes(dest)
    assert "cs231n/old_module.py" not in files and not (dest / "old_dir").exists()
    assert files["cs231n/layers.py"].decode() == LAYERS_STARTER
    for kept in ("cs231n/__pycache__/layers.cpython-311.pyc", "cs231n/datasets/cifar-10-batches-py/data_batch_1",
                 "best_model.npz"):
        assert kept in files


def test_malformed_solutions_leave_the_starter_untouched(solutions_tree, tmp_path):
    dest = tmp_path / "starter"
    make_starter(solutions_tree, dest)
    before = tree_bytes(dest)
    (solutions_tree / "cs231n/optim.py").write_text(f"def sgd():\n    {S}\n    pass\n")
    with pytest.raises(AuthoringError, match=r"cs231n/optim.py, line 2: START marker has no END marker"):
        make_starter(solutions_tree, dest)
    assert tree_bytes(dest) == before


def test_make_starter_refuses_overlapping_trees(solutions_tree):
    with pytest.raises(AuthoringError, match="one contains the other"):
        make_starter(solutions_tree, solutions_tree / "starter")
    with pytest.raises(AuthoringError, match="one contains the other"):
        make_starter(solutions_tree, solutions_tree)


def test_starter_diff_reports_missing_extra_and_changed_files(solutions_tree, tmp_path):
    dest = tmp_path / "starter"
    assert starter_diff(solutions_tree, dest) == EXPECTED_STARTER  # nothing generated yet: all missing
    make_starter(solutions_tree, dest)
    assert starter_diff(solutions_tree, dest) == []
    (dest / "cs231n/__pycache__").mkdir()
    (dest / "cs231n/__pycache__/x.pyc").write_bytes(b"\x00")
    assert starter_diff(solutions_tree, dest) == []  # caches are not differences
    (dest / "README.md").unlink()
    (dest / "cs231n/extra.py").write_text("x")
    (dest / "cs231n/layers.py").write_text(LAYERS)  # solution leaked into the starter
    assert starter_diff(solutions_tree, dest) == ["README.md", "cs231n/extra.py", "cs231n/layers.py"]


def test_build_zips_are_deterministic_submissions(solutions_tree, tmp_path):
    starter = tmp_path / "starter"
    make_starter(solutions_tree, starter)
    (solutions_tree / "cs231n/__pycache__/x.pyc").write_bytes(b"\x00")
    zips = build_zips(tmp_path / "zips", solutions_tree, starter, model="best_model.npz")
    first = {k: p.read_bytes() for k, p in zips.items()}
    again = build_zips(tmp_path / "zips2", solutions_tree, starter, model="best_model.npz")
    assert {k: p.read_bytes() for k, p in again.items()} == first
    package = [n for n in EXPECTED_STARTER if n.startswith("cs231n/")]
    with zipfile.ZipFile(zips["solutions"]) as zf:
        assert zf.namelist() == sorted(["FullyConnectedNets.ipynb", "best_model.npz", *package])
        assert zf.read("cs231n/layers.py") == LAYERS.encode()
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with zipfile.ZipFile(zips["starter"]) as zf:
        assert zf.namelist() == sorted(["FullyConnectedNets.ipynb", *package])
        assert zf.read("cs231n/layers.py") == LAYERS_STARTER.encode()
    root = safe_extract(zips["solutions"], tmp_path / "unpacked")  # the grader accepts its own sample
    assert locate_package(root, ["layers.py"]) == root / "cs231n"


# ------------------------------------------------------------------------------------------------
# the real repository
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", available())
def test_committed_starter_is_a_fresh_generation_of_the_solutions(name):
    """Every assignment's committed starter is what make-starter writes (its public checks included)."""
    from grader.authoring import public_checks

    a = load_assignment(name)
    differ = starter_diff(a.solution_tree(), a.starter_dir, a.package, public_checks.load(a))
    assert differ == [], (
        f"starter/ is out of date with solutions/ for {differ}; run `python -m grader make-starter`"
    )


def test_real_starter_python_files_compile_and_graded_files_agree():
    if not (STARTER / "cs231n").is_dir():
        pytest.fail("starter/cs231n does not exist; run `python -m grader make-starter`")
    for path in sorted((STARTER / "cs231n").rglob("*.py")):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    graded = graded_files(STARTER / "cs231n")
    assert "layers.py" in graded
    assert graded == graded_files(SOLUTIONS / "cs231n")
