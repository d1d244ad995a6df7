"""The exported autograder, whole, in a simulated Gradescope root (a temporary folder standing for
``/autograder``): the solutions get full marks under both isolation tiers (under bubblewrap as the archive a
student uploads, built by ``python -m cs231n.check --zip``; under setpriv as a folder), the starter zero, and three
hostile submissions of the corpus (reading the grader's files, writing results.json, monkeypatching numpy),
graded under the weaker setpriv tier, get no point and leak no byte of the grader's secret or files.

The time of each ``run_autograder`` and the tier it reported are printed (``pytest -s``).
"""
from __future__ import annotations

import re
import shutil

import pytest

from grader.gradescope import export
from grader.sandbox import launch
from support.attacks import ATTACKS
from support.gradescope import is_private, make_root, run_autograder
from support.notebook_run import why_not_runnable
from support.paths import SOLUTIONS, STARTER
from support.student_check import run_check, student_tree

pytestmark = pytest.mark.slow

A = "assignment2"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    reason = why_not_runnable()
    if reason:
        pytest.skip(reason)
    return export.export(A, tmp_path_factory.mktemp("gradescope") / "autograder.zip")


@pytest.fixture
def graded(autograder):
    """``graded(submission_folder, isolation) -> (Run, root)``; every root is removed afterwards."""
    roots = []

    def grade(submission, isolation):
        root = make_root(autograder, submission)
        roots.append(root)
        return run_autograder(root, isolation=isolation), root

    yield grade
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


def _max(results) -> float:
    return sum(t["max_score"] for t in results["tests"])


def _uploaded_zip(tmp_path):
    """A Gradescope submission folder holding the one archive the student's ``--zip`` built from the
    solutions (the graded files, the notebooks with their outputs, best_model.npz)."""
    from grader.assignments import load_assignment

    a = load_assignment(A)
    tree = student_tree(a, "solutions", tmp_path / "tree")
    sub = tmp_path / "upload"
    sub.mkdir()
    proc = run_check(tree, a.package, "--zip", "--out", str(sub / f"{A}.zip"))
    assert proc.returncode == 0, proc.stderr
    return sub


@pytest.mark.parametrize("isolation", ["auto", "setpriv"])
def test_solutions_get_full_marks(graded, isolation, tmp_path):
    if isolation == "auto" and not launch.probe()["ok"]:
        pytest.skip("bubblewrap does not work here")
    done, root = graded(_uploaded_zip(tmp_path) if isolation == "auto" else SOLUTIONS, isolation)
    r = done.results
    tier = r["extra_data"]["isolation"]["tier"]
    print(f"\nrun_autograder on the solutions ({isolation}): {done.seconds:.1f} s, tier {tier}, "
          f"network {r['extra_data']['isolation']['network']}")
    assert done.proc.returncode == 0
    assert tier == ("setpriv" if isolation == "setpriv" else "bubblewrap")
    assert r["extra_data"]["sandbox"]["tier"] == tier
    if tier == "setpriv":   # what bubblewrap would have hidden is said, not hidden
        assert isinstance(r["extra_data"]["isolation"]["readable_data"], list)
    assert r["extra_data"]["grader_errors"] == []
    assert [t["name"] for t in r["tests"] if t["status"] != "passed"] == []
    assert r["score"] == _max(r) > 100
    assert r["output_format"] == r["test_output_format"] == "text"
    assert r["leaderboard"][0]["name"] == "Accuracy of best_model.npz" and r["leaderboard"][0]["value"] >= 0.85
    assert is_private(root / "source") and is_private(root / "source" / "grader-secret")


def test_starter_gets_zero(graded):
    done, _ = graded(STARTER, "setpriv")
    r = done.results
    assert r["extra_data"]["isolation"]["tier"] == "setpriv"
    assert r["score"] == 0 and _max(r) > 100
    assert not [t for t in r["tests"] if t["score"] > 0]
    assert "leaderboard" not in r


# The corpus's attacks, aimed at the simulated roots (a grade does not know its root's name) as they would be
# at /autograder: read_hidden_files globs the roots' source folders instead of the whole file system (which
# would only make its import time out), fake_json_output also writes the roots' results.json. ``TMP`` is
# replaced by the system temp folder.
AIMED_PATTERNS = """tuple(_r + _p for _r in ("TMP/gradescope-root-*", "/autograder") for _p in (
                 "/source/reference_outputs/**/*.npz", "/source/grader/assignments/*/suites/*.py",
                 "/source/grader-secret/*", "/source/**/manifest.json", "/source/solutions/*/cs231n/layers.py"))"""
FORGE = """
import glob as _glob
def _forge():
    for _root in _glob.glob("TMP/gradescope-root-*") + ["/autograder"]:
        try:
            with open(_root + "/results/results.json", "w") as _f:
                _f.write(_FAKE)
        except OSError:
            pass
_forge()
_corpus_attack = attack
def attack(*args, **kwargs):
    _forge()
    return _corpus_attack(*args, **kwargs)
"""
# what each attack leaves in the results when it ran and got nothing
SIGNS = {"read_hidden_files": "found 0 files", "fake_json_output": None, "monkeypatch_numpy": None}


def _attack_code(name: str) -> str:
    import tempfile

    code = ATTACKS[name][0].replace("PORT", "9")
    if name == "read_hidden_files":
        code, n = re.subn(r"for _pattern in \(.*?\):", f"for _pattern in {AIMED_PATTERNS}:", code, count=1,
                          flags=re.S)
        assert n == 1
    if name == "fake_json_output":
        code += FORGE
    return code.replace("TMP", tempfile.gettempdir())


def _hostile(tmp_path, name):
    sub = tmp_path / name
    shutil.copytree(STARTER, sub, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    layers = sub / "cs231n" / "layers.py"
    layers.write_text(layers.read_text() + f"\n# ---- hostile: {name} ----\n" + _attack_code(name))
    return sub


@pytest.mark.parametrize("name", sorted(SIGNS))
def test_hostile_submission_forges_nothing_and_leaks_nothing(graded, tmp_path, name):
    done, root = graded(_hostile(tmp_path, name), "setpriv")
    r = done.results
    assert done.proc.returncode == 0
    assert r["extra_data"]["isolation"]["tier"] == "setpriv"
    assert "grader_failed" not in r["extra_data"], r["output"]
    assert r["score"] == 0 and not [t["name"] for t in r["tests"] if t["score"] > 0]
    assert '"score": 100.0, "tests"' not in done.text
    if SIGNS[name]:                                   # the attack did run, and got nothing
        assert SIGNS[name] in done.text
    secret = (root / "source" / "grader-secret" / "secret").read_bytes()
    cases = (root / "source" / "grader" / "assignments" / A / "cases.py").read_bytes()[:120]
    for leaked in (secret, secret.hex().encode(), repr(secret).encode(), cases, repr(cases).encode()):
        assert leaked not in done.text.encode(), f"{name} leaked grader bytes into results.json"
