"""What one notebook run gives: ``NotebookResult`` (its ``status`` one of ``STATUSES``), and
``NotebookInfraError`` when the grader could not run it at all."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("ok", "error", "timeout", "missing", "invalid", "not_gradable")
NOT_GRADABLE_CIFAR = "not gradable here: CIFAR-10 not provided"


class NotebookInfraError(RuntimeError):
    """The grader could not run the notebook at all (sandbox or kernel would not start): not the student's fault."""


@dataclass
class NotebookResult:
    """The outcome of one notebook.

    - name: file name of the notebook (``FullyConnectedNets.ipynb``)
    - status: one of ``STATUSES``: ``ok`` (every code cell ran), ``error`` (a cell raised, or the kernel
      died), ``timeout`` (a cell or the whole notebook ran out of time), ``missing`` (not in the
      submission), ``invalid`` (not a notebook), ``not_gradable`` (it stopped for want of a data set the
      instructor did not give the grader, CIFAR-10: left out of the maximum, never charged to the student)
    - cell: index in ``nb.cells`` of the failing cell (None when ok/missing/invalid)
    - heading: the last markdown heading above the failing cell ("" if none)
    - message: the error, with the student's part of the traceback (notebook cells and ``cs231n/`` files)
    - duration: wall-clock seconds, kernel start included
    - cells_total / cells_run: code cells in the notebook / code cells that finished
    - shell_escapes: [{"cell": int, "line": str}] IPython shell escapes found in code cells (they run inside
      the sandbox like any other code; they are recorded so that a teacher can see them)
    - inline_answers: [{"notebook", "question", "answer", "cell"}] (``read.extract_inline_answers``)
    - executed: path of the executed-notebook artifact, or None
    - grader_problem: the kernel could not start at all (the grader's fault, reported as a grader error)
    """

    name: str
    status: str
    cell: int | None = None
    heading: str = ""
    message: str = ""
    duration: float = 0.0
    cells_total: int = 0
    cells_run: int = 0
    shell_escapes: list[dict] = field(default_factory=list)
    inline_answers: list[dict] = field(default_factory=list)
    executed: str | None = None
    grader_problem: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
