"""The solution notebooks: committed clean, and running top to bottom within their stated time budgets.

The notebooks are executed once for the whole suite, the way the grader runs them: ``solutions.zip`` graded
by ``python -m grader grade`` with its notebooks, each kernel in the sandbox, on Fashion-MNIST, with
``OPENBLAS_NUM_THREADS=1`` (the session fixture ``graded_notebooks``, tests/notebook_run.py). The tests here
read the executed notebooks the grade kept beside results.json: no cell raised, each run (kernel start
included) fits the budget stated in the notebook's introduction, and the key printed results (the
canonical checks and the training targets) are there; the model the FC notebook saved is checked too.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.pkgload import load_package

from support.paths import ROOT  # noqa: E402
SOLUTIONS = ROOT / "solutions" / "assignment2"
NOTEBOOKS = ["FullyConnectedNets", "BatchNormalization", "Dropout", "ConvolutionalNetworks"]
TOTAL_BUDGET_SECONDS = 360          # all four notebooks, one core

START = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
BUDGET_RE = re.compile(r"\*\*Time budget:\*\*\s*(\d+)\s*seconds")
FLOAT = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------

def read_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(str(SOLUTIONS / f"{name}.ipynb"), as_version=4)


def stated_budget(nb: nbformat.NotebookNode) -> int:
    """The time budget (seconds) stated in the notebook's first markdown cell."""
    intro = next(c for c in nb.cells if c.cell_type == "markdown")
    match = BUDGET_RE.search(intro.source)
    assert match, "the introduction must state '**Time budget:** N seconds'"
    return int(match.group(1))


def stdout_of(nb: nbformat.NotebookNode) -> str:
    """Everything the executed notebook printed to stdout, in order."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout":
                parts.append(out.text)
    return "".join(parts)


def count_images(nb: nbformat.NotebookNode) -> int:
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if "data" in out and "image/png" in out["data"])


def printed(text: str, label: str) -> list[float]:
    """All numbers printed right after ``label`` (a literal string), e.g. printed(out, 'dx error:')."""
    return [float(v) for v in re.findall(re.escape(label) + r"\s*" + FLOAT, text)]


def printed_array(text: str, label: str) -> np.ndarray:
    """The first bracketed array printed after ``label``, e.g. '  means:  [ 0.1 -0.2 ]'."""
    match = re.search(re.escape(label) + r"\s*\[([^\]]*)\]", text)
    assert match, "nothing printed after %r" % label
    return np.array([float(v) for v in match.group(1).split()])


def executed(graded_notebooks, name: str) -> nbformat.NotebookNode:
    """The solutions' notebook ``name`` as the grade executed it, after the checks every notebook shares:
    every code cell ran and none raised, the run fit the stated budget, the data set was Fashion-MNIST."""
    run = graded_notebooks["solutions"]
    entry = run.notebook(f"{name}.ipynb")
    assert entry["status"] == "ok" and entry["cells_run"] == entry["cells_total"], entry
    nb = run.executed(f"{name}.ipynb")
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors, errors
    assert "Dataset: fashion_mnist" in stdout_of(nb)
    budget = stated_budget(read_notebook(name))
    assert entry["duration"] <= budget, "%s took %.1f s, its stated budget is %d s" % (name, entry["duration"], budget)
    print("%s ran in %.1f s (budget %d s)" % (name, entry["duration"], budget))
    return nb


def model_accuracy(package_dir: Path, alias: str, model_path: Path) -> tuple[float, dict]:
    """Test accuracy on Fashion-MNIST of a model saved with cs231n.model_io, and its meta data.

    The package in ``package_dir`` is imported (fresh) under ``alias``; its data_utils loads the test split.
    """
    load_package(package_dir, alias)
    model_io = importlib.import_module(alias + ".model_io")
    data_utils = importlib.import_module(alias + ".data_utils")
    model = model_io.load_model(str(model_path))
    data = data_utils.get_assignment_data(dataset="fashion_mnist")
    X_test, y_test = data["X_test"], data["y_test"]
    y_pred = np.argmax(model.loss(X_test), axis=1)
    return float((y_pred == y_test).mean()), model_io.read_meta(str(model_path))


# --------------------------------------------------------------------------------------------------------
# the committed files
# --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_clean_and_valid(name):
    nb = read_notebook(name)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == [], "committed notebooks must have their outputs cleared"
        assert cell.execution_count is None
    assert stated_budget(nb) > 0

    # Solution regions: START and END alternate inside each code cell (the starter generator needs that).
    for cell in code_cells:
        markers = [line.strip() for line in cell.source.splitlines() if line.strip() in (START, END)]
        assert markers == [START, END] * (len(markers) // 2), cell.source[:200]

    # Inline questions: '## Inline Question N' followed by a non-empty '**Your Answer:**' cell.
    numbers = []
    for i, cell in enumerate(nb.cells):
        match = re.match(r"## Inline Question (\d+)\s*$", cell.source.splitlines()[0]) \
            if cell.cell_type == "markdown" and cell.source else None
        if match:
            numbers.append(int(match.group(1)))
            answer = nb.cells[i + 1]
            assert answer.cell_type == "markdown" and answer.source.startswith("**Your Answer:**")
            assert len(answer.source) > len("**Your Answer:**") + 20, "write a real answer"
    assert numbers == list(range(1, len(numbers) + 1)) and numbers, "inline questions numbered 1, 2, ..."


def test_budgets_add_up():
    total = sum(stated_budget(read_notebook(name)) for name in NOTEBOOKS)
    assert total <= TOTAL_BUDGET_SECONDS


def test_committed_best_model():
    """solutions/best_model.npz (written by the FC notebook) loads and is good on Fashion-MNIST test data."""
    path = SOLUTIONS / "best_model.npz"
    assert path.exists(), "run FullyConnectedNets.ipynb and copy its best_model.npz into solutions/"
    with np.load(path, allow_pickle=False) as npz:      # plain arrays only, no pickle
        assert "meta_class" in npz.files
    acc, meta = model_accuracy(SOLUTIONS / "cs231n", "_nbtest_committed_cs231n", path)
    assert meta["dataset"] == "fashion_mnist"
    assert acc >= 0.85, acc


# --------------------------------------------------------------------------------------------------------
# running the notebooks
# --------------------------------------------------------------------------------------------------------

def test_fully_connected_nets(graded_notebooks):
    nb = executed(graded_notebooks, "FullyConnectedNets")
    out = stdout_of(nb)

    assert printed(out, "difference:")[0] < 1e-8                                   # affine_forward
    assert max(printed(out, "dx error:")[:2]) < 1e-9                               # affine / relu backward
    assert printed(out, "\nloss:")[0] == pytest.approx(2.302545844500738, abs=1e-12)  # softmax
    assert printed(out, "Loss without regularization:") == [3.4702243556]
    assert printed(out, "Loss with reg = 1.0:") == [26.5948426952]
    assert printed(out, "Initial loss:")[0] == pytest.approx(2.3004790897684924, abs=1e-12)
    assert printed(out, "Three-layer net, final training accuracy:") == [1.0]
    assert printed(out, "Five-layer net, final training accuracy:") == [1.0]
    next_w_errors = printed(out, "next_w error:")                                  # momentum, rmsprop, adam
    assert len(next_w_errors) == 3 and next_w_errors[0] < 1e-7 and next_w_errors[1] < 1e-7
    assert next_w_errors[2] < 1e-6
    assert printed(out, "Best validation accuracy:")[0] >= 0.80                    # TwoLayerNet + Solver
    assert printed(out, "Validation set accuracy:")[0] >= 0.85
    assert count_images(nb) >= 4

    # The saved model (kept by the grade): plain npz, loads with the package's model_io, good on the test split.
    saved = graded_notebooks["solutions"].saved_file("best_model.npz")
    acc, meta = model_accuracy(SOLUTIONS / "cs231n", "_nbtest_fc_cs231n", saved)
    assert acc >= 0.85, acc
    assert acc == pytest.approx(printed(out, "Test set accuracy:")[0], abs=1e-9)
    assert meta["val_acc"] >= 0.85


def test_batch_normalization(graded_notebooks):
    nb = executed(graded_notebooks, "BatchNormalization")
    out = stdout_of(nb)

    assert np.allclose(printed_array(out, "After batch normalization (test-time):\n  means:"),
                       [-0.03927354, -0.04349152, -0.10452688], atol=1e-7)
    bn_dx, ln_dx = printed(out, "dx error:")
    assert 1e-13 < bn_dx < 1e-8 and 1e-13 < ln_dx < 1e-8
    assert printed(out, "dx difference:")[0] < 1e-10                               # backward_alt
    losses = printed(out, "Initial loss:")
    assert losses[0] == pytest.approx(2.2611955101340957, abs=1e-12)
    assert losses[1] == pytest.approx(6.996533220108303, abs=1e-12)
    assert len(re.findall(r"normalization=\S+\s+final train acc", out)) == 2       # BN vs no BN ran
    assert len(re.findall(r"weight scale .*with batchnorm", out)) == 10
    assert len(printed(out, "layernorm, batch size")) == 3
    assert count_images(nb) >= 4


def test_dropout(graded_notebooks):
    nb = executed(graded_notebooks, "Dropout")
    out = stdout_of(nb)

    fractions = printed(out, "Fraction of train-time output set to zero:")
    assert np.allclose(fractions, [0.75, 0.6, 0.3], atol=0.01)
    assert printed(out, "Fraction of test-time output set to zero:") == [0.0, 0.0, 0.0]
    assert printed(out, "dx relative error:")[0] < 1e-9
    assert printed(out, "Initial loss:")[0] == pytest.approx(2.3004790897684924, abs=1e-12)
    assert max(printed(out, "relative error:")) < 1e-4
    assert len(printed(out, "final val acc")) == 2
    assert count_images(nb) >= 1


def test_convolutional_networks(graded_notebooks):
    nb = executed(graded_notebooks, "ConvolutionalNetworks")
    out = stdout_of(nb)

    assert printed(out, "difference:")[0] < 1e-7                                   # conv_forward_naive
    assert printed(out, "difference:")[1] < 1e-7                                   # max_pool_forward_naive
    assert max(printed(out, "max relative error:")) < 5e-2                         # ThreeLayerConvNet
    assert printed(out, "Initial loss (no regularization):")[0] == pytest.approx(np.log(10), abs=1e-3)
    assert printed(out, "Initial loss (with regularization):")[0] > np.log(10) + 0.1
    assert printed(out, "Overfit run: final training accuracy")[0] >= 0.9
    assert printed(out, "One epoch: training accuracy")[0] >= 0.75
    assert np.allclose(printed_array(out, "After spatial batch normalization (test-time):\n  means:"),
                       [-0.08034406, 0.07562881, 0.05716371, 0.04378383], atol=1e-7)
    assert count_images(nb) >= 3
