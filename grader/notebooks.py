"""Run a submission's notebooks with a Jupyter kernel that lives inside the sandbox.

Trusted side (this module)                      Sandbox (bwrap, a uid of its own, no network)
--------------------------                      ---------------------------------------------
nbclient drives the notebook cell by cell  <--> ipykernel (``python -m ipykernel_launcher -f kernel.json``)
over ZeroMQ's IPC transport: the sockets            sees /usr and the venv (read-only), the student's
are files in a private folder, bind-mounted         package as ``cs231n`` (read-only, on the import path
read-write at the same path inside, so the          and linked from its cwd), the data set (read-only, at
connection file names the same paths on             ``$CS231N_DATA_DIR``; the hidden test split cut off),
both sides.                                         the grader's shims (read-only), its cwd (read-write),
                                                    a private size-limited /tmp.

The sandbox command line comes from ``grader.sandbox.launch.sandbox_command`` (the one place that builds
bwrap/setpriv/prlimit lines); this module only says what to mount. Each run gets a fresh folder (a *stage*:
package copy, cwd, IPC folder) under the system temp folder, owned by the kernel's uid where needed and
removed afterwards; what the kernel writes there is capped in total (``_DiskWatch``) and nothing it
creates is ever followed (only regular files are copied back). The kernel process group is killed at
the end whatever happened.

One notebook gives one ``NotebookResult``:

- ``status``: ``ok`` (every code cell ran), ``error`` (a cell raised, or the kernel died), ``timeout`` (a cell
  or the whole notebook ran out of time), ``missing`` (not in the submission), ``invalid`` (not a notebook);
- ``cell``: index (0-based, in ``nb.cells``) of the cell that failed, ``heading``: the markdown heading above it;
- ``message``: what went wrong, with only the student's frames of the traceback (notebook cells and
  ``cs231n/`` files);
- ``shell_escapes``: every ``!cmd`` / ``%%bash`` / ``%system`` line (they run inside the sandbox like any
  other code, as the same unprivileged user; they are recorded so that a teacher can see them);
- ``inline_answers``: the written answers (see ``extract_inline_answers``).

The executed notebook is written as an artifact with its outputs capped (``cap_outputs``). The grade flow
uses ``grade_notebooks`` (all notebooks of the manifest, points for running to the end);
``grader.scoring.build_results`` makes their question ``NB`` of results.json.
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import dataclasses
import gzip
import hashlib
import inspect
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import nbformat
import numpy as np
import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from grader.text import TRUNCATED, clean, clean_tree
from grader.tmpdirs import private_tmpdir

STATUSES = ("ok", "error", "timeout", "missing", "invalid")

#: Where things appear inside the sandbox (the kernel's view). The package is where the worker has it too.
SANDBOX_SUBMISSION = "/sandbox/submission"          # holds cs231n/ (read-only); on the import path
SANDBOX_WORKDIR = "/sandbox/work"                   # the kernel's cwd, read-write; cs231n -> the package
SANDBOX_DATA = "/sandbox/data"                      # the data set, read-only; ``$CS231N_DATA_DIR``
SANDBOX_SHIMS = "/sandbox/harness/shims"            # trusted compatibility modules (``past.builtins``)

#: Trusted compatibility modules put on the kernel's import path (``from past.builtins import xrange``).
SHIMS_DIR = Path(__file__).resolve().parent / "sandbox" / "inside" / "shims"
SYSTEM_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
PUBLIC_TEST_EXAMPLES = 1000         # notebooks see t10k[:1000]; the rest is the grader's hidden split

MAX_NOTEBOOK_BYTES = 50 * 2**20     # a bigger .ipynb is "invalid" (real ones with outputs are a few MB)
LIVE_CELL_OUTPUT_BYTES = 4 * 2**20  # outputs kept in memory per cell while running; the rest is dropped
ZMQ_MAX_MESSAGE_BYTES = 64 * 2**20  # a bigger kernel message closes the connection (-> cell times out)
TEXT_CAP = 10_000                   # characters kept per text output in the artifact (head + tail)
IMAGE_CAP = 256 * 1024              # base64 characters of one image kept in the artifact
MAX_IMAGES = 40                     # images kept per notebook artifact
KERNEL_START_ATTEMPTS = 3           # a kernel that cannot start is tried again (nothing of the notebook ran)
MAX_WORK_BYTES = 512 * 2**20       # what a kernel may write to its (host) working folder in all
MAX_WORK_FILES = 10_000             # files and folders it may create there
TRACEBACK_LINES = 60                # lines of an error traceback kept in the artifact

_PACKAGE_PATHS = (SANDBOX_SUBMISSION + "/cs231n/", SANDBOX_WORKDIR + "/cs231n/")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.+?)\s*#*\s*$", re.M)
_INLINE_Q = re.compile(r"inline\s+question", re.I)
# "## Answer:", "**Your Answer:**", "$\color{blue}{\textit Your Answer:}$", "Your answer:" ...
_ANSWER_MARK = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\$\\color\{\w+\}\{\\textit\{?[ \t]*)?[*_ \t]*(?:your[ \t]+)?answer[*_ \t]*:"
    r"[*_ \t]*\}?\}?\$?[*_ \t]*",
    re.I | re.M,
)
_FILL_IN = re.compile(r"^\s*\[?\s*(fill this in|fill in)\s*\.?\s*\]?\s*$", re.I)
# IPython syntax that runs a shell command: "!cmd", "!!cmd", "x = !cmd", "%system", "%sx", "%sc", "%%bash" ...
_SHELL_LINE = re.compile(r"^\s*(?:[\w\s,]+=\s*)?(!!?|%sx\b|%system\b|%sc\b)")
_SHELL_CELL = re.compile(r"^\s*%%(bash|sh|script|system|sx|perl|ruby)\b")
_SHELL_CALL = re.compile(r"get_ipython\(\)\s*\.\s*(system|getoutput)\s*\(")


class NotebookInfraError(RuntimeError):
    """The grader could not run the notebook at all (sandbox or kernel would not start): not the student's fault."""


@dataclass
class NotebookResult:
    """The outcome of one notebook.

    - name: file name of the notebook (``FullyConnectedNets.ipynb``)
    - status: one of ``STATUSES``
    - cell: index in ``nb.cells`` of the failing cell (None when ok/missing/invalid)
    - heading: the last markdown heading above the failing cell ("" if none)
    - message: the error, with the student's part of the traceback
    - duration: wall-clock seconds, kernel start included
    - cells_total / cells_run: code cells in the notebook / code cells that finished
    - shell_escapes: [{"cell": int, "line": str}] IPython shell escapes found in code cells
    - inline_answers: [{"notebook", "question", "answer", "cell"}]
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

    @property
    def ran_to_end(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------------------------
# Reading a notebook and what can be learnt from it without running it
# ----------------------------------------------------------------------------------------------------------

class InvalidNotebook(ValueError):
    """The file is not a notebook we can run (bad JSON, not nbformat 4, too big)."""


def load_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read ``path`` as an nbformat-4 notebook with every code cell's outputs cleared.

    Raises ``InvalidNotebook`` for a file that is too big, is not JSON, or has no list of cells. A notebook
    that parses but does not pass nbformat's schema (Colab adds odd metadata) is still run.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"{path.name} is {size / 2**20:.0f} MB (limit {MAX_NOTEBOOK_BYTES // 2**20} MB)")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidNotebook(f"{path.name} is not valid notebook JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidNotebook(f"{path.name} is JSON but not a notebook (no list of cells)")
    try:
        with_warnings = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as e:  # nbformat raises several types for malformed structures
        raise InvalidNotebook(f"{path.name} is not a readable notebook: {type(e).__name__}: {e}") from None
    for cell in with_warnings.cells:
        if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook(f"{path.name} has a malformed cell")
        cell.setdefault("metadata", nbformat.NotebookNode())
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return with_warnings


def _markdown_headings(source: str) -> list[str]:
    return [m.group(1).strip() for m in _HEADING.finditer(source)]


def heading_above(nb: nbformat.NotebookNode, index: int) -> str:
    """The last markdown heading in the cells before ``index`` (the section a failing cell belongs to)."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            headings = _markdown_headings(cell.source)
            if headings:
                return headings[-1]
    return ""


def find_shell_escapes(nb: nbformat.NotebookNode) -> list[dict]:
    """Every line of a code cell that runs a shell command through IPython: ``[{"cell": i, "line": str}]``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        if lines and _SHELL_CELL.match(lines[0]):
            found.append({"cell": index, "line": lines[0].strip()})
            continue
        for line in lines:
            if _SHELL_LINE.match(line) or _SHELL_CALL.search(line):
                found.append({"cell": index, "line": line.strip()[:200]})
    return found


def _clean_answer(text: str) -> str:
    text = text.strip()
    return "" if _FILL_IN.match(text) else text


def _split_question_answer(source: str) -> tuple[str, str | None]:
    """Split a markdown cell at its "Answer:" line: (question, answer) or (source, None) without one."""
    for m in _ANSWER_MARK.finditer(source):
        if m.start() == 0 and _INLINE_Q.search(source[: m.end()]):
            continue
        return source[: m.start()].strip(), _clean_answer(source[m.end():])
    return source.strip(), None


def extract_inline_answers(nb: nbformat.NotebookNode, notebook: str) -> list[dict]:
    """The written answers of a notebook: ``[{"notebook", "question", "answer", "cell"}]``.

    A question is a markdown cell with an "Inline Question" heading (or line). Its answer is, in order of
    preference: the text after an "Answer:" line in the same cell (the classic "## Answer: [FILL THIS IN]"
    layout), else the next non-empty markdown cell (its "Your Answer:" label removed). A markdown cell tagged
    ``inline-answer`` is always an answer, to the last question above it (or to nothing: question "").
    ``cell`` is the index of the cell holding the answer. An unanswered "[FILL THIS IN]" gives "".
    """
    answers: list[dict] = []
    taken: set[int] = set()
    question = ""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "inline-answer" in tags:
            if index not in taken:
                answers.append({"notebook": notebook, "question": question,
                                "answer": _clean_answer(_split_question_answer(cell.source)[1] or cell.source),
                                "cell": index})
                taken.add(index)
            continue
        if not _INLINE_Q.search(cell.source):
            continue
        question, answer = _split_question_answer(cell.source)
        if answer is not None:
            answers.append({"notebook": notebook, "question": question, "answer": answer, "cell": index})
            continue
        for nxt in range(index + 1, len(nb.cells)):
            follow = nb.cells[nxt]
            if follow.cell_type != "markdown" or not follow.source.strip():
                continue
            if _INLINE_Q.search(follow.source):
                break
            label_free = _split_question_answer(follow.source)[1]
            answers.append({"notebook": notebook, "question": question,
                            "answer": _clean_answer(follow.source if label_free is None else label_free),
                            "cell": nxt})
            taken.add(nxt)
            break
    return answers


# ----------------------------------------------------------------------------------------------------------
# Errors and outputs
# ----------------------------------------------------------------------------------------------------------

def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def student_traceback(ename: str, evalue: str, traceback: Iterable[str],
                      package_paths: Iterable[str] = _PACKAGE_PATHS) -> str:
    """The student's part of an IPython traceback, as plain text.

    IPython sends one string per frame (first line ``Cell In[3], line 5`` or ``File /path.py:12, in f(x)``).
    Frames of notebook cells and of the student's package (under one of ``package_paths``) are kept, shown
    as ``cs231n/...``;
    frames of NumPy, IPython and the standard library are dropped. The last line is ``ename: evalue``.
    """
    kept = []
    for frame in traceback:
        text = strip_ansi(frame)
        head = text.lstrip().split("\n", 1)[0]
        if head.startswith("Cell In"):
            kept.append(text.rstrip("\n"))
        elif head.startswith("File ") and any(p in head for p in package_paths):
            for p in package_paths:
                text = text.replace(p, "cs231n/")
            kept.append(text.rstrip("\n"))
    kept.append(f"{ename}: {strip_ansi(evalue)}".rstrip())
    return "\n".join(kept)


def _output_bytes(out: dict) -> int:
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    size = 0
    for key in ("data", "traceback"):
        value = out.get(key)
        if isinstance(value, dict):
            size += sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in value.values())
        elif isinstance(value, list):
            size += sum(len(v) for v in value)
    return size


def _truncate(text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    head, tail = cap * 2 // 3, cap // 3
    return f"{text[:head]}\n... [grader: {len(text) - head - tail} characters truncated] ...\n{text[-tail:]}"


def cap_outputs(nb: nbformat.NotebookNode, *, text_cap: int = TEXT_CAP, image_cap: int = IMAGE_CAP,
                max_images: int = MAX_IMAGES) -> dict[str, int]:
    """Shrink the outputs of ``nb`` in place so the artifact stays small; returns counts of what was cut.

    Text outputs keep their first and last characters (``text_cap`` in all); an image (any ``image/*`` entry)
    bigger than ``image_cap`` base64 characters, or beyond the first ``max_images`` of the notebook, is
    replaced by a one-line note; HTML/JS/LaTeX bigger than ``text_cap`` is dropped (the plain text stays);
    error tracebacks keep their last ``TRACEBACK_LINES`` lines.
    """
    cut = {"texts_truncated": 0, "images_dropped": 0}
    images = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                text = out.get("text", "")
                if len(text) > text_cap:
                    out["text"] = _truncate(text, text_cap)
                    cut["texts_truncated"] += 1
            elif kind == "error":
                tb = out.get("traceback", [])
                tb = tb[-TRACEBACK_LINES:]
                out["traceback"] = [_truncate(line, text_cap) for line in tb]
                out["evalue"] = _truncate(out.get("evalue", ""), text_cap)
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                for mime in list(data):
                    value = data[mime]
                    if not isinstance(value, str):
                        value = json.dumps(value)
                        if len(value) > text_cap:
                            del data[mime]
                            cut["texts_truncated"] += 1
                        continue
                    if mime.startswith("image/"):
                        images += 1
                        if len(value) > image_cap or images > max_images:
                            del data[mime]
                            note = f"[grader: image dropped ({len(value) // 1024} kB)]"
                            data["text/plain"] = (data.get("text/plain", "") + "\n" + note).strip()
                            cut["images_dropped"] += 1
                    elif len(value) > text_cap:
                        if mime == "text/plain":
                            data[mime] = _truncate(value, text_cap)
                        else:
                            del data[mime]
                        cut["texts_truncated"] += 1
                if "text/plain" not in data and not data:
                    data["text/plain"] = "[grader: output dropped]"
                out.get("metadata", {}).clear()
    return cut


# ----------------------------------------------------------------------------------------------------------
# The kernel in the sandbox
# ----------------------------------------------------------------------------------------------------------

def public_data_dir(source: str | Path = SYSTEM_DATA_DIR, cache: str | Path | None = None) -> Path:
    """A folder with the data set as the notebooks may see it: Fashion-MNIST's training files, and its test
    files cut to the first ``PUBLIC_TEST_EXAMPLES`` examples (the rest is the grader's hidden split).

    Built once per source (keyed by the files' sizes and times) under ``cache`` (default: the system temp
    folder), readable by everyone. A ``source`` without the four IDX files is returned unchanged (CIFAR-10
    or another data set prepared by the instructor).
    """
    source = Path(source)
    names = [f"{kind}-{part}-idx{n}-ubyte.gz" for kind in ("train", "t10k")
             for part, n in (("images", 3), ("labels", 1))]
    if not all((source / n).is_file() for n in names):
        return source
    key = hashlib.sha256(repr([(n, (source / n).stat().st_size, (source / n).stat().st_mtime_ns)
                               for n in names]).encode()).hexdigest()[:16]
    dest = Path(cache or tempfile.gettempdir()) / "cs231n-grader-data" / f"fashion-mnist-public-{key}"
    if (dest / names[-1]).is_file():
        return dest

    def build(tmp: Path) -> None:
        for name in names:
            if name.startswith("train"):
                shutil.copyfile(source / name, tmp / name)
                continue
            with gzip.open(source / name, "rb") as f:
                data = f.read()
            ndim = data[3]
            shape = list(struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim]))
            keep = min(shape[0], PUBLIC_TEST_EXAMPLES)
            row = int(np.prod(shape[1:], dtype=np.int64))
            header = data[:4] + struct.pack(f">{ndim}I", keep, *shape[1:])
            with gzip.open(tmp / name, "wb", compresslevel=1) as f:
                f.write(header + data[4 + 4 * ndim: 4 + 4 * ndim + keep * row])

    return _publish(dest, build)


def _publish(dest: Path, build) -> Path:
    """Build a shared cache folder once: ``build(tmp)`` fills a fresh folder beside ``dest``, whose files are
    then made readable by all (the sandboxes read them) and which is renamed to ``dest`` -- atomically, so a
    reader never sees half of it; when another process got there first, this copy is dropped."""
    dest.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="building-", dir=dest.parent))
    try:
        build(tmp)
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        tmp.rename(dest)
    except OSError:  # built meanwhile by another process
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def matplotlib_cache(cache: str | Path | None = None) -> Path:
    """A folder holding matplotlib's font list, built once per matplotlib version (by a trusted subprocess).

    Each kernel gets a copy as its ``MPLCONFIGDIR``: without it every kernel (a fresh, empty /tmp) would
    scan the fonts again on its first plot, about 0.3 s per notebook.
    """
    import matplotlib

    dest = Path(cache or tempfile.gettempdir()) / "cs231n-grader-data" / f"matplotlib-{matplotlib.__version__}"
    if dest.is_dir() and any(dest.glob("fontlist-*.json")):
        return dest

    def build(tmp: Path) -> None:
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=False, timeout=120,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MPLCONFIGDIR": str(tmp),
                            "HOME": str(tmp)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return _publish(dest, build)


def kernel_env(extra: dict[str, str] | None = None, *, sandboxed: bool = True, package_parent: str = "",
               data_dir: str = "", shims: str = str(SHIMS_DIR), mplconfig: str = "/tmp/matplotlib") -> dict[str, str]:
    """The kernel's whole environment (nothing is inherited from the grader's process)."""
    from grader.sandbox import launch

    env = dict(launch.BASE_ENV)
    env.update({
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{SANDBOX_SUBMISSION}:{SANDBOX_SHIMS}" if sandboxed else f"{package_parent}:{shims}",
        "CS231N_DATA_DIR": SANDBOX_DATA if sandboxed else data_dir,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": mplconfig,
    })
    env.update(extra or {})
    return env


def kernel_limits(total_timeout: float, base: Any = None):
    """The launch module's limits for a kernel: CPU time to match the notebook's total time, a bigger /tmp,
    and ``uid=None``: each kernel runs as a uid of its own from ``launch.UID_POOL``."""
    from grader.sandbox import launch

    base = base or launch.Limits()
    return dataclasses.replace(base, cpu_seconds=max(base.cpu_seconds, int(total_timeout) + 60),
                               tmp_mb=max(base.tmp_mb, 256), uid=None, gid=None)


def _kernel_command(argv: list[str], *, package_dir: Path, data_dir: Path, shims: Path, workdir: Path,
                    socket_dir: Path, limits: Any, env: dict[str, str]) -> list[str]:
    """The full command line that starts ``argv`` (the kernel) inside the sandbox.

    Built by ``grader.sandbox.launch.sandbox_command`` (system, venv, a private /tmp, no network, an
    unprivileged uid, rlimits) with these mounts: ``package_dir`` read-only at ``SANDBOX_SUBMISSION/cs231n``,
    ``data_dir`` and the shims read-only, and read-write: ``workdir`` at ``SANDBOX_WORKDIR`` (the kernel's cwd) and
    ``socket_dir`` (ZeroMQ IPC sockets and the connection file) at its own path, so that the socket paths
    in the connection file are the same on both sides.
    """
    from grader.sandbox import launch

    binds_ro = {SANDBOX_SUBMISSION + "/cs231n": str(package_dir), SANDBOX_DATA: str(data_dir),
                SANDBOX_SHIMS: str(shims)}
    binds_rw = {SANDBOX_WORKDIR: str(workdir), str(socket_dir): str(socket_dir)}
    if "binds_rw" in inspect.signature(launch.sandbox_command).parameters:
        return launch.sandbox_command(argv, binds_ro=binds_ro, binds_rw=binds_rw, limits=limits, env=env,
                                      chdir=SANDBOX_WORKDIR)
    # The launch module has no read-write binds yet: add them right after its read-only binds (bwrap
    # applies its arguments in order: after the /tmp tmpfs, before the final read-only remounts).
    cmd = launch.sandbox_command(argv, binds_ro=binds_ro, limits=limits, env=env, chdir=SANDBOX_WORKDIR)
    at = cmd.index("--remount-ro")
    rw = [a for dest in sorted(binds_rw) for a in ("--bind", binds_rw[dest], dest)]
    return cmd[:at] + rw + cmd[at:]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in the sandbox.

    The connection file (it holds the HMAC key) is owned by the kernel's uid with mode 0600, in a folder only
    that uid (and root, the grader) can enter.
    """

    def __init__(self, *, wrap, owner: int | None = None, **kwargs):
        super().__init__(transport="ipc", **kwargs)
        self._wrap = wrap
        self._owner = owner

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self._owner is not None:
            os.chown(self.connection_file, self._owner, self._owner)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
                "--HistoryManager.enabled=False", "--IPKernelApp.log_level=CRITICAL"]
        return self._wrap(argv)


class _CappedClient(NotebookClient):
    """A NotebookClient that stops keeping a cell's outputs once they pass ``LIVE_CELL_OUTPUT_BYTES``."""

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self.kept_bytes: dict[int, int] = {}
        self.dropped: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):
        if self.kept_bytes.get(cell_index, 0) > LIVE_CELL_OUTPUT_BYTES:
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + 1
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self.kept_bytes[cell_index] = self.kept_bytes.get(cell_index, 0) + _output_bytes(out)
        return out

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self.kept_bytes[cell_index] = 0


def _note_dropped(client: _CappedClient, cell, index: int) -> None:
    if client.dropped.get(index):
        cell.outputs.append(nbformat.v4.new_output(
            "stream", name="stderr", text=f"[grader: {client.dropped[index]} further outputs of this cell dropped]\n"))


class _DiskWatch:
    """Bounds what the kernel writes to the host folders bind-mounted read-write (its cwd, the IPC folder).

    RLIMIT_FSIZE caps each file; this caps their sum and their number, checked every ``period`` seconds
    while the notebook runs. ``over()`` says what was exceeded (or None).
    """

    def __init__(self, folders: Iterable[Path], max_bytes: int | None = None, max_files: int | None = None):
        self.folders = list(folders)
        self.max_bytes = MAX_WORK_BYTES if max_bytes is None else max_bytes
        self.max_files = MAX_WORK_FILES if max_files is None else max_files

    def over(self) -> str | None:
        total = files = 0
        for folder in self.folders:
            for root, dirs, names in os.walk(folder):
                files += len(names) + len(dirs)
                if files > self.max_files:
                    return f"created more than {self.max_files} files in its folder"
                for name in names:
                    try:
                        total += os.lstat(os.path.join(root, name)).st_blocks * 512
                    except OSError:
                        continue
                if total > self.max_bytes:
                    return f"wrote more than {self.max_bytes // 2**20} MiB to its folder"
        return None


async def _watch_disk(client, watch: _DiskWatch, tripped: dict[str, str], period: float = 1.0) -> None:
    while True:
        await asyncio.sleep(period)
        reason = await asyncio.to_thread(watch.over)
        if reason:
            tripped["reason"] = reason
            with contextlib.suppress(Exception):
                await client.km.signal_kernel(signal.SIGKILL)
            return


async def _execute(nb, client: _CappedClient, result: NotebookResult, *, cell_timeout: float,
                   total_timeout: float, started: float, launch: dict[str, Any], watch: _DiskWatch,
                   processes: list, package_paths: tuple[str, ...] = _PACKAGE_PATHS) -> None:
    """Run the code cells of ``nb`` one by one; fill in ``result`` (status, cell, message, cells_run).

    ``launch``: keyword arguments for starting the kernel process (env, cwd, stderr); the started process
    is appended to ``processes`` (the caller makes sure it is gone).
    """
    deadline = started + total_timeout
    current: dict[str, float] = {"limit": cell_timeout}
    client.timeout_func = lambda _cell: current["limit"]
    client.startup_timeout = max(5, int(min(60.0, total_timeout)))
    tripped: dict[str, str] = {}
    try:
        # cleanup_kc: nbclient only stops kernels it created itself; this one must be killed as well.
        async with client.async_setup_kernel(stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cleanup_kc=True,
                                             **launch):
            processes.append(client.km.provisioner.process)
            watcher = asyncio.ensure_future(_watch_disk(client, watch, tripped))
            try:
                await _run_cells(nb, client, result, cell_timeout, total_timeout, deadline, current, tripped,
                                 package_paths)
            finally:
                watcher.cancel()
    except (RuntimeError, TimeoutError, zmq.ZMQError) as e:
        if result.cells_run == 0 and result.status == "ok":
            raise NotebookInfraError(f"the kernel did not start in the sandbox: {e}") from e
        raise


async def _run_cells(nb, client, result, cell_timeout, total_timeout, deadline, current, tripped,
                     package_paths) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            _fail(result, nb, index, "timeout",
                  f"the notebook ran out of its total time ({total_timeout:.0f} s) before this cell")
            return
        current["limit"] = max(0.1, min(cell_timeout, remaining))
        whole = current["limit"] < cell_timeout
        try:
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellTimeoutError:
            what = (f"the notebook's total time ({total_timeout:.0f} s)" if whole
                    else f"the time limit of one cell ({cell_timeout:.0f} s)")
            _fail(result, nb, index, "timeout", f"this cell exceeded {what} and was stopped")
        except DeadKernelError:
            if tripped.get("reason"):
                _fail(result, nb, index, "error", f"the kernel was stopped: this cell {tripped['reason']}")
            else:
                code = await _kernel_exit_code(client)
                _fail(result, nb, index, "error", f"the kernel died while running this cell (exit status {code}); "
                                                  "for example os._exit(), a crash, or the memory limit")
        except CellExecutionError:
            error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
            message = ("the cell raised an error" if error is None else
                       student_traceback(error.get("ename", "Error"), error.get("evalue", ""),
                                         error.get("traceback", []), package_paths))
            _fail(result, nb, index, "error", message)
        else:
            result.cells_run += 1
        _note_dropped(client, cell, index)
        if result.status != "ok":
            return


async def _kernel_exit_code(client) -> int | str:
    provisioner = getattr(client.km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None:
        return "unknown"
    for _ in range(20):
        code = process.poll()
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    return "unknown"


def _kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL the kernel's process group (setpriv/prlimit exec into bwrap; bwrap's children die with it)
    and reap it, if it is still there."""
    if process is None:
        return
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _fail(result: NotebookResult, nb, index: int, status: str, message: str) -> None:
    result.status = status
    result.cell = index
    result.heading = heading_above(nb, index)
    result.message = message


# ----------------------------------------------------------------------------------------------------------
# The folders a kernel gets
# ----------------------------------------------------------------------------------------------------------

@dataclass
class _Stage:
    """Everything one kernel run needs on the host, in one fresh folder under the system temp folder (so
    the kernel's uid can reach it whatever the caller's folders' permissions):

    - ``package``: a copy of the package (``launch.stage_package``), mounted read-only;
    - ``shims``: the stage's copy of the sandbox's shims (``grader/sandbox/inside/shims``), mounted read-only;
    - ``work``: the kernel's cwd (owned by the kernel's uid), with a ``cs231n`` link to the package;
    - ``ipc``: the connection file and the IPC sockets (owned by the kernel's uid, mode 0700), and
      ``ipc/matplotlib``, the kernel's ``MPLCONFIGDIR`` (a copy of ``matplotlib_cache()``);
    - ``stderr``: the kernel process's stderr (bwrap's own errors land there), for NotebookInfraError.
    """

    root: Path
    package: Path
    shims: Path
    work: Path
    ipc: Path
    stderr: Path


def _make_stage(package_dir: Path, sandboxed: bool, owner: int | None) -> _Stage:
    """A fresh stage; ``owner``: the kernel's uid when the grader runs as root (None: leave ownership)."""
    from grader.sandbox import launch

    root = launch.stage_package(package_dir)
    stage = _Stage(root, root / "submission" / "cs231n", root / "harness" / "shims", root / "work", root / "ipc",
                   root / "kernel-stderr.log")
    for folder in (stage.work, stage.ipc):
        folder.mkdir(mode=0o700)
        if owner is not None:
            os.chown(folder, owner, owner)
    (stage.work / "cs231n").symlink_to(f"{SANDBOX_SUBMISSION}/cs231n" if sandboxed else str(stage.package))
    _copy_regular(matplotlib_cache(), stage.ipc / "matplotlib", owner)
    return stage


def _copy_regular(src: Path, dest: Path, owner: int | None) -> None:
    """Copy the regular files and folders of ``src`` into ``dest`` (links, fifos, devices are skipped:
    the trusted side never follows what the kernel created)."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        dirs[:] = [d for d in dirs if stat.S_ISDIR(os.lstat(os.path.join(root, d)).st_mode)]
        target = dest / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            path = os.path.join(root, name)
            if not stat.S_ISREG(os.lstat(path).st_mode) or (target / name).is_symlink():
                continue
            shutil.copyfile(path, target / name, follow_symlinks=False)
            if owner is not None:
                os.chown(target / name, owner, owner)
        if owner is not None:
            os.chown(target, owner, owner)


def _run_staged(nb, result: NotebookResult, *, package_dir: Path, data_dir: Path, workdir: str | Path | None,
                limits: Any, sandboxed: bool, env: dict[str, str] | None, cell_timeout: float,
                total_timeout: float) -> None:
    """One kernel run of ``nb`` in a fresh stage (see ``_Stage``), filling in ``result``."""
    started = time.monotonic()
    uid_lock = None
    if sandboxed and limits.uid is None:
        # a uid of its own (RLIMIT_NPROC counts per uid: another sandbox's fork bomb cannot starve this one)
        from grader.sandbox.proxy import acquire_uid

        uid, uid_lock = acquire_uid()
        limits = dataclasses.replace(limits, uid=uid, gid=uid)
    kernel_uid = limits.uid if sandboxed and os.geteuid() == 0 else None
    stage = _make_stage(package_dir, sandboxed, kernel_uid)
    try:
        if workdir is not None and Path(workdir).is_dir():
            _copy_regular(Path(workdir), stage.work, kernel_uid)
        kenv = kernel_env(env, sandboxed=sandboxed, package_parent=str(stage.package.parent),
                          data_dir=str(data_dir), shims=str(stage.shims), mplconfig=str(stage.ipc / "matplotlib"))
        if not sandboxed:
            kenv["HOME"] = str(stage.root / "home")

        def wrap(argv: list[str]) -> list[str]:
            if not sandboxed:
                return argv
            return _kernel_command(argv, package_dir=stage.package, data_dir=data_dir, shims=stage.shims,
                                   workdir=stage.work, socket_dir=stage.ipc, limits=limits, env=kenv)

        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, ZMQ_MAX_MESSAGE_BYTES)
        km = SandboxedKernelManager(wrap=wrap, owner=kernel_uid, context=context,
                                    connection_file=str(stage.ipc / "kernel.json"))
        km.ip = str(stage.ipc / "k")
        client = _CappedClient(nb, km=km, shutdown_kernel="immediate", allow_errors=False,
                               record_timing=False, iopub_timeout=5, raise_on_iopub_timeout=False)
        with open(stage.stderr, "wb") as stderr:
            launch_kwargs = {"env": {"PATH": kenv["PATH"]} if sandboxed else kenv,
                             "cwd": "/" if sandboxed else str(stage.work), "stderr": stderr}
            processes: list[subprocess.Popen] = []
            try:
                asyncio.run(_execute(nb, client, result, cell_timeout=cell_timeout, total_timeout=total_timeout,
                                     started=started, launch=launch_kwargs,
                                     watch=_DiskWatch([stage.work, stage.ipc]), processes=processes,
                                     package_paths=_PACKAGE_PATHS if sandboxed else
                                     (f"{stage.package}/", f"{stage.work}/cs231n/")))
            except NotebookInfraError as e:
                tail = stage.stderr.read_bytes()[-1500:].decode("utf-8", "replace").strip()
                raise NotebookInfraError(f"{e}{': ' + tail if tail else ''}") from None
            finally:
                atexit.unregister(client._cleanup_kernel)  # nbclient leaves it registered when the start fails
                context.destroy(linger=0)
                for process in processes:
                    _kill_group(process)
        (stage.work / "cs231n").unlink(missing_ok=True)
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
            _copy_regular(stage.work, Path(workdir), None)
    finally:
        shutil.rmtree(stage.root, ignore_errors=True)
        if uid_lock is not None:
            uid_lock.close()


def run_notebook(path: str | Path | None, *, data_dir: str | Path | None = None, package_dir: str | Path,
                 cell_timeout: float = 120.0, total_timeout: float = 600.0, workdir: str | Path | None = None,
                 artifact: str | Path | None = None, limits: Any = None, name: str | None = None,
                 sandboxed: bool = True, env: dict[str, str] | None = None) -> NotebookResult:
    """Execute the notebook at ``path`` with its kernel in the sandbox.

    - path: the submission's ``.ipynb`` (None or a missing file gives status ``missing``)
    - data_dir: folder with the data set files, read-only (default: ``public_data_dir()``, Fashion-MNIST
      without the hidden split)
    - package_dir: the ``cs231n`` folder to import (already assembled: graded files of the student,
      provided files of the grader); a copy is mounted read-only
    - cell_timeout / total_timeout: seconds for one cell / for the whole notebook, kernel start included
    - workdir: a folder standing for the notebook's own folder: its files are copied into the kernel's cwd
      before the run, and the files the notebook saved (``best_model.npz``) are copied back after it
      (regular files only). None: the notebook's files are discarded
    - artifact: where to write the executed notebook (outputs capped); None writes nothing
    - limits: ``grader.sandbox.launch.Limits`` for the kernel (default: ``kernel_limits(total_timeout)``)
    - name: the name reported (default ``path``'s file name)
    - sandboxed: False runs the kernel as a plain subprocess (``--no-sandbox``: no isolation at all)
    - env: extra environment variables for the kernel

    Never raises for anything the notebook does; raises ``NotebookInfraError`` if the kernel cannot start.
    """
    path = Path(path) if path is not None else None
    name = name or (path.name if path is not None else "notebook")
    started = time.monotonic()
    if path is None or not path.is_file():
        return NotebookResult(name=name, status="missing", message=f"{name} is not in the submission")
    try:
        nb = load_notebook(path)
    except InvalidNotebook as e:
        return NotebookResult(name=name, status="invalid", message=str(e))

    result = NotebookResult(
        name=name, status="ok",
        cells_total=sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip()),
        shell_escapes=find_shell_escapes(nb),
        inline_answers=extract_inline_answers(nb, name),
    )
    data_dir = Path(data_dir).resolve() if data_dir is not None else public_data_dir()
    limits = limits or kernel_limits(total_timeout)
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            _run_staged(nb, result, package_dir=Path(package_dir).resolve(), data_dir=data_dir, workdir=workdir,
                        limits=limits, sandboxed=sandboxed, env=env, cell_timeout=cell_timeout,
                        total_timeout=total_timeout)
            break
        except NotebookInfraError:
            # Nothing of the notebook ran: a transient failure (another sandbox of the same uid holding all
            # of RLIMIT_NPROC, say) is worth one more try.
            if attempt == KERNEL_START_ATTEMPTS:
                raise
            time.sleep(1.0 * attempt)
    result.duration = round(time.monotonic() - started, 3)
    if artifact is not None:
        result.executed = str(write_artifact(nb, artifact))
    return result


def write_artifact(nb: nbformat.NotebookNode, artifact: str | Path) -> Path:
    """Write a copy of the executed ``nb`` with its outputs capped (``cap_outputs``) to ``artifact``."""
    artifact = Path(artifact)
    artifact.parent.mkdir(parents=True, exist_ok=True)
    capped = copy.deepcopy(nb)
    cap_outputs(capped)
    # The student's text may hold lone surrogates ("\udcff" escapes in the .ipynb): written as "?".
    artifact.write_bytes(nbformat.writes(capped).encode("utf-8", errors="replace"))
    return artifact


# ----------------------------------------------------------------------------------------------------------
# A submission's notebooks, as the manifest lists them
# ----------------------------------------------------------------------------------------------------------

@dataclass
class NotebookSpec:
    """One ``[[notebooks]]`` entry of an assignment manifest.

    - name: the notebook's file name (``FullyConnectedNets.ipynb``; ``.ipynb`` may be left out)
    - points: points for running to the end (0: run for feedback and inline answers only)
    - question: id of the question the points count towards (None: a test of its own)
    - cell_timeout / total_timeout: seconds for one cell / the whole notebook
    """

    name: str
    points: float = 0.0
    question: str | None = None
    cell_timeout: float = 300.0
    total_timeout: float = 900.0

    @classmethod
    def from_manifest(cls, entry: dict[str, Any]) -> "NotebookSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"unknown keys in a [[notebooks]] entry: {sorted(unknown)}")
        spec = cls(**entry)
        if not spec.name.endswith(".ipynb"):
            spec.name += ".ipynb"
        return spec


@dataclass
class NotebookGrades:
    """What the notebooks add to results.json: ``tests`` (Gradescope test entries, one per notebook with
    points) and ``extra_data`` (``notebooks``: every NotebookResult as a dict; ``inline_answers``)."""

    results: list[NotebookResult]
    tests: list[dict[str, Any]]
    extra_data: dict[str, Any]


def artifacts_dir(results_path: str | Path) -> Path:
    """Where the executed notebooks of ``results.json`` go: ``results_notebooks/`` beside it."""
    results_path = Path(results_path)
    return results_path.with_name(results_path.stem + "_notebooks")


def notebook_test(result: NotebookResult, spec: NotebookSpec) -> dict[str, Any]:
    """The Gradescope test entry "<notebook> runs to the end" (full points only for status ``ok``)."""
    ok = result.status == "ok"
    if ok:
        output = f"all {result.cells_total} code cells ran ({result.duration:.0f} s)"
    elif result.cell is not None:
        where = f"cell {result.cell}" + (f" (section \u201c{result.heading}\u201d)" if result.heading else "")
        output = f"{result.status} at {where}:\n{result.message}"
    else:
        output = f"{result.status}: {result.message}"
    test = {"name": f"{spec.name} runs to the end", "notebook": spec.name, "score": float(spec.points) if ok else 0.0,
            "max_score": float(spec.points), "status": "passed" if ok else "failed", "output": output}
    if spec.question:
        test["question"] = spec.question
    return test


def notebook_specs(specs: Iterable[Any]) -> list[NotebookSpec]:
    """``NotebookSpec`` objects from the manifest's ``[[notebooks]]`` (dicts, pydantic models or specs)."""
    return [s if isinstance(s, NotebookSpec) else
            NotebookSpec.from_manifest(s.model_dump() if hasattr(s, "model_dump") else dict(s)) for s in specs]


def _grades(results: list[NotebookResult], specs: list[NotebookSpec],
            saved_files: dict[str, str] | None = None) -> NotebookGrades:
    tests = [notebook_test(r, s) for r, s in zip(results, specs) if s.points > 0]
    extra = {"notebooks": [r.to_dict() for r in results],
             "inline_answers": [a for r in results for a in r.inline_answers],
             "notebook_files": dict(saved_files or {})}
    return NotebookGrades(results, tests, extra)


def not_run(specs: Iterable[Any], reason: str) -> NotebookGrades:
    """The grades when the notebooks cannot run at all (the upload could not be unpacked): every notebook
    ``missing`` with ``reason``, so its points still count towards the maximum."""
    specs = notebook_specs(specs)
    return _grades([NotebookResult(name=s.name, status="missing", message=reason) for s in specs], specs)


def _keep_saved(workdir: Path, names: Iterable[str], out: Path, max_bytes: int) -> dict[str, str]:
    """Copy the files ``names`` the notebooks saved in ``workdir`` (regular files of at most ``max_bytes``)
    into the artifacts folder ``out`` -> ``{name: path relative to out's parent}``."""
    kept = {}
    for name in names:
        src = workdir / name
        try:
            st = os.lstat(src)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            continue
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / name, follow_symlinks=False)
        kept[name] = os.path.relpath(out / name, out.resolve().parent)
    return kept


def grade_notebooks(root: str | Path, specs: Iterable[Any], *, package_dir: str | Path,
                    artifacts: str | Path | None = None, student_package: str | Path | None = None,
                    sandboxed: bool = True, data_dir: str | Path | None = None, keep_files: Iterable[str] = (),
                    keep_max_bytes: int = 50 * 2**20) -> NotebookGrades:
    """Run the manifest's notebooks of the extracted submission ``root`` one after the other.

    - root: the extracted submission; notebooks are found with ``grader.archive.locate_notebooks``
      (beside ``student_package`` first, then anywhere)
    - specs: ``NotebookSpec`` objects, the manifest's ``[[notebooks]]`` dicts or its pydantic models
    - package_dir: the assembled ``cs231n`` package (the one given to the Sandbox)
    - artifacts: folder for the executed notebooks (``artifacts_dir(results.json)``); each result's
      ``executed`` is then relative to its parent (the folder of results.json). None: no artifacts
    - keep_files: names of files the notebooks save (``best_model.npz``) copied into ``artifacts`` too
      (regular files up to ``keep_max_bytes``), listed in ``extra_data["notebook_files"]``

    All notebooks share one scratch working folder (as they share the assignment folder of a student), so a
    file saved by one (``best_model.npz``) is visible to the next. A notebook that fails never stops the
    others; a kernel that cannot start at all (``NotebookInfraError``) is recorded for that notebook.
    """
    from grader.assemble import locate_notebooks

    specs = notebook_specs(specs)
    found = locate_notebooks(Path(root), [s.name for s in specs],
                             package=Path(student_package) if student_package is not None else None)
    out = Path(artifacts) if artifacts is not None else None
    keep_files = list(keep_files)
    if out is not None:   # what an earlier grade wrote here must not pass for this one's
        for name in [s.name for s in specs] + keep_files:
            (out / name).unlink(missing_ok=True)
    results: list[NotebookResult] = []
    workdir = private_tmpdir("nb-work-")
    try:
        for spec in specs:
            try:
                result = run_notebook(found.get(spec.name), name=spec.name, package_dir=package_dir,
                                      data_dir=data_dir, cell_timeout=spec.cell_timeout,
                                      total_timeout=spec.total_timeout, workdir=workdir,
                                      artifact=out / spec.name if out is not None else None, sandboxed=sandboxed)
            except NotebookInfraError as e:
                result = NotebookResult(name=spec.name, status="error", message=f"grader problem: {e}",
                                        grader_problem=True)
            if result.executed and out is not None:
                result.executed = os.path.relpath(result.executed, out.resolve().parent)
            results.append(result)
        saved = _keep_saved(workdir, keep_files, out, keep_max_bytes) if out is not None else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _grades(results, specs, saved)


NOTEBOOK_QUESTION = ("NB", "Notebooks run to the end")
# Caps on the notebooks' part of extra_data (the student's text: a notebook's error message, its inline
# answers, its shell escapes), so no notebook can make results.json enormous.
MAX_EXTRA_TEXT = 20_000      # characters of one string (an inline answer, an error message) in extra_data
MAX_SHORT_TEXT = 1_000       # characters of a name, a heading or a file path
MAX_QUESTION_TEXT = 2_000    # characters of the question of an inline answer
MAX_INLINE_ANSWERS = 30      # inline answers kept per notebook (the assignment's ask three or four each)
MAX_INLINE_TOTAL = 100_000   # characters of all kept answers of one notebook together
MAX_INLINE_ALL = 200         # inline answers kept in all
MAX_SHELL_ESCAPES = 50       # shell escapes listed per notebook
MAX_EXTRA_ITEMS = 100        # entries of any other list or dict (notebooks, notebook_files)
_LONG_KEYS = {"message"}     # keys of a notebook entry whose text may be MAX_EXTRA_TEXT long


def _cap_answers(answers: Any) -> list[dict[str, Any]]:
    """The inline answers cleaned and capped, in order: the first ``MAX_INLINE_ANSWERS`` of each notebook
    (so one notebook cannot crowd out the others; ``MAX_INLINE_ALL`` in all), the question cut to
    ``MAX_QUESTION_TEXT`` characters, each answer to ``MAX_EXTRA_TEXT`` and the answers of one notebook
    together to about ``MAX_INLINE_TOTAL`` (an answer past that budget keeps only the truncation mark)."""
    kept: list[dict[str, Any]] = []
    count: dict[str, int] = {}
    budget: dict[str, int] = {}
    for a in answers if isinstance(answers, list) else []:
        if not isinstance(a, dict):
            continue
        notebook = clean(a.get("notebook"), MAX_SHORT_TEXT)
        if count.get(notebook, 0) >= MAX_INLINE_ANSWERS:
            continue
        left = budget.get(notebook, MAX_INLINE_TOTAL)
        answer = clean(a.get("answer"), max(len(TRUNCATED), min(MAX_EXTRA_TEXT, left)))
        count[notebook], budget[notebook] = count.get(notebook, 0) + 1, left - len(answer)
        cell = a.get("cell")
        kept.append({"notebook": notebook, "question": clean(a.get("question"), MAX_QUESTION_TEXT), "answer": answer,
                     "cell": cell if isinstance(cell, int) and not isinstance(cell, bool) else None})
        if len(kept) >= MAX_INLINE_ALL:
            break
    return kept


def _cap_notebook(entry: dict[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``extra_data.notebooks`` entry (a ``NotebookResult.to_dict()``) cleaned and capped; its inline
    answers are those of ``answers`` (already capped) that belong to it."""
    out = {}
    for key, value in list(entry.items())[:MAX_EXTRA_ITEMS]:
        if key in ("shell_escapes", "inline_answers") or not isinstance(key, str):
            continue
        out[clean_tree(key, MAX_SHORT_TEXT)] = clean_tree(
            value, MAX_EXTRA_TEXT if key in _LONG_KEYS else MAX_SHORT_TEXT, max_items=MAX_EXTRA_ITEMS)
    escapes = entry.get("shell_escapes")
    escapes = escapes if isinstance(escapes, list) else []
    out["shell_escapes"] = [clean_tree(e, 200, max_items=4) for e in escapes[:MAX_SHELL_ESCAPES]]
    if len(escapes) > MAX_SHELL_ESCAPES:
        out["shell_escapes_omitted"] = len(escapes) - MAX_SHELL_ESCAPES
    out["inline_answers"] = [a for a in answers if a["notebook"] == out.get("name")]
    return out


def capped_extra_data(extra: dict[str, Any]) -> dict[str, Any]:
    """What the notebooks add to ``extra_data`` (``NotebookGrades.extra_data``), every string cleaned
    (``grader.text.clean``) and every text and list capped (the ``MAX_*`` above). ``inline_answers_omitted``
    says how many inline answers were left out (only when some were)."""
    raw_answers = extra.get("inline_answers")
    answers = _cap_answers(raw_answers)
    out: dict[str, Any] = {}
    for key, value in extra.items():
        if key == "inline_answers":
            out[key] = answers
        elif key == "notebooks":
            entries = [nb for nb in value if isinstance(nb, dict)] if isinstance(value, list) else []
            out[key] = [_cap_notebook(nb, answers) for nb in entries[:MAX_EXTRA_ITEMS]]
        else:
            out[key] = clean_tree(value, MAX_SHORT_TEXT, max_items=MAX_EXTRA_ITEMS)
    omitted = (len(raw_answers) if isinstance(raw_answers, list) else 0) - len(answers)
    if omitted > 0:
        out["inline_answers_omitted"] = omitted
    return out
