"""Assignment 2's hidden conv and pooling inputs stay inside what the docstrings promise: the window fits a
whole number of times, (H + 2 * pad - HH) % stride == 0 (the official starters assert it; a hidden case
outside it failed students who assert or round while the in-spec case was exact)."""
from __future__ import annotations

import pytest

from grader.assignments import load_assignment
from grader.assignments.assignment2.cases import POOL, POOL2
from grader.references import References
from support.submissions import failed, grade_code, make_submission

CONV = {"Q8/conv_forward": [("x", "w", 2, 1), ("x2", "w2", 1, 0)], "Q8/conv_backward": [("x", "w", 1, 1)]}
POOLING = {"Q8/max_pool": [("x", POOL), ("x2", POOL2)]}


@pytest.fixture(scope="module")
def refs():
    return References(load_assignment("assignment2")).with_salt(b"\x01" * 32)


@pytest.mark.parametrize("key", sorted(CONV))
def test_conv_cases_fit_the_stride(refs, key):
    c = refs(key)
    for x, w, stride, pad in CONV[key]:
        (_, _, H, W), (_, _, HH, WW) = c[x].shape, c[w].shape
        assert (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0, (key, x)


@pytest.mark.parametrize("key", sorted(POOLING))
def test_pool_cases_fit_the_stride(refs, key):
    c = refs(key)
    for x, pool in POOLING[key]:
        _, _, H, W = c[x].shape
        assert (H - pool["pool_height"]) % pool["stride"] == 0 and (W - pool["pool_width"]) % pool["stride"] == 0


@pytest.mark.slow
def test_a_conv_that_asserts_the_spec_like_the_official_starter_passes(tmp_path):
    sub = make_submission(tmp_path, append={"layers.py": """
        _conv = conv_forward_naive
        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            assert (x.shape[2] + 2 * pad - w.shape[2]) % stride == 0, "width does not work"
            assert (x.shape[3] + 2 * pad - w.shape[3]) % stride == 0, "height does not work"
            return _conv(x, w, b, conv_param)
        """})
    assert failed(grade_code(sub)) == set()
