"""Student-derived text on the trusted side: one function, :func:`clean`, applied at every boundary.

Text that comes from a submission (an exception's type, message and traceback sent by the sandbox
worker, what the student's code printed, names of files inside an uploaded archive) is untrusted: it can
be huge, and it can hold characters that are not valid Unicode scalar values (lone surrogates such as
``'\\udcff'``, from ``surrogateescape`` decoding or written on purpose), which make ``json`` / pydantic
fail when ``results.json`` is written. The grader passes such text through :func:`clean` where it
enters the trusted process (``grader.sandbox.proxy`` unpacking an error, ``grader.suites.plugin.feedback``)
and once more where results are assembled (``grader.scoring.build_results``, :func:`clean_tree`).

Text written to a CSV file that people open in a spreadsheet (``grades.csv`` of a batch, the service's
gradebook) goes through :func:`csv_cell`: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return would be evaluated as a formula ("CSV injection"), so such a cell gets a leading ``'``.
"""
from __future__ import annotations

import itertools
from typing import Any

TRUNCATED = " [... truncated]"


def clean(text: Any, limit: int | None = None) -> str:
    """``text`` as a valid UTF-8-encodable str of at most ``limit`` characters.

    Lone surrogates and other unencodable code points become ``'?'``; a non-str becomes ``''``; text longer
    than ``limit`` is cut and marked ``' [... truncated]'`` (the result is never longer than ``limit``).
    """
    if type(text) is not str:
        if not isinstance(text, str):
            return ""
        text = str.__str__(text)   # a str subclass: its plain str value, none of its methods
    if limit is not None and len(text) > limit:
        keep = max(0, limit - len(TRUNCATED))
        text = text[:keep] + TRUNCATED[: limit - keep]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def clean_tree(value: Any, limit: int | None = None, *, max_items: int | None = None, depth: int = 0) -> Any:
    """:func:`clean` every str (keys included) of a JSON-like tree of dicts, lists and tuples.

    - limit: characters kept of every str (see :func:`clean`)
    - max_items: entries kept of every list, tuple and dict (the first ones; None: all)
    """
    if isinstance(value, str):
        return clean(value, limit)
    if depth > 20:
        return None
    if isinstance(value, dict):
        pairs = list(value.items()) if max_items is None else list(itertools.islice(value.items(), max_items))
        return {clean(k, limit) if isinstance(k, str) else k:
                clean_tree(v, limit, max_items=max_items, depth=depth + 1) for k, v in pairs}
    if isinstance(value, (list, tuple)):
        kept = value if max_items is None else value[:max_items]
        items = [clean_tree(v, limit, max_items=max_items, depth=depth + 1) for v in kept]
        return tuple(items) if type(value) is tuple else items
    return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what makes a spreadsheet read a CSV cell as a formula


def csv_cell(text: Any, limit: int | None = None) -> str:
    """``text`` (:func:`clean`-ed to ``limit`` characters) safe as a CSV cell opened in a spreadsheet.

    A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (the OWASP
    advice against CSV injection), so it is shown as text instead of evaluated as a formula. Use it for
    every text cell whose content a student may influence (names, messages); numbers are written as such.
    """
    text = clean(text if isinstance(text, str) else ("" if text is None else str(text)), limit)
    return "'" + text if text.startswith(FORMULA_START) else text
