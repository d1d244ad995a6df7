"""Authoring: what an instructor generates from the solutions, and the checks that all is in sync.

    regions.py    the START/END OF YOUR CODE markers and how a region is stripped
    notebook.py   a solution notebook -> the starter's notebook
    starter.py    ``make-starter``: solutions/<assignment>/ -> starter/<assignment>/, and the diff of the two
    public_checks.py  the starter's ``python -m <package>.check`` (runner in student_check/) from the manifest
    zips.py       ``make-zips``: the sample submissions starter.zip and solutions.zip
    selftest.py   ``selftest``: solutions full marks, starter zero, references fresh, starter in sync

(``refresh-references`` is ``grader.references.store``.)
"""
from . import public_checks
from .notebook import strip_notebook
from .regions import END_MARKER, START_MARKER, AuthoringError, Region, find_regions, has_region, strip_regions
from .starter import generate_starter, graded_files, is_skipped, make_starter, starter_diff
from .zips import build_assignment_zips, build_zips, submission_entries, write_zip

__all__ = ["END_MARKER", "START_MARKER", "AuthoringError", "Region", "build_assignment_zips", "build_zips",
           "find_regions", "generate_starter", "graded_files", "has_region", "is_skipped", "make_starter",
           "starter_diff", "strip_notebook", "strip_regions", "submission_entries", "write_zip"]
