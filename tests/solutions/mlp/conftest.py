"""The mlp solutions' package, imported under a private name (``mlp('layers')`` -> its ``layers`` module)."""
import pytest

from grader.pkgload import load_module

from support.paths import ROOT

PACKAGE = ROOT / "solutions" / "mlp" / "common"


@pytest.fixture(scope="session")
def mlp():
    return lambda submodule: load_module(PACKAGE, "_solutions_mlp_common", submodule)
