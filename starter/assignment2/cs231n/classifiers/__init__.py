"""Models built from the layers of the package. ``cnn`` (ThreeLayerConvNet) is imported explicitly."""
from .fc_net import *  # noqa: F401,F403
