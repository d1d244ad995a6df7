"""The one error of the reference outputs."""


class ReferenceError(Exception):
    """Reference outputs are missing, stale or cannot be generated (a configuration error of the grader)."""
