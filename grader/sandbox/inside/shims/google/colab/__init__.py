"""A stand-in for Colab's ``google.colab`` in the grader's notebook kernel (trusted, read-only).

CS231n notebooks of 2020 and later start with a Colab setup cell (``from google.colab import drive;
drive.mount('/content/drive')``). In the grader the notebook already runs beside its ``cs231n`` package
with the data set at ``$CS231N_DATA_DIR``, so mounting a drive is not needed: ``drive.mount`` only says so.
``google`` stays a namespace package (no ``__init__.py``), so an installed ``google.*`` is not hidden.
"""
from . import drive  # noqa: F401
