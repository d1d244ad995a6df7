"""CIFAR-era notebooks: with the instructor's datasets folder (a small data set generated in the official
CIFAR-10 batch format) a notebook that loads data the way the official notebooks of 2016-2025 do runs to the
end in the sandbox and its points count; without it, the notebook is "not gradable here: CIFAR-10 not
provided", left out of the maximum and never charged to the student."""
from __future__ import annotations

import shutil

import nbformat
import pytest

from support.cifar import world_readable_dir, write_cifar10
from support.paths import SOLUTIONS

pytestmark = pytest.mark.slow

CELLS = [
    ("markdown", "# Dropout\nA notebook of the CIFAR-10 years."),
    ("code", "# The Colab setup cell of 2020 and later\nfrom google.colab import drive\ndrive.mount('/content/drive')\n"
             "FOLDERNAME = 'cs231n/assignments/assignment2/'\nimport sys\n"
             "sys.path.append('/content/drive/My Drive/{}'.format(FOLDERNAME))\n"
             "%cd /content/drive/My\\ Drive/$FOLDERNAME/cs231n/datasets/\n!bash get_datasets.sh\n"
             "%cd /content/drive/My\\ Drive/$FOLDERNAME"),
    ("code", "import numpy as np\nfrom cs231n.classifiers.fc_net import *\n"
             "from cs231n.data_utils import get_CIFAR10_data\nfrom cs231n.solver import Solver\n"
             "from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array"),
    ("markdown", "## Load the data"),
    ("code", "# Load the (preprocessed) CIFAR10 data.\ndata = get_CIFAR10_data()\n"
             "for k, v in list(data.items()):\n    print(('%s: ' % k, getattr(v, 'shape', v)))"),
    ("code", "from cs231n.data_utils import load_CIFAR10\n"
             "X_train, y_train, X_test, y_test = load_CIFAR10('cs231n/datasets/cifar-10-batches-py')\n"
             "assert X_train.shape[1:] == (32, 32, 3)"),
    ("code", "!bash cs231n/datasets/get_datasets.sh"),
    ("code", "small = {k: data[k] for k in ('X_train', 'y_train', 'X_val', 'y_val')}\n"
             "model = FullyConnectedNet([20], input_dim=3 * 32 * 32, num_classes=10, dropout=0.5, reg=0.1)\n"
             "solver = Solver(model, small, num_epochs=1, batch_size=20, print_every=100, verbose=False)\n"
             "solver.train()\nprint(solver.val_acc_history)"),
]


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    sub = tmp_path_factory.mktemp("cifar") / "submission"
    shutil.copytree(SOLUTIONS / "cs231n", sub / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    nbformat.write(nb, sub / "Dropout.ipynb")
    return sub


def _grade(submission, **options):
    from grader.pipeline import grade

    return grade(submission, "assignment2", **options)


def _nb_test(results, notebook):
    return next((t for t in results.tests if t.extra_data.get("notebook") == notebook), None)


@pytest.fixture
def datasets():
    root = world_readable_dir()
    yield write_cifar10(root / "datasets")
    shutil.rmtree(root, ignore_errors=True)


def test_a_cifar_era_notebook_runs_to_the_end_on_the_instructors_cifar10(submission, datasets, monkeypatch):
    monkeypatch.delenv("GRADER_DATASETS_DIR", raising=False)
    results = _grade(submission, datasets_dir=datasets)
    test = _nb_test(results, "Dropout.ipynb")
    assert test is not None and test.status == "passed", test.output if test else results.output
    assert test.max_score == 2
    missing = _nb_test(results, "FullyConnectedNets.ipynb")
    assert missing.status == "failed"          # not submitted: still counts, as before
    assert "not gradable" not in results.output


def test_without_cifar10_the_notebook_is_left_out_of_the_maximum(submission, monkeypatch):
    monkeypatch.delenv("GRADER_DATASETS_DIR", raising=False)
    results = _grade(submission)
    assert _nb_test(results, "Dropout.ipynb") is None
    assert "Dropout.ipynb: not gradable here: CIFAR-10 not provided" in results.output
    assert results.extra_data.max_score == 100 + 8 - 2
    nb = next(n for n in results.extra_data.notebooks if n["name"] == "Dropout.ipynb")
    assert nb["status"] == "not_gradable"
