"""Code that hangs in the code questions is named in the results (``extra_data.submission.timed_out``), so
the notebooks give the cells that use it a short limit (``grader.notebooks.SlowCode``) instead of the full
cell limit in every notebook."""
from __future__ import annotations

import json
import shutil

import pytest

from support.course import grader_cli, make_course

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("slow"))


def grade(course, tmp_path, edit) -> dict:
    sub = tmp_path / "sub"
    shutil.copytree(course / "solutions" / "tiny", sub)
    ops = sub / "cs231n" / "ops.py"
    ops.write_text(edit(ops.read_text()))
    out = tmp_path / "results.json"
    proc = grader_cli(course, "grade", str(sub), "--assignment", "tiny", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_a_function_that_hangs_is_named(course, tmp_path):
    results = grade(course, tmp_path, lambda src: src.replace("out = a * as_float(x)",
                                                              "while True:\n        pass"))
    scores = {t["extra_data"]["test"]: t["score"] for t in results["tests"]}
    assert scores == {"test_scale": 0, "test_row_sums": 3}
    assert results["extra_data"]["submission"]["timed_out"] == ["scale"]


def test_a_module_whose_import_hangs_is_named(course, tmp_path):
    results = grade(course, tmp_path, lambda src: src + "\nwhile True:\n    pass\n")
    assert results["score"] == 0
    assert results["extra_data"]["submission"]["timed_out"] == ["ops"]


def test_code_that_finishes_is_not_named(course, tmp_path):
    results = grade(course, tmp_path, lambda src: src)
    assert results["score"] == 5 and "timed_out" not in results["extra_data"]["submission"]
