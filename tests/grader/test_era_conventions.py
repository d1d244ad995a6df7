"""Conventions of the official starters of a given year are not held against the student: the 2017 starter's
``config.setdefault('t', 1)`` in Adam; the 2016/2017 drop-probability note only for code that follows the
drop-probability convention (not for simply buggy 2018+ dropout)."""
from __future__ import annotations

import pytest

from support.submissions import by_test, failed, grade_code, make_submission

pytestmark = pytest.mark.slow
KEEP = "        keep = np.random.rand(*x.shape) < p\n        mask = keep.astype(x.dtype) / x.dtype.type(p)\n"


def test_adam_with_the_2017_default_t_of_one_passes_with_a_note(tmp_path):
    sub = make_submission(tmp_path, replace={"optim.py": ('config.setdefault("t", 0)', 'config.setdefault("t", 1)')})
    results = grade_code(sub)
    tests = by_test(results)
    assert failed(results) == set(), {t: tests[t].output for t in failed(results)}
    assert "2017 starter" in tests["test_adam_default_state"].output
    assert tests["test_adam"].output == ""       # a state with t given: nothing to say


def test_adam_that_never_increments_t_still_fails(tmp_path):
    sub = make_submission(tmp_path, append={"optim.py": """
        _adam = adam
        def adam(w, dw, config=None):
            t = (config or {}).get("t", 0)
            next_w, config = _adam(w, dw, config)
            config["t"] = t            # forgets to store the incremented counter
            return next_w, config
        """})
    assert {"test_adam", "test_adam_default_state"} <= failed(grade_code(sub))


def test_the_drop_probability_note_only_for_drop_probability_code(tmp_path):
    drop_2017 = make_submission(tmp_path / "a", replace={"layers.py": (KEEP, (
        "        keep = np.random.rand(*x.shape) >= p\n        mask = keep.astype(x.dtype) / x.dtype.type(1 - p)\n"))})
    buggy_2018 = make_submission(tmp_path / "b", replace={"layers.py": (KEEP, (
        "        keep = np.random.rand(*x.shape) >= p\n        mask = keep.astype(x.dtype) / x.dtype.type(p)\n"))})
    noted = grade_code(drop_2017)
    assert "test_dropout_forward_train" in failed(noted)
    assert "DROPPING" in noted.output
    plain = grade_code(buggy_2018)
    assert "test_dropout_forward_train" in failed(plain)
    assert "DROPPING" not in plain.output and "2016/2017" not in plain.output
