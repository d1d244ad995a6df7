"""A tiny stand-in for the ``future`` distribution's ``past`` package, for old CS231n code.

Provided by the grader (trusted, read-only) on the sandbox's import path, after the student's package:
CS231n code of 2016-2019 starts with ``from past.builtins import xrange``, and ``past`` is not installed
in the sandbox. Only what that code uses is defined.
"""
