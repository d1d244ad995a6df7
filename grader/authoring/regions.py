"""Solution regions: the code between the START/END markers, which the starter replaces by ``pass``.

Every piece of solution code sits between two marker lines, indented like the code::

    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    ...solution...
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

``strip_regions`` keeps both marker lines and replaces what is between them by one ``pass`` line at the
START marker's indentation (an empty region also gets its ``pass``, so the generation is idempotent).
Markers must be well formed, else ``AuthoringError`` names the file (and notebook cell) and line: a START
without END, a START inside an open region (no nesting), an END without START, an END indented
differently from its START, and a comment that looks like a marker but is not its exact text
(``# ***START OF YOUR CODE***``) are all errors. A marker line is recognised by its stripped text, so any
indentation and ``\\n`` or ``\\r\\n`` line ends work; everything outside the regions is kept byte for byte.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

START_MARKER = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
END_MARKER = "# *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
_LOOKS_LIKE_MARKER = ("START OF YOUR CODE", "END OF YOUR CODE")


class AuthoringError(Exception):
    """A solution file cannot be turned into a starter file (malformed markers, bad notebook, ...)."""


@dataclass(frozen=True)
class Region:
    """One solution region: 1-based line numbers of its START and END marker lines, and their indent."""

    start: int
    end: int
    indent: str


def _split_lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their line end (``\\n`` or ``\\r\\n``); ``''.join`` restores it."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _looks_like_marker(stripped: str) -> bool:
    """A comment that was probably meant as a marker (``# ***START OF YOUR CODE***``, a missing space...).

    The classic banner ``#      END OF YOUR CODE      #`` (no asterisks) is an ordinary comment.
    """
    return (stripped.startswith("#") and any(s in stripped for s in _LOOKS_LIKE_MARKER)
            and ("*" in stripped or "DO NOT DELETE" in stripped))


def find_regions(text: str, where: str = "<text>") -> list[Region]:
    """Parse and validate the solution regions of ``text``; ``where`` names it in error messages.

    Raises ``AuthoringError`` with ``"<where>, line <n>: <problem>"`` for malformed markers.
    """
    regions: list[Region] = []
    open_line, open_indent = 0, ""
    for number, line in enumerate(_split_lines(text), start=1):
        stripped = line.strip()
        indent = _indent_of(line)
        if stripped == START_MARKER:
            if open_line:
                raise AuthoringError(
                    f"{where}, line {number}: START marker inside the region opened at line {open_line} "
                    "(regions cannot nest; close the first region with an END marker)"
                )
            open_line, open_indent = number, indent
        elif stripped == END_MARKER:
            if not open_line:
                raise AuthoringError(f"{where}, line {number}: END marker without a START marker before it")
            if indent != open_indent:
                raise AuthoringError(
                    f"{where}, line {number}: END marker indented {indent!r} but its START marker "
                    f"(line {open_line}) is indented {open_indent!r}"
                )
            regions.append(Region(open_line, number, open_indent))
            open_line = 0
        elif _looks_like_marker(stripped):
            raise AuthoringError(
                f"{where}, line {number}: this comment looks like a region marker but is not its exact "
                f"text; use {START_MARKER!r} or {END_MARKER!r}"
            )
    if open_line:
        raise AuthoringError(f"{where}, line {open_line}: START marker has no END marker")
    return regions


def strip_regions(text: str, where: str = "<text>") -> tuple[str, int]:
    """Replace the inside of every region of ``text`` by one ``pass`` line at the START marker's indent.

    Returns ``(stripped_text, number_of_regions)``; the marker lines and everything outside the regions
    are kept unchanged.
    """
    regions = find_regions(text, where)
    if not regions:
        return text, 0
    lines = _split_lines(text)
    out: list[str] = []
    position = 0  # 0-based index of the next line to copy
    for region in regions:
        start_line = lines[region.start - 1]
        out.extend(lines[position: region.start])  # up to and including the START marker
        eol = "\r\n" if start_line.endswith("\r\n") else "\n"
        out.append(f"{region.indent}pass{eol}")
        position = region.end - 1  # the END marker line is copied next
    out.extend(lines[position:])
    return "".join(out), len(regions)


def has_region(text: str) -> bool:
    """True when some line of ``text`` is a START marker (no validation)."""
    return any(line.strip() == START_MARKER for line in _split_lines(text))


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuthoringError(f"{where}: not valid UTF-8 ({exc})") from None
