"""Submissions that import the course's provided modules, or modules the grader does not have.

Every official assignment-2 starter of 2016-2025 ships modules besides the graded files (``im2col``, the
compiled ``im2col_cython``, ``fast_layers``, ``gradient_check``, ...): a graded file that imports one of
them grades as if the import were not there. A module the grader does not have costs only the tests whose
code uses it, and their feedback names the import and the file.
"""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, full_marks, grade_code, make_submission

pytestmark = pytest.mark.slow

OFFICIAL_IMPORTS = """\
from builtins import range
from cs231n.im2col import *
from cs231n.im2col import get_im2col_indices, im2col_indices, col2im_indices
from cs231n.im2col_cython import col2im_cython, im2col_cython, col2im_6d_cython
from cs231n.fast_layers import *
from cs231n.fast_layers import conv_forward_fast, conv_backward_fast, max_pool_forward_fast
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, eval_numerical_gradient_net
from cs231n.vis_utils import visualize_grid, vis_grid, vis_nn
from cs231n.data_utils import load_CIFAR10, get_CIFAR10_data, load_pickle, load_tiny_imagenet, load_models
from cs231n.data_utils import load_imagenet_val
import cs231n.setup
"""


def test_every_provided_module_of_the_official_starters_imports(tmp_path):
    """The imports of the official starters' provided modules at the top of layers.py and optim.py cost
    nothing (before: every test of layers.py scored zero)."""
    sub = make_submission(tmp_path, prepend={"layers.py": OFFICIAL_IMPORTS,
                                                   "optim.py": OFFICIAL_IMPORTS + "from cs231n.classifiers import *\n"})
    results = grade_code(sub)
    assert failed(results) == set(), {t: by_test(results)[t].output for t in failed(results)}
    assert results.score == full_marks(results)


def test_a_missing_module_costs_only_the_tests_that_use_it(tmp_path):
    """``from cs231n.my_helpers import relu`` at the top of layers.py, used by relu_forward only: the file
    imports, relu's tests fail with the import named, every other test passes."""
    sub = make_submission(tmp_path, prepend={"layers.py": "from cs231n.my_helpers import relu\n"
                                                          "from .unsubmitted import *\n"
                                                          "import cupy_not_installed\n"},
                          append={"layers.py": """
                              def relu_forward(x):
                                  return relu(x), x
                              """})
    results = grade_code(sub)
    tests = by_test(results)
    assert "test_relu_forward" in failed(results)
    out = tests["test_relu_forward"].output
    assert "cs231n.my_helpers" in out and "layers.py" in out and "line 1" in out
    assert "does not have" in out
    # the tests that do not use relu still pass (affine, softmax, batch norm, conv, the update rules ...)
    for passing in ("test_affine_forward", "test_affine_backward", "test_softmax_loss", "test_batchnorm_backward",
                    "test_conv_forward", "test_adam"):
        assert tests[passing].status == "passed", tests[passing].output
    assert "cupy_not_installed" in results.output and "cs231n/layers.py" in results.output


def test_an_import_inside_try_except_keeps_its_fallback(tmp_path):
    """``try: import cupy as np / except ImportError: import numpy as np`` still falls back to NumPy."""
    sub = make_submission(tmp_path, prepend={"layers.py": """\
        try:
            import cupy_not_installed as np
        except ImportError:
            import numpy as np
        """})
    results = grade_code(sub)
    assert failed(results) == set()
    assert "cupy_not_installed" not in results.output
