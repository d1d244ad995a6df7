"""Saving and loading trained models as plain .npz files (no pickle, in either direction).

A saved file holds:
- every entry of model.params under its own name ('W1', 'b1', 'gamma1', ...);
- the batchnorm running statistics of layer i (1-based, like gamma{i}) as 'bn{i}_running_mean'
  and 'bn{i}_running_var';
- 'meta_*' entries: meta_class (the class name), meta_hidden_dims, meta_normalization ('none',
  'batchnorm' or 'layernorm'), meta_input_dim, meta_num_classes, meta_dtype, plus whatever
  keyword arguments save_model was given (e.g. dataset='fashion_mnist' -> meta_dataset).
Strings are stored as numpy unicode arrays, so np.load(path, allow_pickle=False) reads everything.
Dropout and the regularization strength are training-time settings and are not saved.
"""
import numpy as np

from .classifiers.fc_net import FullyConnectedNet, TwoLayerNet

__all__ = ["save_model", "load_model", "read_meta"]

_NO_NORMALIZATION = "none"
_MODEL_CLASSES = ("TwoLayerNet", "FullyConnectedNet")


def _meta_array(value):
    """A meta value as a plain (non-object) numpy array."""
    if value is None:
        return np.array(_NO_NORMALIZATION)
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufU":
        raise TypeError("meta values must be numbers, strings or lists of them, not %r" % (value,))
    return arr


def _architecture(model):
    """(hidden_dims, input_dim, num_classes) of a fully-connected model, read off its weights."""
    num_layers = sum(1 for k in model.params if k.startswith("W") and k[1:].isdigit())
    weights = [np.asarray(model.params["W%d" % i]) for i in range(1, num_layers + 1)]
    hidden_dims = [w.shape[1] for w in weights[:-1]]
    return hidden_dims, weights[0].shape[0], weights[-1].shape[1]


def save_model(model, path, **meta):
    """Save a TwoLayerNet or FullyConnectedNet to the .npz file `path`.

    Inputs:
    - model: The model; its params, its batchnorm running statistics (bn_params) and its
      architecture are saved
    - path: File name (numpy adds '.npz' if it is missing)
    - meta: Extra information to keep, e.g. dataset='fashion_mnist', val_acc=0.87; each value is
      a number, a string or a list of numbers; stored as 'meta_<name>'

    Returns: nothing. Raises TypeError for other kinds of models (load_model could not rebuild
    them).
    """
    if type(model).__name__ not in _MODEL_CLASSES:
        raise TypeError("save_model handles %s, not %s" % (" and ".join(_MODEL_CLASSES),
                                                          type(model).__name__))
    hidden_dims, input_dim, num_classes = _architecture(model)
    arrays = {k: np.asarray(v) for k, v in model.params.items()}
    for i, bn_param in enumerate(getattr(model, "bn_params", []) or [], start=1):
        for stat in ("running_mean", "running_var"):
            if stat in bn_param:
                arrays["bn%d_%s" % (i, stat)] = np.asarray(bn_param[stat])
    info = {
        "class": type(model).__name__,
        "hidden_dims": np.array(hidden_dims, dtype=np.int64),
        "normalization": getattr(model, "normalization", None),
        "input_dim": input_dim,
        "num_classes": num_classes,
        "dtype": np.dtype(getattr(model, "dtype", arrays["W1"].dtype)).name,
    }
    info.update(meta)
    for k, v in info.items():
        arrays["meta_" + k] = _meta_array(v)
    np.savez(path, **arrays)


def read_meta(path):
    """The meta_* entries of a saved model as a dict of Python values (without the 'meta_')."""
    with np.load(path, allow_pickle=False) as data:
        return {k[5:]: data[k].tolist() for k in data.files if k.startswith("meta_")}


def load_model(path):
    """Rebuild a model saved by save_model.

    Inputs:
    - path: The .npz file

    Returns: the model (TwoLayerNet or FullyConnectedNet) with the saved parameters and batchnorm
    running statistics, ready for model.loss(X) at test time.

    Raises ValueError if the file holds pickled (object) data, names an unknown class, or does not
    match the architecture it declares.
    """
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}   # raises ValueError on pickled entries
    meta = {k[5:]: v.tolist() for k, v in arrays.items() if k.startswith("meta_")}
    missing = [k for k in ("class", "input_dim", "num_classes") if k not in meta]
    if missing:
        raise ValueError("not a saved model: meta_%s missing" % ", meta_".join(missing))
    cls = meta["class"]
    hidden_dims = [int(h) for h in np.atleast_1d(meta.get("hidden_dims", []))]
    input_dim, num_classes = int(meta["input_dim"]), int(meta["num_classes"])
    normalization = meta.get("normalization", _NO_NORMALIZATION)
    normalization = None if normalization == _NO_NORMALIZATION else normalization
    dtype = np.dtype(meta.get("dtype", "float64"))

    if cls == "TwoLayerNet":
        if len(hidden_dims) != 1:
            raise ValueError("a TwoLayerNet has exactly one hidden layer")
        model = TwoLayerNet(input_dim=input_dim, hidden_dim=hidden_dims[0], num_classes=num_classes)
    elif cls == "FullyConnectedNet":
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError("unknown normalization %r" % normalization)
        model = FullyConnectedNet(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                                  normalization=normalization, dtype=dtype.type)
    else:
        raise ValueError("unknown model class %r" % cls)

    for k in list(model.params):
        if k not in arrays or arrays[k].shape != model.params[k].shape:
            raise ValueError("parameter %s is missing or has the wrong shape" % k)
        model.params[k] = arrays[k].astype(model.params[k].dtype)
    for i, bn_param in enumerate(getattr(model, "bn_params", []), start=1):
        for stat in ("running_mean", "running_var"):
            key = "bn%d_%s" % (i, stat)
            if key in arrays:
                bn_param[stat] = arrays[key].astype(dtype)
    return model
