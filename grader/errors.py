"""The grader's own error (never the student's)."""


class GraderError(Exception):
    """A configuration or internal error of the grader (not the submission's fault)."""
