"""A submission written for NumPy 1.x (``np.int``, ``np.float``, ``reshape(..., newshape=...)``, ``np.NaN``):
graded on its math under NumPy 2, with a note listing the removed names it used (before: about 25 points lost)."""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, grade_code, make_submission

pytestmark = pytest.mark.slow

NUMPY1 = """
def affine_forward(x, w, b):
    N = x.shape[0]
    D = np.int(np.product(x.shape[1:]))
    out = np.reshape(x, newshape=(N, D)).astype(np.float).dot(w) + b
    return out, (x, w, b)


def relu_forward(x):
    out = np.maximum(x, 0).astype(np.float_)
    out[np.isnan(x)] = np.NaN
    return out, x
"""


def test_numpy1_code_is_graded_on_its_math_with_a_note(tmp_path):
    results = grade_code(make_submission(tmp_path, append={"layers.py": NUMPY1}))
    tests = by_test(results)
    assert failed(results) == set(), {t: tests[t].output for t in failed(results)}
    for name in ("np.int", "np.product", "np.float", "np.reshape(..., newshape=...)", "np.NaN", "np.float_"):
        assert name in results.output, name
    assert "NumPy 2 removed" in results.output
