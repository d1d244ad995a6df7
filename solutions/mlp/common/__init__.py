"""Neural networks from scratch in NumPy, in the "deep learning from scratch" style.

Layers are classes with ``forward``/``backward`` (``layers.py``), update rules are classes with
``update(params, grads)`` (``optimizer.py``), networks keep their layers in an ``OrderedDict``
(``three_layer_net.py``, ``multi_layer_net.py``, ``multi_layer_net_extend.py``) and ``Trainer`` trains any of
them (``trainer.py``). Import what you need, e.g. ``from common.layers import Affine``. Every import inside
the package is relative, so a copy of it can be imported under another name.
"""
