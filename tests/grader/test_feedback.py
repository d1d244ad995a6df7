"""Feedback a TA would give: which phase of a two-phase test failed; hints for max-pool backward that
overwrites instead of accumulating on overlapping windows, for sizes computed with / (floats), for an Adam
that sets no default state; the extra files of the submission that were ignored."""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, grade_code, make_submission

pytestmark = pytest.mark.slow

MISTAKES = {
    "layers.py": """
        def max_pool_backward_naive(dout, cache):
            x, pool_param = cache
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            dx = np.zeros_like(x)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
                    mask = window == window.max(axis=(2, 3), keepdims=True)
                    dx[:, :, i * s:i * s + ph, j * s:j * s + pw] = mask * dout[:, :, i, j][:, :, None, None]
            return dx


        _conv = conv_forward_naive
        def conv_forward_naive(x, w, b, conv_param):
            H_out = 1 + (x.shape[2] + 2 * conv_param["pad"] - w.shape[2]) / conv_param["stride"]
            np.zeros((x.shape[0], w.shape[0], H_out, H_out))
            return _conv(x, w, b, conv_param)
        """,
    "optim.py": """
        _adam = adam
        def adam(w, dw, config=None):
            if config is not None and "m" not in config:
                raise KeyError("m")              # no default state
            return _adam(w, dw, config)
        """,
    "classifiers/fc_net.py": """
        _loss = TwoLayerNet.loss
        def _loss_without_reg(self, X, y=None):
            reg, self.reg = self.reg, 0.0
            try:
                return _loss(self, X, y)
            finally:
                self.reg = reg
        TwoLayerNet.loss = _loss_without_reg
        """,
}


def test_feedback_names_the_phase_and_gives_the_hints(tmp_path):
    sub = make_submission(tmp_path, append=MISTAKES, add={"helpers.py": "X = 1\n", "notes/scratch.py": "pass\n"})
    results = grade_code(sub)
    tests = by_test(results)
    assert {"test_max_pool_backward", "test_conv_forward", "test_adam_default_state",
            "test_two_layer_loss_regularized"} <= failed(results)
    assert tests["test_two_layer_loss"].status == "passed"
    assert "(reg > 0)" in tests["test_two_layer_loss_regularized"].output
    assert "instead of assigning" in tests["test_max_pool_backward"].output
    assert "integer division (//)" in tests["test_conv_forward"].output
    assert "cannot be interpreted as an integer" in tests["test_conv_forward"].output
    assert "config.setdefault" in tests["test_adam_default_state"].output
    assert "cs231n/helpers.py" in results.output and "cs231n/notes/scratch.py" in results.output
    assert "were ignored" in results.output
