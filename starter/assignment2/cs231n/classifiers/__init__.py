"""Models built from the layers of the package.

``from cs231n.classifiers import FullyConnectedNet`` (or ``import *``) imports ``fc_net`` when a name of it is
first used, so importing ``classifiers.cnn`` does not depend on ``fc_net`` importing.
"""
__all__ = ["TwoLayerNet", "FullyConnectedNet"]


def __getattr__(name):
    if name in __all__:
        from . import fc_net
        return getattr(fc_net, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
