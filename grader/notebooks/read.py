"""What a notebook says before it runs: loading and validating an ``.ipynb``, and what is read from its cells.

- ``load_notebook``: an nbformat-4 notebook with its code outputs cleared, or ``InvalidNotebook``;
- ``heading_above``: the section a cell belongs to, from the real markdown headings above it;
- ``find_shell_escapes``: the IPython lines of code cells that run a shell command (``!cmd``, ``%%bash``...);
- ``extract_inline_answers``: the written answers to the notebook's inline questions.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from grader import caps


# An ATX heading: at most three spaces, one to six "#", then a space, a tab or the end of the line.
_ATX_OPEN = re.compile(r"^ {0,3}#{1,6}(?=[ \t]|$)(.*)$")
_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+$")          # the optional closing sequence: "## Title ##"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")          # a fenced code block opens or closes
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


class InvalidNotebook(ValueError):
    """The file is not a notebook we can run (bad JSON, not nbformat 4, too big)."""


def load_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read ``path`` as an nbformat-4 notebook with every code cell's outputs cleared.

    Raises ``InvalidNotebook`` for a file that is too big, is not JSON, or has no list of cells. A notebook
    that parses but does not pass nbformat's schema (Colab adds odd metadata) is still run.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > caps.NB_FILE_BYTES:
        raise InvalidNotebook(f"{path.name} is {size / 2**20:.0f} MB (limit {caps.NB_FILE_BYTES // 2**20} MB)")
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


def markdown_headings(source: str) -> list[str]:
    """The text of the ATX headings (``# Title`` ... ``###### Title``) of a markdown cell, in order.

    Only real headings count: at most three spaces before the ``#``s and a space (or nothing) after them,
    so ``#hashtag`` and an indented line are not headings, nor are the lines of a fenced code block
    (a ``# comment`` in an example); a heading is one line; its closing ``#``s are dropped; empty headings
    are skipped.
    """
    headings = []
    fence = ""
    for line in source.splitlines():
        m = _FENCE.match(line)
        rest = line[m.end():] if m else ""
        if fence:   # inside a fenced code block: only its closing fence (same character, as long) counts
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not rest.strip():
                fence = ""
            continue
        if m and not (m.group(1)[0] == "`" and "`" in rest):   # "```x```" is inline code, not a fence
            fence = m.group(1)
            continue
        m = _ATX_OPEN.match(line)
        if m:
            text = _ATX_CLOSE.sub("", m.group(1).strip(" \t")).strip(" \t")
            if text:
                headings.append(text)
    return headings


def heading_above(nb: nbformat.NotebookNode, index: int) -> str:
    """The last markdown heading in the cells before ``index`` (the section a failing cell belongs to)."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            headings = markdown_headings(cell.source)
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
