"""What a notebook printed: the student's part of a traceback, and the executed notebook as a small artifact.

- ``student_traceback``: an IPython traceback reduced to the frames of notebook cells and the student's package;
- ``cap_outputs`` / ``write_artifact``: the executed notebook with its outputs capped (texts, images,
  tracebacks), written where the grade keeps it;
- ``output_bytes``: the size of one output, for the live cap of ``grader.notebooks.kernel.CappedClient``.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Iterable

import nbformat
from grader import caps


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def student_traceback(ename: str, evalue: str, traceback: Iterable[str], package_paths: Iterable[str]) -> str:
    """The student's part of an IPython traceback, as plain text.

    IPython sends one string per frame (first line ``Cell In[3], line 5`` or ``File /path.py:12, in f(x)``).
    Frames of notebook cells and of the student's package (under one of ``package_paths``) are kept, shown
    as ``<package>/...`` (``cs231n/...``);
    frames of NumPy, IPython and the standard library are dropped. The last line is ``ename: evalue``.
    """
    package_paths = tuple(package_paths)
    kept = []
    for frame in traceback:
        text = strip_ansi(frame)
        head = text.lstrip().split("\n", 1)[0]
        if head.startswith("Cell In"):
            kept.append(text.rstrip("\n"))
        elif head.startswith("File ") and any(p in head for p in package_paths):
            for p in package_paths:
                text = text.replace(p, p.rstrip("/").rsplit("/", 1)[-1] + "/")
            kept.append(text.rstrip("\n"))
    kept.append(f"{ename}: {strip_ansi(evalue)}".rstrip())
    return "\n".join(kept)


def output_bytes(out: dict) -> int:
    """About how many bytes one output holds (its text, its data entries, its traceback)."""
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


def cap_outputs(nb: nbformat.NotebookNode, *, text_cap: int = caps.NB_ARTIFACT_TEXT,
                image_cap: int = caps.NB_ARTIFACT_IMAGE, max_images: int = caps.NB_ARTIFACT_IMAGES) -> dict[str, int]:
    """Shrink the outputs of ``nb`` in place so the artifact stays small; returns counts of what was cut.

    Text outputs keep their first and last characters (``text_cap`` in all); an image (any ``image/*`` entry)
    bigger than ``image_cap`` base64 characters, or beyond the first ``max_images`` of the notebook, is
    replaced by a one-line note; HTML/JS/LaTeX bigger than ``text_cap`` is dropped (the plain text stays);
    error tracebacks keep their last ``caps.NB_TRACEBACK_LINES`` lines.
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
                tb = tb[-caps.NB_TRACEBACK_LINES:]
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


def write_artifact(nb: nbformat.NotebookNode, artifact: str | Path) -> Path:
    """Write a copy of the executed ``nb`` with its outputs capped (``cap_outputs``) to ``artifact``."""
    artifact = Path(artifact)
    artifact.parent.mkdir(parents=True, exist_ok=True)
    capped = copy.deepcopy(nb)
    cap_outputs(capped)
    # The student's text may hold lone surrogates ("\udcff" escapes in the .ipynb): written as "?".
    artifact.write_bytes(nbformat.writes(capped).encode("utf-8", errors="replace"))
    return artifact
