"""Real CS231n submissions: every shape of tests/fixtures/real_submissions/shapes.toml grades as expected.

Each shape is built here from ``solutions/cs231n`` with the small textual edits the recipe lists (so the
fixtures stay a few lines each and follow the solutions when they change), zipped as a student would, and
graded with the real command line, ``python -m grader grade --no-notebooks`` (the shapes are about the
package; the notebooks have tests of their own), in the sandbox. The code is right in every shape, so each
earns full marks except for the tests the recipe expects to fail.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader import compat
from grader.assignments import load_assignment
from grader.assignments.assignment2 import probes

from support.paths import ROOT  # noqa: E402
FIXTURES = ROOT / "tests" / "fixtures" / "real_submissions"
A2 = load_assignment("assignment2")
SOLUTION_PKG = A2.solution_package
BEST_MODEL = A2.solutions_dir / "best_model.npz"
SHAPES = {s["name"]: s for s in tomllib.loads((FIXTURES / "shapes.toml").read_text())["shape"]}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"),
]


def package_files(pkg: Path) -> dict[str, bytes]:
    """The solutions' package as {relative path: bytes} (no caches, no artefacts)."""
    files = {}
    for path in sorted(pkg.rglob("*")):
        rel = path.relative_to(pkg).as_posix()
        if path.is_file() and "__pycache__" not in rel and not rel.endswith((".pyc", ".npz", ".so")):
            files[rel] = path.read_bytes()
    return files


def build_submission(shape: dict, dest: Path) -> Path:
    """Apply ``shape``'s recipe to the solutions' package and zip it into ``dest/<name>.zip``."""
    files = package_files(SOLUTION_PKG)
    for edit in shape.get("edits", []):
        text = files[edit["file"]].decode()
        found = text.count(edit["old"])
        assert found == edit["count"], (f"recipe {shape['name']}: {edit['old']!r} occurs {found} times in "
                                        f"{edit['file']}, expected {edit['count']}: update shapes.toml")
        files[edit["file"]] = text.replace(edit["old"], edit["new"]).encode()
    for rel in shape.get("remove", []):
        del files[rel]
    for rel, source in shape.get("add", {}).items():
        files[rel] = (FIXTURES / "files" / source).read_bytes()
    base = "/".join(p for p in (shape["prefix"], shape["package_dir"]) if p)
    zpath = dest / f"{shape['name']}.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(f"{base}/{rel}" if base else rel, data)
        for name, content in shape.get("junk", {}).items():
            zf.writestr(name, content)
        if BEST_MODEL.is_file():  # saved by the FC notebook next to the notebooks, as students submit it
            zf.write(BEST_MODEL, f"{shape['prefix']}/best_model.npz" if shape["prefix"] else "best_model.npz")
    return zpath


def grade_cli(submission: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(submission), "--assignment", "assignment2", "--out", str(out),
         "--no-notebooks"],
        cwd=ROOT, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("name", list(SHAPES))
def test_real_submission_shape(name, tmp_path):
    shape = SHAPES[name]
    results = grade_cli(build_submission(shape, tmp_path), tmp_path / "results.json")
    expected_failures = set(shape.get("expect_failed", []))
    failed = {t["extra_data"].get("test", t["name"]) for t in results["tests"] if t["status"] != "passed"}
    assert failed == expected_failures, {t["name"]: t["output"][:300] for t in results["tests"]
                                         if t["status"] != "passed"}
    lost = sum(t["max_score"] for t in results["tests"] if t["status"] != "passed")
    assert results["score"] == pytest.approx(results["extra_data"]["max_score"] - lost)
    assert results["extra_data"]["submission"]["missing"] == []
    for note in shape.get("expect_notes", []):
        assert note in results["output"], results["output"]
    extra = results["extra_data"]
    assert extra["submission"]["dropout_semantics"]["semantics"] == shape.get("expect_dropout", "keep")
    assert extra["notebooks_run"] is False and "NB" not in [q["id"] for q in extra["questions"]]
    assert "The notebooks were not run (code questions only)" in results["output"]
    curves = {c["id"]: c for c in extra["training_curves"]}
    assert set(curves) == set(A2.training_checks), curves.keys()
    assert all(len(c["loss_history"]) > 10 and c["val_acc_history"] for c in curves.values())


def test_fixture_recipes_still_apply(tmp_path):
    """Every recipe applies to the current solutions (a changed solution breaks a recipe loudly, here)."""
    for shape in SHAPES.values():
        with zipfile.ZipFile(build_submission(shape, tmp_path)) as zf:
            names = zf.namelist()
        layers = [n for n in names if n.rsplit("/", 1)[-1] == "layers.py"]
        assert len(layers) == 1, names
        expected_dir = "/".join(p for p in (shape["prefix"], shape["package_dir"]) if p)
        assert layers[0] == (f"{expected_dir}/layers.py" if expected_dir else "layers.py")


def test_fc_net_keyword_adaptation():
    """The keyword names of FullyConnectedNet over the years, read from source without importing it."""
    ours = compat.init_parameters((SOLUTION_PKG / "classifiers" / "fc_net.py").read_text())
    assert ours[:4] == ["hidden_dims", "input_dim", "num_classes", "dropout"]
    new = compat.init_parameters("class FullyConnectedNet:\n    def __init__(self, hidden_dims, input_dim=3,"
                                 " num_classes=10, dropout_keep_ratio=1, normalization=None): pass\n")
    old = compat.init_parameters("class FullyConnectedNet(object):\n    def __init__(self, hidden_dims, "
                                 "dropout=0, use_batchnorm=False, reg=0.0): pass\n")
    assert compat.adapt_kwargs({"dropout": 0.5, "normalization": None}, ours) == {"dropout": 0.5,
                                                                                   "normalization": None}
    assert compat.adapt_kwargs({"dropout": 0.5, "reg": 1.0}, new) == {"dropout_keep_ratio": 0.5, "reg": 1.0}
    assert compat.adapt_kwargs({"normalization": "batchnorm"}, old) == {"use_batchnorm": True}
    assert compat.adapt_kwargs({"normalization": "layernorm"}, old) == {"normalization": "layernorm"}
    assert compat.init_parameters("class FullyConnectedNet:\n    def __init__(self, **kw): pass") is None
    assert compat.init_parameters("def broken(:") is None
    found = compat.constructor_parameters(SOLUTION_PKG, A2.model_classes)
    assert found["FullyConnectedNet"] == ours and found["TwoLayerNet"][:3] == ["input_dim", "hidden_dim", "num_classes"]
    assert found["ThreeLayerConvNet"][0] == "input_dim"


def test_dropout_convention_is_measured_in_the_sandbox(tmp_path):
    """dropout_forward with p = 0.3 zeroes ~70% (keep convention) or ~30% (2016/17 drop convention)."""
    from grader.assemble import assemble_package
    from grader.sandbox.proxy import Sandbox

    shape = SHAPES["drop_probability_2017"]
    root = tmp_path / "sub"
    with zipfile.ZipFile(build_submission(shape, tmp_path)) as zf:
        zf.extractall(root)
    for which, pkg in (("keep", SOLUTION_PKG), ("drop", root / "assignment2" / "cs231n")):
        assembled = assemble_package(pkg, A2.provided_package, A2.graded_files, tmp_path / which / "cs231n")
        with Sandbox(assembled.package) as sb:
            found = probes.detect_dropout_semantics(sb)
        assert found["semantics"] == which, found
        assert abs(found["fraction_zeroed"] - (0.7 if which == "keep" else 0.3)) < 0.03
    note = probes.dropout_note(found, "keep")
    assert "DROPPING" in note and "KEEPING" in note and f"zeroed {100 * found['fraction_zeroed']:.0f}%" in note
    assert probes.dropout_note({"semantics": "keep", "fraction_zeroed": 0.7}, "keep") is None
    assert probes.dropout_note({"semantics": "unknown", "fraction_zeroed": None}, "keep") is None


def test_keep_ratio_submission_through_adapted_keywords(tmp_path):
    """A 2021+ FullyConnectedNet(dropout_keep_ratio=...) built with the grader's canonical keywords, adapted
    by compat: same loss as the solutions' FullyConnectedNet(dropout=...), in the sandbox."""
    import numpy as np

    from grader.assemble import assemble_package
    from grader.sandbox.proxy import Sandbox

    root = tmp_path / "sub"
    with zipfile.ZipFile(build_submission(SHAPES["keep_ratio_2021"], tmp_path)) as zf:
        zf.extractall(root)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 15)), rng.integers(10, size=4)
    losses = {}
    for which, pkg in (("solutions", SOLUTION_PKG), ("2021", root / "assignment2" / "cs231n")):
        assembled = assemble_package(pkg, A2.provided_package, A2.graded_files, tmp_path / which / "cs231n")
        params = compat.constructor_parameters(assembled.package, A2.model_classes)["FullyConnectedNet"]
        kwargs = compat.adapt_kwargs({"dropout": 0.6, "normalization": None, "seed": 123, "dtype": "float64",
                                      "input_dim": 15, "num_classes": 10}, params)
        assert ("dropout_keep_ratio" in kwargs) == (which == "2021")
        with Sandbox(assembled.package) as sb:
            sb.seed(231)
            model = sb.new("cs231n.classifiers.fc_net.FullyConnectedNet", [20, 30], **kwargs)
            losses[which] = sb.call_method(model, "loss", X, y)[0]
    assert losses["2021"] == pytest.approx(losses["solutions"], rel=1e-12)
