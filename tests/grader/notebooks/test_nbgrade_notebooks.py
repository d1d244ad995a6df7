"""The notebook runner: a kernel inside the sandbox, every failure mode, and what is extracted from a notebook.

Most tests write a tiny notebook and run it with ``grader.notebooks.run_notebook`` against a small package
written by the test (a ``cs231n`` folder with one module), so they do not depend on the assignment's code.
A kernel start costs about one second. The last tests read the grade of the assignment's own notebooks
(solutions and starter, ``python -m grader grade``), run once per session by the ``graded_notebooks`` fixture
(tests/support/notebook_run.py), which test_notebooks.py shares.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import struct
import re
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import caps, notebooks
from grader.notebooks import extract_inline_answers, run_notebook
from grader.assignments.assignment2.training import TRAINING_CHECKS
from grader.sandbox import launch

from support.paths import ROOT, STARTER, SOLUTIONS as ROOT_SOLUTIONS  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")

STUDENT_MODULE = '''
import numpy as np

def scale(x, k):
    """Multiply by k, through a helper (two student frames in a traceback)."""
    return _helper(x, k)

def _helper(x, k):
    return np.asarray(x) * k + np.zeros(3)
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    pkg = tmp_path_factory.mktemp("pkg") / "cs231n"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mymod.py").write_text(STUDENT_MODULE)
    return pkg


def write_nb(path: Path, *cells) -> Path:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(c[3:]) if isinstance(c, str) and c.startswith("md:") else
                c if not isinstance(c, str) else new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def run(tmp_path, package, *cells, **kwargs):
    nb = write_nb(tmp_path / "T.ipynb", *cells)
    kwargs.setdefault("cell_timeout", 20)
    kwargs.setdefault("total_timeout", 60)
    return run_notebook(nb, package_dir=package, workdir=tmp_path / "work", artifact=tmp_path / "out" / "T.ipynb",
                        **kwargs)


def outputs(artifact) -> list[str]:
    """Text of every output of the executed notebook, one string per code cell."""
    nb = nbformat.read(str(artifact), as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            parts = []
            for o in cell.outputs:
                parts.append(o.get("text") or o.get("data", {}).get("text/plain", "") or o.get("ename", ""))
            texts.append("".join(parts))
    return texts


def test_runs_to_end_in_the_sandbox(tmp_path, package):
    result = run(
        tmp_path, package,
        "import os\nfrom cs231n.mymod import scale\nprint('uid', os.getuid(), 'cwd', os.getcwd())",
        "print(scale([1, 2, 3], 2).tolist())",
        # the data set: Fashion-MNIST through $CS231N_DATA_DIR, the test file cut to the public 1000 examples
        "import gzip, struct\nd = os.environ['CS231N_DATA_DIR']\n"
        "print('n_test', struct.unpack('>I', gzip.open(d + '/t10k-labels-idx1-ubyte.gz').read()[4:8])[0])\n"
        "print('datasets', os.listdir('/usr/share/datasets'))",
        "from past.builtins import xrange\nprint('xrange', list(xrange(3)))\n"
        "from google.colab import drive\ndrive.mount('/content/drive')",
        "open('saved.txt', 'w').write('kept')",
    )
    assert result.status == "ok", result.message
    assert (result.cells_run, result.cells_total, result.cell) == (5, 5, None)
    texts = outputs(result.executed)
    uid = int(texts[0].split()[1])
    assert uid in launch.UID_POOL, "a uid of its own, from the sandbox's pool"
    assert f"uid {uid} cwd /sandbox/work" in texts[0]
    assert texts[1].strip() == "[2.0, 4.0, 6.0]"
    assert "n_test 1000" in texts[2] and "datasets []" in texts[2]
    assert "xrange [0, 1, 2]" in texts[3] and "drive.mount('/content/drive') skipped" in texts[3]
    assert (tmp_path / "work" / "saved.txt").read_text() == "kept"
    assert not (tmp_path / "work" / "cs231n").exists(), "the package link is removed after the run"


def test_error_names_cell_section_and_student_frames(tmp_path, package):
    result = run(tmp_path, package,
                 "from cs231n.mymod import scale",
                 "md:# Scaling\nSome text.",
                 "md:## Scale a vector",
                 "y = scale([1, 2], 3)\nprint('not reached')",
                 "print('after')")
    assert result.status == "error"
    assert result.cell == 3 and result.heading == "Scale a vector"
    assert result.cells_run == 1
    msg = result.message
    assert "File cs231n/mymod.py:" in msg and "_helper" in msg and "Cell In[" in msg and "/sandbox/" not in msg
    assert msg.splitlines()[-1].startswith("ValueError: operands could not be broadcast")
    assert "site-packages" not in msg and "numpy/" not in msg and "\x1b[" not in msg
    assert outputs(result.executed)[2] == "", "cells after the failing one are not run"


def test_kernel_death_is_an_error_of_that_cell(tmp_path, package):
    result = run(tmp_path, package, "x = 1", "import os\nos._exit(7)", "print('never')")
    assert result.status == "error" and result.cell == 1
    assert "the kernel died while running this cell (exit status 7)" in result.message
    assert result.duration < 15


def test_endless_cell_times_out(tmp_path, package):
    result = run(tmp_path, package, "x = 1", "while True:\n    pass", cell_timeout=2)
    assert result.status == "timeout" and result.cell == 1
    assert "time limit of one cell (2 s)" in result.message
    assert result.duration < 12


def test_total_time_limit(tmp_path, package):
    result = run(tmp_path, package, *["import time\ntime.sleep(1.2)"] * 6, cell_timeout=30, total_timeout=4)
    assert result.status == "timeout"
    assert 1 <= result.cell <= 3 and "total time (4 s)" in result.message
    assert result.duration < 12


def test_flood_of_output_is_capped(tmp_path, package):
    result = run(tmp_path, package,
                 "print('x' * 200_000)",
                 "from IPython.display import Image, display\nimport os\n"
                 "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + os.urandom(400_000), format='png'))",
                 "while True:\n    print('y' * 10_000)", cell_timeout=4)
    assert result.status == "timeout" and result.cell == 2
    artifact = Path(result.executed)
    assert artifact.stat().st_size < 200_000
    texts = outputs(artifact)
    assert "characters truncated" in texts[0] and len(texts[0]) < 11_000
    assert "image dropped" in texts[1]
    nb = nbformat.read(str(artifact), as_version=4)
    assert all(not k.startswith("image/") for o in nb.cells[1].outputs for k in o.get("data", {}))


def test_writing_too_much_stops_the_kernel(tmp_path, package, monkeypatch):
    monkeypatch.setattr(caps, "NB_WORK_BYTES", 8 * 2**20)
    result = run(tmp_path, package, "x = 1",
                 "import time\nfor i in range(400):\n    open(f'junk{i}', 'wb').write(bytes(1 << 20))\n"
                 "    time.sleep(0.02)")
    assert result.status == "error" and result.cell == 1
    assert "the kernel was stopped: this cell wrote more than 8 MiB to its folder" in result.message
    copied = sum(p.stat().st_size for p in (tmp_path / "work").iterdir())
    assert 8 * 2**20 < copied < 100 * 2**20, "stopped soon after the limit"


def test_malformed_missing_and_not_a_notebook(tmp_path, package):
    bad = tmp_path / "Bad.ipynb"
    bad.write_text('{"cells": [ {"cell_type": "code", "source": "x"')
    result = run_notebook(bad, package_dir=package, workdir=tmp_path / "w")
    assert result.status == "invalid" and "not valid notebook JSON" in result.message
    listing = tmp_path / "List.ipynb"
    listing.write_text("[1, 2, 3]")
    assert run_notebook(listing, package_dir=package, workdir=tmp_path / "w").status == "invalid"
    missing = run_notebook(tmp_path / "Nope.ipynb", package_dir=package, workdir=tmp_path / "w")
    assert missing.status == "missing" and missing.name == "Nope.ipynb"


class _Listener:
    """A TCP server on the host's loopback that records any connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def test_shell_escapes_stay_in_the_sandbox_and_are_recorded(tmp_path, package):
    marker = f"/tmp/nbgrade-escape-{uuid.uuid4().hex}"
    listener = _Listener()
    try:
        result = run(
            tmp_path, package,
            f"!id -u; touch {marker}; ls -A {ROOT}; ls /root",
            "%%bash\n"
            f"echo bash-ran; touch /sandbox/submission/cs231n/evil.py 2>&1 | tail -1\n"
            f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {listener.port}), 1)\" 2>&1 | tail -1",
            "files = !ls /sandbox\nprint(sorted(files))",
            "print(get_ipython().getoutput('hostname'))",
        )
    finally:
        listener.close()
    assert result.status == "ok", result.message
    texts = outputs(result.executed)
    first = [line.strip() for line in texts[0].splitlines()]
    assert int(first[0]) in launch.UID_POOL and first[1] == ".venv", "of the repository only the venv is visible"
    assert "cannot access '/root'" in texts[0]
    assert "bash-ran" in texts[1] and "Read-only file system" in texts[1]
    assert "Connection refused" in texts[1] or "unreachable" in texts[1]
    assert "['data', 'harness', 'submission', 'work']" in texts[2]
    assert "sandbox" in texts[3]
    assert not os.path.exists(marker), "a shell escape wrote to the host"
    assert not (package / "evil.py").exists()
    assert listener.connections == 0
    assert [e["cell"] for e in result.shell_escapes] == [0, 1, 2, 3]
    assert result.shell_escapes[1]["line"] == "%%bash"


def test_inline_answers():
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Intro\nNo question here; the answer: none."),
        new_markdown_cell("## Inline Question 1:\nWhy?\n\n## Answer:\nBecause it saturates."),
        new_code_cell("x = 1"),
        new_markdown_cell("## Inline Question 2\nWhich one?"),
        new_markdown_cell("$\\color{blue}{\\textit Your Answer:}$ The second one.\n\nSee above."),
        new_markdown_cell("**Inline Question 3:** What now?"),
        new_markdown_cell("**Your Answer:** [FILL THIS IN]"),
        new_markdown_cell("My own notes", metadata={"tags": ["inline-answer"]}),
    ]
    answers = extract_inline_answers(nb, "X.ipynb")
    assert [(a["cell"], a["answer"]) for a in answers] == [
        (1, "Because it saturates."),
        (4, "The second one.\n\nSee above."),
        (6, ""),
        (7, "My own notes"),
    ]
    assert answers[0]["question"] == "## Inline Question 1:\nWhy?"
    assert answers[1]["question"] == "## Inline Question 2\nWhich one?"
    assert answers[3]["question"] == "**Inline Question 3:** What now?"
    assert all(a["notebook"] == "X.ipynb" for a in answers)


def test_public_data_dir_hides_the_hidden_split(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for kind, n in (("train", 50), ("t10k", 1500)):
        with gzip.open(src / f"{kind}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, 2, 2) + (bytes(range(256)) * (n * 4 // 256 + 1))[: n * 4])
        with gzip.open(src / f"{kind}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(i % 10 for i in range(n)))
    public = notebooks.public_data_dir(src, cache=tmp_path / "cache")
    assert public != src and public == notebooks.public_data_dir(src, cache=tmp_path / "cache")
    labels = gzip.open(public / "t10k-labels-idx1-ubyte.gz").read()
    assert struct.unpack(">I", labels[4:8])[0] == 1000 and len(labels) == 8 + 1000
    images = gzip.open(public / "t10k-images-idx3-ubyte.gz").read()
    assert len(images) == 16 + 1000 * 4
    assert (public / "train-labels-idx1-ubyte.gz").read_bytes() == (src / "train-labels-idx1-ubyte.gz").read_bytes()


def test_one_broken_notebook_never_stops_the_others(tmp_path, package):
    """grade_notebooks: a dying kernel, malformed JSON and a missing file each get their own result."""
    sub = tmp_path / "submission"
    (sub / "assignment2").mkdir(parents=True)
    write_nb(sub / "assignment2" / "Dies.ipynb", "import os\nos._exit(1)")
    (sub / "assignment2" / "Broken.ipynb").write_text("{ not json")
    write_nb(sub / "assignment2" / "Fine.ipynb", "md:## Inline Question 1\nWhy?", "md:**Your Answer:** fine",
             "from cs231n.mymod import scale\nopen('best_model.npz', 'wb').write(b'x')")
    write_nb(sub / "Reads.ipynb", "print(open('best_model.npz', 'rb').read())")
    specs = [{"name": n, "points": 1, "cell_timeout": 20, "total_timeout": 60}
             for n in ("Dies", "Broken", "Missing", "Fine", "Reads")]
    stale = tmp_path / "out" / "results_notebooks" / "Missing.ipynb"      # left by an earlier grade
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    grades = notebooks.grade_notebooks(sub, specs, package_dir=package, artifacts=stale.parent,
                                       keep_files=["best_model.npz", "never_saved.npz"])
    status = {r.name: r.status for r in grades.results}
    assert status == {"Dies.ipynb": "error", "Broken.ipynb": "invalid", "Missing.ipynb": "missing",
                      "Fine.ipynb": "ok", "Reads.ipynb": "ok"}
    assert [t["score"] for t in grades.tests] == [0, 0, 0, 1, 1]
    assert grades.tests[0]["output"].startswith("error at cell 0:\nthe kernel died")
    assert grades.extra_data["inline_answers"] == [
        {"notebook": "Fine.ipynb", "question": "## Inline Question 1\nWhy?", "answer": "fine", "cell": 1}]
    fine = next(r for r in grades.results if r.name == "Fine.ipynb")
    assert fine.executed == "results_notebooks/Fine.ipynb" and (tmp_path / "out" / fine.executed).is_file()
    reads = nbformat.read(str(tmp_path / "out" / "results_notebooks" / "Reads.ipynb"), as_version=4)
    assert "b'x'" in reads.cells[0].outputs[0]["text"], "notebooks share their folder, like a student's"
    assert not stale.exists(), "an earlier grade's artifact must not pass for this one's"
    assert grades.extra_data["notebook_files"] == {"best_model.npz": "results_notebooks/best_model.npz"}
    assert (tmp_path / "out" / "results_notebooks" / "best_model.npz").read_bytes() == b"x"


def test_notebook_points_count_even_when_the_upload_cannot_be_unpacked(tmp_path):
    """The maximum is honest: an upload that is not an archive still has the notebooks' points in its
    maximum (each notebook "not run"); grading without notebooks leaves them out and says so."""
    from grader.assignments import load_assignment
    from grader.pipeline import grade

    assignment = load_assignment("assignment2")
    upload = tmp_path / "submission.zip"
    upload.write_text("not a zip archive")
    results = grade(upload, "assignment2")
    nb = results.extra_data.questions[-1]
    assert (nb.id, nb.score, nb.max_score) == ("NB", 0, assignment.notebook_points)
    assert results.extra_data.max_score == assignment.max_score + assignment.notebook_points
    nb_tests = [t for t in results.tests if t.extra_data["question"] == "NB"]
    assert len(nb_tests) == 4 and all("could not be unpacked" in t.output for t in nb_tests)
    code_only = grade(upload, "assignment2", notebooks=False)
    assert [q.id for q in code_only.extra_data.questions][-1] == "Q8"
    assert code_only.extra_data.max_score == assignment.max_score and code_only.extra_data.notebooks_run is False
    assert f"The notebooks were not run (code questions only): the maximum score leaves out their " \
           f"{assignment.notebook_points:g} points." in code_only.output


def test_a_notebook_cannot_make_results_json_enormous(tmp_path):
    """The notebooks' part of extra_data is the student's text:
    a giant error message, thousands of inline questions or shell escapes are cleaned and capped."""
    from grader.assignments import load_assignment
    from grader.scoring import build_results

    assignment = load_assignment("assignment2")
    answers = [{"notebook": "A.ipynb", "question": "Q" * 50_000, "answer": f"{i} \udcff " + "a" * 100_000, "cell": i}
               for i in range(5000)]
    huge = notebooks.NotebookResult(
        name="A.ipynb", status="error", cell=3, heading="#" * 100_000, message="boom \udcff" + "m" * 2_000_000,
        shell_escapes=[{"cell": i, "line": "!ls " + "x" * 1000} for i in range(20_000)], inline_answers=answers)
    small = notebooks.NotebookResult(name="B.ipynb", status="ok", inline_answers=[
        {"notebook": "B.ipynb", "question": "Why?", "answer": "Because.", "cell": 1}])
    specs = notebooks.notebook_specs([{"name": "A", "points": 2}, {"name": "B", "points": 1}])
    grades = notebooks._grades([huge, small], specs, {"best_model.npz": "results_notebooks/best_model.npz"})
    results = build_results(assignment, {}, problems=[], notes=[], sandbox_info={"sandboxed": True}, submission={},
                            execution_time=1.0, notebooks=grades)
    results.write(tmp_path / "results.json")
    assert (tmp_path / "results.json").stat().st_size < 2 * 2**20
    extra = json.loads((tmp_path / "results.json").read_text())["extra_data"]

    kept = extra["inline_answers"]
    assert len(kept) == caps.NB_INLINE_ANSWERS + 1 and extra["inline_answers_omitted"] == 5001 - len(kept)
    assert all(len(a["answer"]) <= caps.NB_EXTRA_TEXT and len(a["question"]) <= caps.NB_QUESTION_TEXT
               for a in kept)
    a_chars = sum(len(a["answer"]) for a in kept if a["notebook"] == "A.ipynb")
    assert a_chars <= caps.NB_INLINE_TOTAL + 16 * caps.NB_INLINE_ANSWERS
    assert [a["notebook"] for a in kept].count("A.ipynb") == caps.NB_INLINE_ANSWERS, "A's first answers"
    assert kept[0]["answer"].startswith("0 ? a") and kept[0]["answer"].endswith("[... truncated]")
    assert kept[0]["cell"] == 0
    a, b = extra["notebooks"]
    assert len(a["message"]) <= caps.NB_EXTRA_TEXT and a["message"].startswith("boom ?")
    assert len(a["heading"]) <= caps.NB_SHORT_TEXT and a["cell"] == 3 and a["status"] == "error"
    assert len(a["shell_escapes"]) == caps.NB_SHELL_ESCAPES
    assert a["shell_escapes_omitted"] == 20_000 - caps.NB_SHELL_ESCAPES
    assert all(len(e["line"]) <= 200 for e in a["shell_escapes"]) and a["shell_escapes"][1]["cell"] == 1
    assert a["inline_answers"] == [x for x in kept if x["notebook"] == "A.ipynb"]
    assert b["inline_answers"] == [{"notebook": "B.ipynb", "question": "Why?", "answer": "Because.", "cell": 1}], \
        "one notebook's flood of answers does not crowd out another's"
    assert "shell_escapes_omitted" not in b and b["shell_escapes"] == []
    assert extra["notebook_files"] == {"best_model.npz": "results_notebooks/best_model.npz"}
    nb_tests = [t for t in results.tests if t.extra_data["question"] == "NB"]
    assert len(nb_tests) == 2 and len(nb_tests[0].output) <= 8000 and nb_tests[1].status == "passed"
    # a few answers stay whole and in order
    few = notebooks.capped_extra_data({"inline_answers": small.inline_answers * 3, "notebooks": []})
    assert few == {"inline_answers": small.inline_answers * 3, "notebooks": []}


def test_results_stay_writable_with_lone_surrogates_in_a_notebook(tmp_path, package):
    """A notebook's text with a lone surrogate (a "\\udcff" escape in the .ipynb) is the student's: the
    artifact and results.json are still written."""
    from grader.assignments import load_assignment
    from grader.pipeline import grade

    sub = tmp_path / "sub"
    shutil.copytree(STARTER / "cs231n", sub / "cs231n")
    path = write_nb(sub / "Dropout.ipynb", "md:## Inline Question 1\nWhy?", "md:**Your Answer:** x", "print(1)")
    path.write_text(path.read_text().replace("Answer:** x", "Answer:** \\udcff"))
    results = grade(sub, "assignment2", artifacts_dir=tmp_path / "out" / "results_notebooks")
    results.write(tmp_path / "out" / "results.json")
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    dropout = next(nb for nb in data["extra_data"]["notebooks"] if nb["name"] == "Dropout.ipynb")
    assert dropout["status"] == "ok", dropout
    assert data["extra_data"]["inline_answers"][0]["answer"] == "?"
    assert (tmp_path / "out" / "results_notebooks" / "Dropout.ipynb").is_file()
    assert len(data["extra_data"]["notebooks"]) == len(load_assignment("assignment2").notebooks)


# ------------------------------------------------------------------------------------------------------------
# The assignment's own notebooks, graded by `python -m grader grade` (the session fixture graded_notebooks of
# tests/support/notebook_run.py: the notebooks run once for the whole suite; test_notebooks.py reads the same run)
# ------------------------------------------------------------------------------------------------------------

def test_solutions_earn_the_notebook_points(graded_notebooks):
    from grader.assignments import load_assignment

    assignment = load_assignment("assignment2")
    run = graded_notebooks["solutions"]
    solved, extra = run.results, run.results["extra_data"]
    nb_question = extra["questions"][-1]
    points = assignment.notebook_points
    assert (nb_question["id"], nb_question["score"], nb_question["max_score"]) == ("NB", points, points) != ("NB", 0, 0)
    assert extra["max_score"] == assignment.max_score + points, "the notebooks' points count towards the maximum"
    assert solved["score"] == extra["max_score"], solved["output"]
    assert extra["grader_errors"] == [] and extra["notebooks_run"] is True
    assert "NB" in run.stdout and f"{points:g} / {points:g}" in run.stdout       # the question table
    runs = {nb["name"]: nb for nb in extra["notebooks"]}
    assert sorted(runs) == sorted(f"{nb.name}.ipynb" for nb in assignment.notebooks)
    assert all(nb["status"] == "ok" and nb["cells_run"] == nb["cells_total"] for nb in runs.values()), runs
    nb_tests = [t for t in solved["tests"] if t["extra_data"].get("question") == "NB"]
    assert [t["extra_data"]["notebook"] for t in nb_tests] == [f"{nb.name}.ipynb" for nb in assignment.notebooks]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] == 2 for t in nb_tests)
    assert len(extra["inline_answers"]) >= 4 and all(a["answer"] for a in extra["inline_answers"])
    assert runs["FullyConnectedNets.ipynb"]["executed"] == "results_notebooks/FullyConnectedNets.ipynb"
    executed = run.results_path.parent / runs["FullyConnectedNets.ipynb"]["executed"]
    assert "Validation set accuracy" in executed.read_text()
    assert extra["notebook_files"] == {"best_model.npz": "results_notebooks/best_model.npz"}
    # the code questions' hooks: the Solver's histories for the report, the dropout convention measured
    assert {c["id"] for c in extra["training_curves"]} == set(TRAINING_CHECKS)
    assert extra["submission"]["dropout_semantics"]["semantics"] == "keep"
    assert extra["timing"]["notebooks"] > 0


def test_the_starter_fails_at_its_first_todo_and_the_report_says_where(graded_notebooks):
    from grader import report

    run = graded_notebooks["starter"]
    starter = run.results
    assert starter["score"] == 0 and starter["extra_data"]["questions"][-1]["id"] == "NB"
    for nb in starter["extra_data"]["notebooks"]:
        # the first exercise: the first section after the title; its first code cell is where the TODO shows
        cells = nbformat.read(str(ROOT_SOLUTIONS / nb["name"]), as_version=4).cells
        sections = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("#")]
        first_exercise = next(i for i in range(sections[1], len(cells)) if cells[i].cell_type == "code")
        assert nb["status"] == "error" and nb["cell"] == first_exercise, nb
        assert nb["heading"] == cells[sections[1]].source.splitlines()[0].lstrip("# ").strip()
        assert nb["message"].splitlines()[-1].split(":")[0] in ("TypeError", "AttributeError"), nb["message"]
    text = report.render_markdown(json.loads(run.results_path.read_text()))
    fc = next(nb for nb in starter["extra_data"]["notebooks"] if nb["name"] == "FullyConnectedNets.ipynb")
    assert f"**FullyConnectedNets.ipynb**: error at cell {fc['cell']} (section \u201c{fc['heading']}\u201d)" in text
    assert starter["extra_data"]["notebook_files"] == {}, "the starter's FC notebook never reaches the save"


def test_slow_code_is_found_by_name_in_a_cell():
    slow = notebooks.SlowCode(frozenset({"conv_forward_naive", "layers"}), 5.0)
    assert slow.used_by("out, _ = conv_forward_naive(x, w, b, p)") == ["conv_forward_naive"]
    assert slow.used_by("from cs231n.layers import *") == ["layers"]
    assert slow.used_by("my_conv_forward_naive_copy(x)  # players") == []


def test_a_cell_calling_code_that_hung_in_the_code_questions_gets_the_short_limit(tmp_path, package):
    """The code questions saw ``scale`` hang: the notebook stops at the first cell using it after the short
    limit (not the notebook's 60 s cell limit), cells not using it keep their own limit, and the message
    says why the cell was given less time."""
    slow = notebooks.SlowCode(frozenset({"scale"}), 1.5)
    t0 = time.monotonic()
    result = run(tmp_path, package, "import time\ntime.sleep(2.5)\nx = 1",
                 "from cs231n.mymod import scale\nwhile True:\n    scale(1, 2)", cell_timeout=60, slow=slow)
    took = time.monotonic() - t0
    assert result.status == "timeout" and result.cell == 1, result
    assert "scale" in result.message and "1.5 s" in result.message
    assert took < 30, f"the hanging cell held the notebook {took:.0f} s"


def test_the_grade_budget_leaves_later_notebooks_unrun(tmp_path, package):
    """grade_notebooks with a deadline: each notebook gets at most the time left; one that finds none
    left is reported as not run (timeout), and still counts its points in the maximum."""
    sub = tmp_path / "submission"
    sub.mkdir()
    write_nb(sub / "Slow.ipynb", *["import time\ntime.sleep(1)"] * 30)
    write_nb(sub / "Later.ipynb", "x = 1")
    specs = [{"name": n, "points": 1, "cell_timeout": 20, "total_timeout": 120} for n in ("Slow", "Later")]
    grades = notebooks.grade_notebooks(sub, specs, package_dir=package, deadline=time.monotonic() + 8)
    slow, later = grades.results
    assert slow.status == "timeout" and re.search(r"total time \([78] s\)", slow.message), slow.message
    assert later.status == "timeout" and later.message.startswith("not run: the time this submission may take")
    assert [t["max_score"] for t in grades.tests] == [1, 1] and [t["score"] for t in grades.tests] == [0, 0]
