"""Every cap on what the grader keeps of a submission's text and data, declared once, each with what it bounds.

The student controls the text these bound (exception messages, printed output, training histories,
notebook outputs, inline answers): it reaches ``results.json``, the report and the service only through
them. A cap is an ``int`` that also knows its name and what it bounds; ``python -m grader caps`` lists
them all. (Limits on running code -- seconds, memory, processes -- are the manifest's ``[limits]`` and
``grader.sandbox.launch.Limits``; limits on archives are ``grader.unpack.ArchiveLimits``.)
"""
from __future__ import annotations

CAPS: dict[str, "Cap"] = {}


class Cap(int):
    """``Cap("TEST_OUTPUT", 8000, "characters of one test's output")`` is 8000, registered in ``CAPS``."""

    name: str
    what: str

    def __new__(cls, name: str, value: int, what: str) -> "Cap":
        if name in CAPS:
            raise ValueError(f"cap {name} is declared twice")
        cap = super().__new__(cls, value)
        cap.name, cap.what = name, what
        CAPS[name] = cap
        return cap

    def __reduce__(self):
        return (int, (int(self),))


# ---- results.json (grader.scoring) ----------------------------------------------------------------------
TEST_OUTPUT = Cap("TEST_OUTPUT", 8000, "characters of one test's output (and of one grader error)")
PROBLEM = Cap("PROBLEM", 2000, "characters of one problem or note line of the top-level output")
TOP_OUTPUT = Cap("TOP_OUTPUT", 30000, "characters of the top-level output")
META_STR = Cap("META_STR", 1000, "characters of one string in extra_data.submission and extra_data.sandbox")
CURVES = Cap("CURVES", 12, "entries of extra_data.training_curves (one plotted row of the report each)")
CURVE_KEYS = Cap("CURVE_KEYS", 16, "keys of one training curve entry")
CURVE_POINTS = Cap("CURVE_POINTS", 5000, "values of one history of a training curve")
CURVE_TEXT = Cap("CURVE_TEXT", 200, "characters of a training curve's id or title")

# ---- feedback of one test (grader.suites.plugin) ---------------------------------------------------------
FEEDBACK = Cap("FEEDBACK", 5000, "characters of any one test's feedback")
FEEDBACK_MESSAGE = Cap("FEEDBACK_MESSAGE", 600, "characters of the student's exception message in feedback")
FEEDBACK_TRACEBACK = Cap("FEEDBACK_TRACEBACK", 3000, "characters of the student's traceback in feedback")
FEEDBACK_TYPE = Cap("FEEDBACK_TYPE", 100, "characters of the student's exception type name in feedback")

# ---- what the worker answers (grader.sandbox.proxy; the worker caps the same itself) ---------------------
ERROR_TYPE = Cap("ERROR_TYPE", 200, "characters of an exception type the worker reports")
ERROR_MESSAGE = Cap("ERROR_MESSAGE", 4000, "characters of an exception message the worker reports")
ERROR_TRACEBACK = Cap("ERROR_TRACEBACK", 16000, "characters of a traceback the worker reports")
CALL_OUTPUT = Cap("CALL_OUTPUT", 64 * 1024, "characters of what one call printed (the tail)")

# ---- the notebooks' part of extra_data (grader.notebooks.extra): the student's text ------------------------
NB_EXTRA_TEXT = Cap("NB_EXTRA_TEXT", 20_000, "characters of one string (an inline answer, an error message)")
NB_SHORT_TEXT = Cap("NB_SHORT_TEXT", 1_000, "characters of a notebook's name, a heading or a file path")
NB_QUESTION_TEXT = Cap("NB_QUESTION_TEXT", 2_000, "characters of the question of an inline answer")
NB_INLINE_ANSWERS = Cap("NB_INLINE_ANSWERS", 30, "inline answers kept per notebook")
NB_INLINE_TOTAL = Cap("NB_INLINE_TOTAL", 100_000, "characters of all kept answers of one notebook together")
NB_INLINE_ALL = Cap("NB_INLINE_ALL", 200, "inline answers kept in all")
NB_SHELL_ESCAPES = Cap("NB_SHELL_ESCAPES", 50, "shell escapes listed per notebook")
NB_EXTRA_ITEMS = Cap("NB_EXTRA_ITEMS", 100, "entries of any other list or dict (notebooks, notebook_files)")

# ---- a notebook while it runs and its executed copy (grader.notebooks) -----------------------------------
NB_FILE_BYTES = Cap("NB_FILE_BYTES", 50 * 2**20, "bytes of a submitted .ipynb (a bigger one is 'invalid')")
NB_LIVE_OUTPUT_BYTES = Cap("NB_LIVE_OUTPUT_BYTES", 4 * 2**20, "bytes of outputs kept per cell while it runs")
NB_MESSAGE_BYTES = Cap("NB_MESSAGE_BYTES", 64 * 2**20, "bytes of one kernel message (bigger: the connection closes)")
NB_WORK_BYTES = Cap("NB_WORK_BYTES", 512 * 2**20, "bytes a kernel may write to its working folder in all")
NB_WORK_FILES = Cap("NB_WORK_FILES", 10_000, "files and folders a kernel may create in its working folder")
NB_ARTIFACT_TEXT = Cap("NB_ARTIFACT_TEXT", 10_000, "characters per text output kept in the executed notebook")
NB_ARTIFACT_IMAGE = Cap("NB_ARTIFACT_IMAGE", 256 * 1024, "base64 characters of one image kept in it")
NB_ARTIFACT_IMAGES = Cap("NB_ARTIFACT_IMAGES", 40, "images kept per executed notebook")
NB_TRACEBACK_LINES = Cap("NB_TRACEBACK_LINES", 60, "lines of an error traceback kept in it")

# ---- a grade run as a child process (grader.child: the service's workers and grade-batch) --------------
GRADE_LOG = Cap("GRADE_LOG", 1 << 20, "bytes of one grade's log kept (its head and its tail)")

# ---- the report (grader.report) ---------------------------------------------------------------------------
REPORT_TEXT = Cap("REPORT_TEXT", 4000, "characters of one test output or message shown in the report")


def table() -> str:
    """The caps as a text table (``python -m grader caps``)."""
    width = max(len(n) for n in CAPS)
    return "\n".join(f"{name:<{width}}  {int(cap):>8}  {cap.what}" for name, cap in CAPS.items())
