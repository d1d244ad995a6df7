"""Assignment 1's solutions (composed: the files shared with assignment 2 written in) and its starter,
imported side by side under private names; ``cs`` runs a check on both (see tests/support/checking.py)."""
from __future__ import annotations

import pytest

from grader.assignments import load_assignment
from grader.pkgload import load_module

from support.checking import Package


@pytest.fixture(scope="session")
def a1():
    return load_assignment("assignment1")


@pytest.fixture(scope="session")
def solutions(a1):
    """``solutions('classifiers.linear_svm')`` -> that module of the composed solutions."""
    return lambda submodule: load_module(a1.solution_package, "_solutions_a1_cs231n", submodule)


@pytest.fixture(scope="session")
def starter(a1):
    return lambda submodule: load_module(a1.provided_package, "_starter_a1_cs231n", submodule)


@pytest.fixture(params=["solutions", "starter"])
def cs(request, a1, solutions, starter):
    """The solutions (which must pass a check) or the generated starter (which must fail it)."""
    which = request.param
    if which == "starter" and not (a1.provided_package / "__init__.py").is_file():
        pytest.skip("starter/assignment1 is absent (not generated yet)")
    return Package(which, {"solutions": solutions, "starter": starter}[which])


@pytest.fixture(scope="module")
def gc(solutions):
    """The numerical-gradient helpers, from the solutions (the trusted side of a check)."""
    return solutions("gradient_check")


@pytest.fixture(scope="session")
def fashion():
    """Fashion-MNIST as the notebooks use it: 5,000 training and 500 test rows (float64, mean image
    subtracted), as knn.ipynb and svm.ipynb subsample CIFAR-10."""
    from grader.references.datasets import fashion_mnist
    import numpy as np

    Xtr, ytr = fashion_mnist("train", 0, 5000)
    Xte, yte = fashion_mnist("t10k", 0, 500)
    Xtr = Xtr.reshape(5000, -1).astype(np.float64)
    Xte = Xte.reshape(500, -1).astype(np.float64)
    mean = Xtr.mean(axis=0)
    return dict(X_train=Xtr, y_train=ytr.astype(np.int64), X_test=Xte, y_test=yte.astype(np.int64),
                X_train_c=Xtr - mean, X_test_c=Xte - mean)
