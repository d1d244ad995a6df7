"""Shared fixtures: where things are, and importing the solutions/starter packages side by side."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from grader.pkgload import load_module  # noqa: E402

from support.paths import PACKAGE_ROOTS  # noqa: E402


def cs231n_module(which: str, submodule: str):
    """Import ``cs231n.<submodule>`` of ``which`` ('solutions' or 'starter') under a private alias."""
    return load_module(PACKAGE_ROOTS[which], f"_{which}_cs231n", submodule)


@pytest.fixture(scope="session")
def solutions():
    """``solutions('layers')`` -> the solutions' ``cs231n.layers`` module."""
    return lambda submodule: cs231n_module("solutions", submodule)


@pytest.fixture(params=["solutions", "starter"])
def cs(request, solutions, starter):
    """A ``checking.Package``: the solutions (which must pass a check) or the starter (which must fail it)."""
    from support.checking import Package

    which = request.param
    if which == "starter" and not (PACKAGE_ROOTS["starter"] / "__init__.py").is_file():
        pytest.skip("starter/cs231n is absent (not generated yet)")
    return Package(which, {"solutions": solutions, "starter": starter}[which])


@pytest.fixture(scope="module")
def gc(solutions):
    """The numerical-gradient helpers, always from the solutions (the trusted side of a check)."""
    return solutions("gradient_check")


@pytest.fixture(scope="session")
def starter():
    """``starter('layers')`` -> the starter's ``cs231n.layers`` module."""
    return lambda submodule: cs231n_module("starter", submodule)


@pytest.fixture(scope="session")
def graded_notebooks(tmp_path_factory):
    """The solutions' and the starter's zips graded WITH their notebooks, once for the whole session:
    ``{"solutions": GradedRun, "starter": GradedRun}`` (see tests/notebook_run.py)."""
    from support import notebook_run

    reason = notebook_run.why_not_runnable()
    if reason:
        pytest.skip(reason)
    return notebook_run.grade_with_notebooks(tmp_path_factory.mktemp("graded-notebooks"))
