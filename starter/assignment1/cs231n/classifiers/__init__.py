"""The classifiers of the assignment: ``KNearestNeighbor``, ``LinearSVM`` and ``Softmax``. The two-layer
net is imported explicitly (``from cs231n.classifiers.fc_net import TwoLayerNet``)."""
from .k_nearest_neighbor import *  # noqa: F401,F403
from .linear_classifier import *  # noqa: F401,F403
