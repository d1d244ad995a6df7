"""The toolkit of the hidden suites (trusted side; the suites themselves live in their assignment's folder,
``grader/assignments/<assignment>/suites/``, and are never mounted in the sandbox).

    plugin.py     the pytest plugin: fixtures ``sb`` (the submission's sandbox, time-guarded), ``ref``
                  (reference values for the submission's salt), ``hint`` (the assignment's known-mistake
                  detectors), ``limits``, ``seed``, ``assignment``, ``submission``; one outcome per test
    runner.py     ``run_suites``: pytest.main over an assignment's suites, quietly, checked against the manifest
    _common.py    calling the student's code and validating what comes back (``forward``, ``call``, models)
    _training.py  training checks: trained in the sandbox, judged here
"""
