"""The hidden test suites (trusted side; never mounted in the sandbox, not collected by ``tests/``).

One file per question (``q1_fc_layers.py`` ... ``q8_conv.py``), run by ``grader.grade`` through
``pytest.main`` with the plugin of ``plugin.py``, which provides the fixtures ``sb`` (the submission's
Sandbox), ``ref`` (reference values), ``hint`` (the known-mistake detectors), ``limits``, ``assignment``
and ``submission`` (what was found in the upload, e.g. ``best_model.npz``).
"""
