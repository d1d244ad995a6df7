"""Run by Python's ``site`` at the start of every sandboxed process (the shims are on its PYTHONPATH): keeps
the NumPy 1.x names working for submissions (``numpy1_compat``)."""
try:
    import numpy1_compat
    numpy1_compat.install()
except ImportError:   # no NumPy in this interpreter: nothing to keep
    pass
