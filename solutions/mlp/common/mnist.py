"""MNIST and Fashion-MNIST from their official gzipped IDX files; nothing is ever downloaded.

``load_mnist()`` looks, in every data folder (``$CS231N_DATA_DIR`` if set, then ``<this package>/datasets``),
for MNIST in ``mnist/`` first, then for Fashion-MNIST in ``fashion-mnist/``, ``fashion_mnist/`` or the
folder itself, and last in ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).
Each data set is the four files ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (also accepted uncompressed).
"""
import gzip
import os
from pathlib import Path

import numpy as np

SYSTEM_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {"train_img": "train-images-idx3-ubyte", "train_label": "train-labels-idx1-ubyte",
         "test_img": "t10k-images-idx3-ubyte", "test_label": "t10k-labels-idx1-ubyte"}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in the IDX file ``path`` (gzipped when it ends in .gz), of the shape of its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) < 4 + 4 * ndim + count * dtype.itemsize:
        raise ValueError(f"{path}: truncated (header says {shape})")
    return np.frombuffer(data, dtype=dtype, count=count, offset=4 + 4 * ndim).reshape(shape)


def data_dirs():
    """The data folders searched, in order: $CS231N_DATA_DIR (if set), <package>/datasets."""
    dirs = []
    if os.environ.get("CS231N_DATA_DIR"):
        dirs.append(Path(os.environ["CS231N_DATA_DIR"]))
    dirs.append(Path(__file__).resolve().parent / "datasets")
    return dirs


def _has_files(folder):
    return all((folder / name).is_file() or (folder / (name + ".gz")).is_file() for name in FILES.values())


def find_dataset(name=None):
    """(the folder, 'mnist' or 'fashion-mnist') of the first data set found (``name``: only that one);
    FileNotFoundError otherwise."""
    if name not in (None, "mnist", "fashion-mnist"):
        raise ValueError(f"unknown data set {name!r}: 'mnist' or 'fashion-mnist'")
    dirs = data_dirs()
    for d in dirs if name in (None, "mnist") else []:
        if _has_files(d / "mnist"):
            return d / "mnist", "mnist"
    for d in dirs if name in (None, "fashion-mnist") else []:
        for folder in (d / "fashion-mnist", d / "fashion_mnist", d):
            if _has_files(folder):
                return folder, "fashion-mnist"
    if name in (None, "fashion-mnist") and _has_files(Path(SYSTEM_FASHION_MNIST_DIR)):
        return Path(SYSTEM_FASHION_MNIST_DIR), "fashion-mnist"
    raise FileNotFoundError(
        f"no {name or 'MNIST or Fashion-MNIST'} IDX files found in " + ", ".join(str(d) for d in dirs)
        + f" or {SYSTEM_FASHION_MNIST_DIR}: `apt-get install dataset-fashion-mnist`, or copy the four "
        "*-ubyte.gz files of MNIST into a mnist/ folder of one of those")


def _one_hot(labels, num_classes=10):
    out = np.zeros((labels.size, num_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1
    return out


def load_mnist(normalize=True, flatten=True, one_hot_label=False, folder=None):
    """The MNIST-format data set found by ``find_dataset`` (or the one in ``folder``).

    Inputs:
    - normalize: images as float32 in [0, 1] (else uint8 in 0..255)
    - flatten: images as rows (N, 784) (else (N, 1, 28, 28))
    - one_hot_label: labels one-hot (N, 10) float32 (else int64 (N,))

    Returns:
    - (x_train, t_train), (x_test, t_test): 60000 training and (up to) 10000 test examples
    """
    folder = Path(folder) if folder is not None else find_dataset()[0]

    def load(key):
        name = FILES[key]
        path = folder / (name + ".gz") if (folder / (name + ".gz")).is_file() else folder / name
        return read_idx(path)

    dataset = {key: load(key) for key in FILES}
    for key in ("train_img", "test_img"):
        x = dataset[key].reshape(-1, 1, 28, 28)
        if normalize:
            x = x.astype(np.float32) / np.float32(255.0)
        dataset[key] = x.reshape(x.shape[0], -1) if flatten else x
    for key in ("train_label", "test_label"):
        labels = dataset[key].astype(np.int64)
        dataset[key] = _one_hot(labels) if one_hot_label else labels
    return (dataset["train_img"], dataset["train_label"]), (dataset["test_img"], dataset["test_label"])
