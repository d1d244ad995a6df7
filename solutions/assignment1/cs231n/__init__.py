"""CS231n-style image classifiers from scratch in NumPy: k-nearest neighbours, linear SVM and softmax,
a two-layer net, and image features.

Import the submodules you need, e.g. ``from cs231n.classifiers import KNearestNeighbor``. Every import
inside the package is relative, so a copy of it can be imported under another name.
"""
