"""A submission's notebooks, each run top to bottom with its Jupyter kernel in a sandbox of its own.

The package, in the order a grade goes through it:

    read.py     loading and validating an .ipynb; what is read from its cells before it runs: the
                section (markdown heading) of a cell, shell escapes, the inline answers
    caches.py   folders every kernel reads, built once: the public data set, matplotlib's font list
    kernel.py   the kernel in the sandbox: its environment, limits, command line and mounts (``SANDBOX_*``),
                ``SandboxedKernelManager``, ``CappedClient`` (the notebook client that caps live outputs)
    run.py      ``run_notebook``: one notebook in a fresh stage, its writes watched (``_DiskWatch``); cells
                calling code that hung in the code questions get a short limit (``SlowCode``)
    result.py   what one run gives: ``NotebookResult`` (``STATUSES``), ``NotebookInfraError``
    outputs.py  the student's part of a traceback; the executed notebook, outputs capped, as an artifact
    grade.py    the manifest's notebooks: ``grade_notebooks`` / ``not_run`` -> ``NotebookGrades`` (a test
                per notebook with points, the reports for extra_data), ``artifacts_dir``
    extra.py    ``NOTEBOOK_QUESTION`` and the notebooks' part of extra_data, capped (``capped_extra_data``;
                the caps are ``grader.caps``' ``NB_*``)

``grader.pipeline`` calls ``grade_notebooks`` (or ``not_run``); ``grader.scoring.build_results`` makes the
tests of the ``NotebookGrades`` its question ``NB`` and adds ``capped_extra_data`` to ``extra_data``.
"""
from grader.notebooks.caches import matplotlib_cache, public_data_dir
from grader.notebooks.extra import NOTEBOOK_QUESTION, capped_extra_data
from grader.notebooks.grade import (NotebookGrades, NotebookSpec, artifacts_dir, grade_notebooks, not_run,
                                    notebook_specs)
from grader.notebooks.grade import _grades  # noqa: F401 - private, but the tests build grades with it
from grader.notebooks.kernel import SANDBOX_SHIMS
from grader.notebooks.read import InvalidNotebook, extract_inline_answers, heading_above, load_notebook
from grader.notebooks.result import STATUSES, NotebookInfraError, NotebookResult
from grader.notebooks.run import SlowCode, run_notebook

__all__ = [
    "NOTEBOOK_QUESTION", "SANDBOX_SHIMS", "STATUSES",
    "InvalidNotebook", "NotebookGrades", "NotebookInfraError", "NotebookResult", "NotebookSpec", "SlowCode", "artifacts_dir",
    "capped_extra_data", "extract_inline_answers", "grade_notebooks", "heading_above", "load_notebook",
    "matplotlib_cache", "not_run", "notebook_specs", "public_data_dir", "run_notebook",
]
