"""CS231n-style neural networks from scratch in NumPy.

Import the submodules you need, e.g. ``from cs231n.layers import affine_forward``. Every import inside
the package is relative, so a copy of it can be imported under another name.
"""
