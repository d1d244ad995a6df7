"""Build script of the course's compiled ``im2col_cython`` extension.

Here ``im2col_cython`` is a pure-NumPy module (``im2col_cython.py``), so there is nothing to build:
``python setup.py build_ext --inplace``, which the course's instructions ask for, succeeds and does nothing.
"""
import sys

if __name__ == "__main__":
    print("im2col_cython is pure NumPy in this package: nothing to build (%s)." % " ".join(sys.argv[1:]))
