"""The feedback report: Markdown and HTML from a results.json, the training-curve plot, escaping."""
from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from grader import report

from support.paths import ROOT  # noqa: E402
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert(1)</script> | `x` ``` **bold**"


def results_dict() -> dict:
    """A results.json as the grader writes it (two questions, a notebook that failed, curves, answers)."""
    loss = (2.3 * np.exp(-np.arange(120) / 40)).tolist()
    return {
        "score": 3.0, "execution_time": 4.2, "visibility": "visible", "stdout_visibility": "hidden",
        "output": "Problems with the submission:\n- cs231n/optim.py is missing\nScore: 3 / 7\n  Q1 Layers: 3 / 3",
        "tests": [
            {"name": "Q1 Layers: test_affine_forward", "number": "1.1", "score": 2.0, "max_score": 2.0,
             "status": "passed", "output": "", "extra_data": {"question": "Q1", "test": "test_affine_forward"}},
            {"name": "Q1 Layers: test_relu_forward", "number": "1.2", "score": 1.0, "max_score": 1.0,
             "status": "passed", "output": "", "extra_data": {"question": "Q1", "test": "test_relu_forward"}},
            {"name": "Q2 Training: test_two_layer_training", "number": "2.1", "score": 0.0, "max_score": 4.0,
             "status": "failed", "output": "accuracy 31% < 45%\n" + HOSTILE,
             "extra_data": {"question": "Q2", "test": "test_two_layer_training"}},
        ],
        "extra_data": {
            "assignment": "assignment2", "max_score": 7.0,
            "questions": [{"id": "Q1", "title": "Layers", "score": 3.0, "max_score": 3.0},
                          {"id": "Q2", "title": "Training", "score": 0.0, "max_score": 4.0}],
            "submission": {"name": "alice.zip"},
            "sandbox": {"sandboxed": True, "uid": 65534, "mounts": [{"path": "/usr"}]},
            "notebooks": [
                {"name": "FullyConnectedNets.ipynb", "status": "error", "cell": 4, "heading": "Affine layer: forward",
                 "message": "Cell In[3], line 19\nTypeError: unsupported operand " + HOSTILE, "cells_run": 2,
                 "cells_total": 22, "shell_escapes": [{"cell": 2, "line": "!rm -rf / " + HOSTILE}]},
                {"name": "Dropout.ipynb", "status": "ok", "cell": None, "heading": "", "message": "",
                 "cells_run": 8, "cells_total": 8, "shell_escapes": []},
            ],
            "inline_answers": [{"notebook": "FullyConnectedNets.ipynb", "question": "## Inline Question 1\nWhy?",
                                "answer": "Because " + HOSTILE, "cell": 12}],
            "training_curves": [
                report.training_curve("Q2/two_layer", "TwoLayerNet", loss_history=loss,
                                      train_acc_history=[0.1, 0.4, 0.6], val_acc_history=[0.1, 0.35, 0.5]),
            ],
            "notes": ["dropout_forward treats p as the probability of DROPPING a unit"],
        },
    }


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def test_markdown_report(tmp_path):
    path = write(tmp_path, results_dict())
    out = tmp_path / "feedback.md"
    text = report.write_report(path, fmt="md", out=out)
    assert out.read_text() == text
    assert "# Feedback: assignment2 \u2014 alice.zip" in text
    assert "**Score: 3 / 7**" in text
    assert "| Q1 Layers | 3 | 3 |" in text and "| Q2 Training | 0 | 4 |" in text
    assert "## Q2 \u2014 Training (0 / 4)" in text
    assert "\u274c test\\_two\\_layer\\_training (0 / 4)" in text and "\u2705 test\\_affine\\_forward (2 / 2)" in text
    assert "accuracy 31% < 45%" in text, "a failed test shows its output"
    assert "cs231n/optim.py is missing" in text and "Score: 3 / 7\n" not in text.split("| Question")[0]
    # notebooks: where it failed, in words
    assert "| FullyConnectedNets.ipynb | error | cell 4 (section \u201cAffine layer: forward\u201d) | 2 / 22 |" in text
    assert "| Dropout.ipynb | ok |  | 8 / 8 |" in text
    # the plot is written beside the report and linked by name
    png = tmp_path / "feedback_curves.png"
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert "![training curves](<feedback_curves.png>)" in text
    # untrusted text: raw only inside code fences (which the student's backticks cannot close), escaped elsewhere
    fences = re.findall(r"^\s*(`{3,})", text, re.M)
    assert len(fences) % 2 == 0 and "````" in fences
    outside = re.sub(r"^\s*(`{3,})text\n.*?^\s*\1\s*$", "", text, flags=re.M | re.S)
    assert "accuracy 31%" not in outside, "the fences were found"
    assert "<script>" not in outside
    assert "> Because &lt;script&gt;" in text


def test_html_report_is_self_contained_and_escaped(tmp_path):
    path = write(tmp_path, results_dict())
    html = report.write_report(path, fmt="html", out=tmp_path / "feedback.html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<td>FullyConnectedNets.ipynb</td><td>error</td>" in html
    m = re.search(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert m, "the plot is embedded"
    png = base64.b64decode(m.group(1))
    assert png.startswith(PNG_MAGIC)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 400 and height > 200
    assert not list(tmp_path.glob("*.png")), "HTML needs no file beside it"


def test_report_without_curves_or_notebooks(tmp_path):
    data = results_dict()
    for key in ("training_curves", "notebooks", "inline_answers", "notes"):
        del data["extra_data"][key]
    text = report.write_report(write(tmp_path, data), fmt="md")
    assert "Training curves" not in text and "## Notebooks" not in text and "Inline answers" not in text
    assert not list(tmp_path.glob("*.png"))
    assert report.plot_training_curves(data) is None


def test_training_curves_from_untrusted_histories():
    entry = report.training_curve("c", "C", loss_history=np.linspace(3, 1, 12_000), train_acc_history="nope",
                                  val_acc_history=[0.1, float("nan"), np.float32(0.5)])
    assert entry["loss_every"] == 3 and len(entry["loss_history"]) == 4000
    assert entry["train_acc_history"] == [] and entry["val_acc_history"][1] is None
    assert math.isclose(entry["val_acc_history"][2], 0.5)
    results = {"extra_data": {"training_curves": [entry, {"id": "bad", "loss_history": {"a": 1}}, "junk"]}}
    curves = report.training_curves(results)
    assert [c["id"] for c in curves] == ["c"]
    values, step = curves[0]["series"]["loss_history"]
    assert step == 3 and values[0] == 3.0
    assert report.plot_training_curves(results).startswith(PNG_MAGIC)


def test_cli(tmp_path):
    path = write(tmp_path, results_dict())
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "grader.report", str(path)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# Feedback: assignment2")
    assert (tmp_path / "results_curves.png").is_file(), "without --out the plot goes beside results.json"
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "grader.report", str(path), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and out.read_text().startswith("<!doctype html>"), "format from the suffix"
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    proc = subprocess.run([sys.executable, "-m", "grader.report", str(bad)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "does not hold a results object" in proc.stderr
