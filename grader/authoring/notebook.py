"""A solution notebook -> the starter's notebook: regions stripped, outputs cleared, solution cells dropped.

- code cells: the region stripping in the cell source, outputs cleared, ``execution_count`` null;
- cells tagged ``solution`` (code or markdown) are dropped entirely - use it for instructor-only cells;
  markdown and raw cells are otherwise kept verbatim (markers in markdown are not interpreted);
- cell metadata keeps only ``tags``, ``editable`` and ``deletable``; notebook metadata keeps only
  ``kernelspec`` (``display_name``, ``language``, ``name``) and ``language_info.name``;
- ``insert``: ``(heading, source)`` pairs, each a code cell (tagged ``public-check``) put before the first
  markdown cell whose source starts with ``heading`` (``None``: at the end); the public checks' cells;
- the notebook is written as nbformat 4.5: each cell keeps its ``id`` when it is valid and unique, else
  gets ``cell-<index>``; JSON is nbformat's writer (sorted keys, indent 1) plus a final newline.
"""
from __future__ import annotations

import json
import re
import warnings

import nbformat

from .regions import AuthoringError, _decode, strip_regions

SOLUTION_TAG = "solution"
KEPT_CELL_METADATA = ("tags", "editable", "deletable")
KEPT_KERNELSPEC = ("display_name", "language", "name")
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _clean_cell_metadata(metadata: dict) -> dict:
    return {k: metadata[k] for k in KEPT_CELL_METADATA if k in metadata}


def _clean_notebook_metadata(metadata: dict) -> dict:
    clean: dict = {}
    kernelspec = metadata.get("kernelspec")
    if isinstance(kernelspec, dict):
        clean["kernelspec"] = {k: kernelspec[k] for k in KEPT_KERNELSPEC if k in kernelspec}
    language_info = metadata.get("language_info")
    if isinstance(language_info, dict) and "name" in language_info:
        clean["language_info"] = {"name": language_info["name"]}
    return clean


def _check_cell(source: str, index: int, used_ids: set[str]):
    cell_id = f"check-{index}"
    while cell_id in used_ids:
        cell_id += "x"
    used_ids.add(cell_id)
    return nbformat.from_dict({"cell_type": "code", "metadata": {"tags": ["public-check"]}, "source": source,
                               "outputs": [], "execution_count": None, "id": cell_id})


def strip_notebook(data: bytes, where: str = "<notebook>", insert: list[tuple[str | None, str]] = ()) -> bytes:
    """The starter version of a notebook (see the module doc); deterministic bytes."""
    text = _decode(data, where)
    try:
        raw = json.loads(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about (and silently adds random) missing ids
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable JSON / unknown versions
        raise AuthoringError(f"{where}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    # Cell ids as written in the file (nbformat may invent random ones while reading; never use those).
    raw_cells = raw.get("cells") if isinstance(raw, dict) and raw.get("nbformat") == 4 else None
    raw_ids = [c.get("id") if isinstance(c, dict) else None for c in raw_cells] if raw_cells else []
    if len(raw_ids) != len(nb.cells):
        raw_ids = [None] * len(nb.cells)
    cells = []
    used_ids: set[str] = set()
    pending = list(insert)
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_TAG in tags:
            continue
        cell_type = cell.get("cell_type")
        source = cell.get("source", "")
        if cell_type == "markdown":
            due = [p for p in pending if p[0] is not None and source.lstrip().startswith(p[0])]
            for entry in due:
                pending.remove(entry)
                cells.append(_check_cell(entry[1], len(cells), used_ids))
        if cell_type == "code":
            source, _ = strip_regions(source, f"{where}, cell {index}")
        new = nbformat.from_dict({
            "cell_type": cell_type,
            "metadata": _clean_cell_metadata(cell.get("metadata", {})),
            "source": source,
        })
        if cell_type == "code":
            new["outputs"] = []
            new["execution_count"] = None
        elif "attachments" in cell and cell_type in ("markdown", "raw"):
            new["attachments"] = cell["attachments"]
        cell_id = raw_ids[index]
        if not (isinstance(cell_id, str) and _CELL_ID.match(cell_id) and cell_id not in used_ids):
            cell_id = f"cell-{index}"
            while cell_id in used_ids:
                cell_id += "x"
        used_ids.add(cell_id)
        new["id"] = cell_id
        cells.append(new)
    missing = [p[0] for p in pending if p[0] is not None]
    if missing:
        raise AuthoringError(f"{where}: no markdown cell starts with {missing[0]!r} (a public check's place)")
    cells += [_check_cell(p[1], len(cells), used_ids) for p in pending]
    out = nbformat.from_dict({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": _clean_notebook_metadata(nb.get("metadata", {})),
        "cells": cells,
    })
    try:
        nbformat.validate(out)
    except nbformat.ValidationError as exc:
        raise AuthoringError(f"{where}: the generated notebook is not valid: {exc.message}") from None
    written = nbformat.writes(out, version=4)
    if not written.endswith("\n"):
        written += "\n"
    return written.encode("utf-8")
