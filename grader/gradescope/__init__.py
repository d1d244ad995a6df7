"""The grader as a Gradescope autograder.

``python -m grader export-gradescope --assignment A --out autograder.zip`` (``export.py``) writes the zip
Gradescope takes: ``setup.sh`` (installs the system packages and a venv with the grader's dependencies on
Gradescope's Ubuntu image), ``run_autograder`` (grades ``/autograder/submission`` into
``/autograder/results/results.json``; the root folder is its argument) and, in ``source/``, the grader,
assignment A's hidden suites, reference outputs, solutions and starter, and the grader's secret.

``run.py`` is what ``run_autograder`` runs: it locks the source folder to root, grades with
``GRADER_ISOLATION=auto`` (bubblewrap when user namespaces work, else the setpriv tier, see
``grader.sandbox.launch``) in a child process, and always writes a results.json (``results.py``): the
grader's own, in Gradescope's format (text outputs, a leaderboard of the measures, the isolation tier), or
when the grader fails a score of 0 with the reason, visible to instructors only.
"""
