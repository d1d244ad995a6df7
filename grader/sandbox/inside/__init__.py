"""The only grader code the sandbox sees: this folder is copied, as it is, to ``/sandbox/harness``.

``worker.py`` serves the trusted side's calls, ``codec.py`` is the plain-data wire format both sides speak,
``shims/`` holds the compatibility modules old submissions import. Nothing here imports the rest of the
grader, and nothing of the rest of the grader is mounted.
"""
