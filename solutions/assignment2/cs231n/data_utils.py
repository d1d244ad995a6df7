"""Loading the data sets of the assignment: CIFAR-10, Fashion-MNIST (and MNIST), scikit-learn digits.

Nothing is ever downloaded: a missing data set raises FileNotFoundError that says how to get it.

The usual entry point is get_assignment_data(), which returns the standard splits as float32
arrays of shape (N, C, H, W) (or (N, D) with flatten=True) and int64 labels.

Data directories are searched in this order: $CS231N_DATA_DIR, <this package>/datasets/, and for
Fashion-MNIST also /usr/share/datasets/fashion-mnist/ (Debian package dataset-fashion-mnist).
"""
import gzip
import os
import pickle
from pathlib import Path

import numpy as np

SYSTEM_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
CIFAR10_DIRNAME = "cifar-10-batches-py"
FASHION_MNIST_DIRNAMES = ("fashion-mnist", "fashion_mnist")

# Parsed files, kept per process: {(what, resolved path, mtime_ns, size): arrays}
_CACHE = {}

# IDX type codes -> big-endian numpy dtypes
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def data_dirs():
    """The data directories searched, in order: $CS231N_DATA_DIR (if set), <package>/datasets."""
    dirs = []
    env = os.environ.get("CS231N_DATA_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parent / "datasets")
    return dirs


def _cached(what, path, parse):
    """parse(path), remembered per process (under the name `what`) while the file is unchanged."""
    path = Path(path).resolve()
    st = path.stat()
    key = (what, str(path), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE[key] = parse(path)
    return _CACHE[key]


###############################################################################
# IDX files (MNIST, Fashion-MNIST)                                            #
###############################################################################


def parse_idx(data):
    """Parse the bytes of an IDX file.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64) and the number of dimensions d, followed by d big-endian uint32
    sizes; the values follow, big-endian, in row-major order.

    Returns: a read-only array of shape (size_1, ..., size_d) in native byte order.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("not an IDX file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError("IDX file has unknown type code 0x%02x" % type_code)
    dtype = _IDX_DTYPES[type_code]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError("IDX file is truncated (header)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != header + count * dtype.itemsize:
        raise ValueError("IDX file size does not match its header: expected %d bytes of data, got %d"
                         % (count * dtype.itemsize, len(data) - header))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
        arr.flags.writeable = False
    return arr


def read_idx(path):
    """Read an IDX file, gzipped (name ending in .gz) or not. Returns a read-only array."""
    def parse(p):
        opener = gzip.open if p.name.endswith(".gz") else open
        with opener(p, "rb") as f:
            return parse_idx(f.read())

    return _cached("idx", path, parse)


def _find_idx(folder, stem):
    """folder/stem or folder/stem.gz, whichever exists (None if neither)."""
    for name in (stem, stem + ".gz"):
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None


def _idx_paths(path_prefix_or_dir, kind):
    """The (images, labels) paths of `kind` for a directory or a file-name prefix."""
    if kind not in ("train", "t10k"):
        raise ValueError('kind must be "train" or "t10k", not "%s"' % kind)
    base = str(path_prefix_or_dir)
    if os.path.isdir(base):
        folder, prefix = base, ""
    else:
        folder, prefix = os.path.dirname(base) or ".", os.path.basename(base)
    stems = ("%s%s-images-idx3-ubyte" % (prefix, kind), "%s%s-labels-idx1-ubyte" % (prefix, kind))
    return [(_find_idx(folder, s), os.path.join(folder, s)) for s in stems]


def load_mnist_idx(path_prefix_or_dir, kind="train"):
    """Load MNIST or Fashion-MNIST images and labels from IDX files, gzipped or not.

    Inputs:
    - path_prefix_or_dir: A directory holding '<kind>-images-idx3-ubyte[.gz]' and
      '<kind>-labels-idx1-ubyte[.gz]', or a path prefix P naming the files
      'P<kind>-images-idx3-ubyte[.gz]' and 'P<kind>-labels-idx1-ubyte[.gz]'.
    - kind: 'train' (the official training set) or 't10k' (the official test set)

    Returns a tuple of:
    - X: uint8 array of shape (N, rows, cols), read-only (parsed files are cached per process)
    - y: int64 array of shape (N,), read-only
    """
    (images, images_name), (labels, labels_name) = _idx_paths(path_prefix_or_dir, kind)
    for found, name in ((images, images_name), (labels, labels_name)):
        if found is None:
            raise FileNotFoundError("IDX file not found: %s (or %s.gz)" % (name, name))
    X = read_idx(images)
    y = _cached("idx-labels", labels, lambda p: _readonly(read_idx(p).astype(np.int64)))
    if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError("IDX images %s and labels %s do not match" % (X.shape, y.shape))
    return X, y


def _readonly(arr):
    arr.flags.writeable = False
    return arr


def _has_idx_set(folder):
    """Whether folder holds the four Fashion-MNIST/MNIST IDX files."""
    return all(_find_idx(folder, "%s-%s" % (kind, part)) is not None
               for kind in ("train", "t10k") for part in ("images-idx3-ubyte", "labels-idx1-ubyte"))


def find_fashion_mnist():
    """The first folder holding Fashion-MNIST: for each data dir D, D/fashion-mnist,
    D/fashion_mnist and D itself; then SYSTEM_FASHION_MNIST_DIR. Raises FileNotFoundError."""
    candidates = []
    for d in data_dirs():
        candidates += [d / name for name in FASHION_MNIST_DIRNAMES] + [d]
    candidates.append(Path(SYSTEM_FASHION_MNIST_DIR))
    for folder in candidates:
        if folder.is_dir() and _has_idx_set(folder):
            return folder
    raise FileNotFoundError(
        "Fashion-MNIST not found (looked in: %s). Install it with "
        "`apt-get install dataset-fashion-mnist` (it puts the gzipped IDX files in %s), or copy "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz (from the zalandoresearch/fashion-mnist repository) into %s."
        % (", ".join(str(c) for c in candidates), SYSTEM_FASHION_MNIST_DIR,
           data_dirs()[0] / FASHION_MNIST_DIRNAMES[0]))


###############################################################################
# CIFAR-10 (official "python version": pickled batches)                       #
###############################################################################


def _load_cifar_batch_raw(filename):
    """One batch file of the official CIFAR-10 python version.

    Returns a tuple of:
    - X: uint8 array of shape (N, 3, 32, 32), read-only
    - Y: int64 array of shape (N,), read-only
    """
    def parse(p):
        with open(p, "rb") as f:
            # The official dataset format is a pickled dict; its byte strings are latin1.
            datadict = pickle.load(f, encoding="latin1")
        X = np.asarray(datadict["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        Y = np.asarray(datadict["labels"], dtype=np.int64)
        if X.shape[0] != Y.shape[0]:
            raise ValueError("CIFAR-10 batch %s: %d images but %d labels" % (p, X.shape[0], Y.shape[0]))
        return _readonly(X), _readonly(Y)

    return _cached("cifar-batch", filename, parse)


def load_CIFAR_batch(filename):
    """Load a single batch of CIFAR-10.

    Returns a tuple of:
    - X: float64 array of shape (N, 32, 32, 3)
    - Y: int64 array of shape (N,)
    """
    X, Y = _load_cifar_batch_raw(filename)
    return X.transpose(0, 2, 3, 1).astype("float"), np.array(Y)


def load_CIFAR10(ROOT):
    """Load all of CIFAR-10 from the folder ROOT (the unpacked 'cifar-10-batches-py').

    Returns a tuple of:
    - Xtr: float64 array of shape (50000, 32, 32, 3); Ytr: int64 array of shape (50000,)
    - Xte: float64 array of shape (10000, 32, 32, 3); Yte: int64 array of shape (10000,)
    """
    xs, ys = [], []
    for b in range(1, 6):
        X, Y = load_CIFAR_batch(os.path.join(ROOT, "data_batch_%d" % b))
        xs.append(X)
        ys.append(Y)
    Xtr = np.concatenate(xs)
    Ytr = np.concatenate(ys)
    Xte, Yte = load_CIFAR_batch(os.path.join(ROOT, "test_batch"))
    return Xtr, Ytr, Xte, Yte


def _load_cifar10_nchw(root):
    """CIFAR-10 as uint8 (N, 3, 32, 32) arrays: (Xtr, Ytr, Xte, Yte)."""
    parts = [_load_cifar_batch_raw(os.path.join(root, "data_batch_%d" % b)) for b in range(1, 6)]
    Xtr = np.concatenate([p[0] for p in parts])
    Ytr = np.concatenate([p[1] for p in parts])
    Xte, Yte = _load_cifar_batch_raw(os.path.join(root, "test_batch"))
    return Xtr, Ytr, Xte, Yte


def find_cifar10(required=True):
    """The first folder D/cifar-10-batches-py (or D itself holding the batches) over the data
    dirs; None if there is none and not required, else FileNotFoundError."""
    candidates = []
    for d in data_dirs():
        candidates += [d / CIFAR10_DIRNAME, d]
    for folder in candidates:
        if (folder / "data_batch_1").is_file() and (folder / "test_batch").is_file():
            return folder
    if not required:
        return None
    target = data_dirs()[0]
    raise FileNotFoundError(
        "CIFAR-10 not found (looked in: %s). Download the CIFAR-10 python version "
        "(cifar-10-python.tar.gz, from https://www.cs.toronto.edu/~kriz/cifar.html) and unpack it "
        "into %s with `tar -xzf cifar-10-python.tar.gz -C %s`, so that %s/data_batch_1 exists "
        "(or set CS231N_DATA_DIR to the folder that holds %s)."
        % (", ".join(str(c) for c in candidates), target, target, target / CIFAR10_DIRNAME,
           CIFAR10_DIRNAME))


###############################################################################
# scikit-learn digits                                                         #
###############################################################################


def load_digits_data(num_validation=250, num_test=250, subtract_mean=True, flatten=False):
    """The 8x8 handwritten digits shipped with scikit-learn (1797 images, 10 classes, values 0..16),
    split deterministically: the images are shuffled with np.random.RandomState(0) (the global
    NumPy random state is untouched), then the first num_test go to test, the next
    num_validation to validation and the rest (1297 by default) to training.

    Returns a dict like get_assignment_data: X_* float32 of shape (N, 1, 8, 8) (or (N, 64) with
    flatten=True), y_* int64 of shape (N,), and 'dataset': 'digits'.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(X.shape[0])
    X, y = X[order], y[order]
    if num_test + num_validation >= X.shape[0]:
        raise ValueError("num_validation + num_test leaves no training data")
    test = slice(0, num_test)
    val = slice(num_test, num_test + num_validation)
    train = slice(num_test + num_validation, None)
    return _finish(X[train], y[train], X[val], y[val], X[test], y[test], "digits",
                   subtract_mean, flatten)


###############################################################################
# The assignment's data                                                       #
###############################################################################


def _finish(X_train, y_train, X_val, y_val, X_test, y_test, dataset, subtract_mean, flatten):
    """float32 images, int64 labels, optional mean subtraction and flattening, as a dict.

    The images may come in any numeric dtype (uint8 for the raw data sets); the conversion to
    float32 and the mean subtraction are done in one pass per split.
    """
    splits = (X_train, X_val, X_test)
    if subtract_mean:
        mean_image = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)
        X_train, X_val, X_test = (np.subtract(X, mean_image, dtype=np.float32) for X in splits)
    else:
        X_train, X_val, X_test = (np.array(X, dtype=np.float32) for X in splits)
    if flatten:
        X_train, X_val, X_test = (X.reshape(X.shape[0], -1) for X in (X_train, X_val, X_test))
    return {
        "X_train": X_train, "y_train": np.array(y_train, dtype=np.int64),
        "X_val": X_val, "y_val": np.array(y_val, dtype=np.int64),
        "X_test": X_test, "y_test": np.array(y_test, dtype=np.int64),
        "dataset": dataset,
    }


def get_assignment_data(num_training=None, num_validation=1000, num_test=1000, subtract_mean=True,
                        dataset=None, flatten=False):
    """Load the assignment's data set and split it.

    Inputs:
    - num_training: Number of training images (default: all that the validation split leaves,
      49000 for CIFAR-10 and 59000 for Fashion-MNIST)
    - num_validation: Size of the validation split, taken from the END of the official training
      set (the training split is always taken from its start, so the two never overlap)
    - num_test: Size of the test split: the FIRST num_test images of the official test set (the
      rest of the official test set is kept aside as the grader's hidden split)
    - subtract_mean: Subtract the mean training image from every split (pixels stay on the
      0..255 scale otherwise)
    - dataset: None (CIFAR-10 if a 'cifar-10-batches-py' folder is found in the data dirs, else
      Fashion-MNIST), or 'cifar10', 'fashion_mnist' or 'digits' to force one
    - flatten: Return images as rows of shape (N, D) instead of (N, C, H, W)

    Returns a dict with:
    - X_train, X_val, X_test: float32 arrays of shape (N, C, H, W): (N, 3, 32, 32) for CIFAR-10,
      (N, 1, 28, 28) for Fashion-MNIST; (N, C*H*W) with flatten=True
    - y_train, y_val, y_test: int64 arrays of shape (N,)
    - dataset: 'cifar10' or 'fashion_mnist' (or 'digits')
    """
    if dataset is None:
        dataset = "cifar10" if find_cifar10(required=False) is not None else "fashion_mnist"
    if dataset == "digits":
        return load_digits_data(num_validation=num_validation, num_test=num_test,
                                subtract_mean=subtract_mean, flatten=flatten)
    if dataset == "cifar10":
        Xtr, Ytr, Xte, Yte = _load_cifar10_nchw(find_cifar10())
    elif dataset == "fashion_mnist":
        folder = find_fashion_mnist()
        Xtr, Ytr = load_mnist_idx(folder, "train")
        Xte, Yte = load_mnist_idx(folder, "t10k")
        Xtr, Xte = Xtr[:, None, :, :], Xte[:, None, :, :]
    else:
        raise ValueError('Unknown dataset "%s" (expected None, "cifar10", "fashion_mnist" or "digits")'
                         % dataset)

    num_available = Xtr.shape[0] - num_validation
    if num_training is None:
        num_training = num_available
    if num_training > num_available or num_training < 0 or num_validation < 0:
        raise ValueError("num_training + num_validation must be at most %d" % Xtr.shape[0])
    if num_test > Xte.shape[0] or num_test < 0:
        raise ValueError("num_test must be at most %d" % Xte.shape[0])
    val = slice(Xtr.shape[0] - num_validation, Xtr.shape[0])
    return _finish(Xtr[:num_training], Ytr[:num_training], Xtr[val], Ytr[val],
                   Xte[:num_test], Yte[:num_test], dataset, subtract_mean, flatten)


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True):
    """The classic loader: CIFAR-10 splits as float32 (N, 3, 32, 32) arrays in a dict (see
    get_assignment_data).

    With a smaller copy of CIFAR-10 (fewer images than the splits ask for, e.g. a subset given to speed
    grading up), the training and validation splits shrink in proportion and the test split to what there
    is, and a line says so."""
    Xtr, _, Xte, _ = _load_cifar10_nchw(find_cifar10())
    wanted = (num_training, num_validation, num_test)
    if num_training + num_validation > Xtr.shape[0]:
        scale = Xtr.shape[0] / float(num_training + num_validation)
        num_validation = max(1, int(num_validation * scale))
        num_training = Xtr.shape[0] - num_validation
    num_test = min(num_test, Xte.shape[0])
    if (num_training, num_validation, num_test) != wanted:
        print("get_CIFAR10_data: this copy of CIFAR-10 has %d training and %d test images; the splits are "
              "%d / %d / %d" % (Xtr.shape[0], Xte.shape[0], num_training, num_validation, num_test))
    return get_assignment_data(num_training=num_training, num_validation=num_validation,
                               num_test=num_test, subtract_mean=subtract_mean, dataset="cifar10")


###############################################################################
# The course's other loaders (Tiny ImageNet, pickled models, ImageNet val)    #
###############################################################################


def load_pickle(f):
    """Unpickle from the open binary file ``f`` (byte strings of Python 2 pickles read as latin1)."""
    return pickle.load(f, encoding="latin1")


def _read_image(path):
    from PIL import Image  # noqa: PLC0415 - only Tiny ImageNet needs it

    with Image.open(path) as img:
        arr = np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB") else img)
    return arr


def load_tiny_imagenet(path, dtype=np.float32, subtract_mean=True):
    """Load Tiny ImageNet (the folder ``path`` holding wnids.txt, words.txt, train/, val/, test/).

    Returns a dictionary with the following entries:
    - class_names: A list where class_names[i] is a list of strings giving the WordNet names for class i
    - X_train: (N_tr, 3, 64, 64) array of training images
    - y_train: (N_tr,) array of training labels
    - X_val: (N_val, 3, 64, 64) array of validation images
    - y_val: (N_val,) array of validation labels
    - X_test: (N_test, 3, 64, 64) array of testing images
    - y_test: (N_test,) array of testing labels; None if the test labels are not available
    - mean_image: (3, 64, 64) array giving the mean training image
    """
    path = Path(path)
    wnids = [line.strip() for line in (path / "wnids.txt").read_text().splitlines() if line.strip()]
    wnid_to_label = {wnid: i for i, wnid in enumerate(wnids)}
    wnid_to_words = {}
    for line in (path / "words.txt").read_text().splitlines():
        wnid, _, words = line.partition("\t")
        wnid_to_words[wnid] = [w.strip() for w in words.split(",")]
    class_names = [wnid_to_words.get(wnid, [wnid]) for wnid in wnids]

    def load(files):
        X = np.zeros((len(files), 3, 64, 64), dtype=dtype)
        for i, f in enumerate(files):
            img = _read_image(f)
            if img.ndim == 2:
                img = img[:, :, None]
            X[i] = img.transpose(2, 0, 1)
        return X

    X_train, y_train = [], []
    for wnid in wnids:
        boxes = path / "train" / wnid / ("%s_boxes.txt" % wnid)
        files = [path / "train" / wnid / "images" / line.split("\t")[0]
                 for line in boxes.read_text().splitlines() if line.strip()]
        X_train.append(load(files))
        y_train.append(np.full(len(files), wnid_to_label[wnid], dtype=np.int64))
    X_train, y_train = np.concatenate(X_train), np.concatenate(y_train)

    rows = [line.split("\t") for line in (path / "val" / "val_annotations.txt").read_text().splitlines() if line]
    X_val = load([path / "val" / "images" / r[0] for r in rows])
    y_val = np.array([wnid_to_label[r[1]] for r in rows], dtype=np.int64)

    test_files = sorted((path / "test" / "images").iterdir())
    X_test, y_test = load(test_files), None
    annotations = path / "test" / "test_annotations.txt"
    if annotations.is_file():
        labels = dict(line.split("\t")[:2] for line in annotations.read_text().splitlines() if line)
        y_test = np.array([wnid_to_label[labels[f.name]] for f in test_files], dtype=np.int64)

    mean_image = X_train.mean(axis=0)
    if subtract_mean:
        X_train = X_train - mean_image[None]
        X_val = X_val - mean_image[None]
        X_test = X_test - mean_image[None]
    return {"class_names": class_names, "X_train": X_train, "y_train": y_train, "X_val": X_val,
            "y_val": y_val, "X_test": X_test, "y_test": y_test, "mean_image": mean_image}


def load_models(models_dir):
    """Load the pickled models of ``models_dir``: ``{file name: model}``; files that do not unpickle are
    skipped."""
    models = {}
    for name in sorted(os.listdir(models_dir)):
        with open(os.path.join(models_dir, name), "rb") as f:
            try:
                models[name] = load_pickle(f)["model"]
            except (pickle.UnpicklingError, KeyError, TypeError, EOFError):
                continue
    return models


def load_imagenet_val(num=None):
    """A few ImageNet validation images (datasets/imagenet_val_25.npz).

    Inputs:
    - num: the number of images to load (max 25); None: all of them

    Returns:
    - X: (num, 224, 224, 3) uint8 array of images
    - y: (num,) int array of labels
    - class_names: dict mapping integer label to class name
    """
    for d in data_dirs():
        imagenet_fn = d / "imagenet_val_25.npz"
        if imagenet_fn.is_file():
            break
    else:
        raise FileNotFoundError("imagenet_val_25.npz not found in %s (the course's get_datasets.sh "
                                "downloads it)" % ", ".join(str(d) for d in data_dirs()))
    f = np.load(imagenet_fn, allow_pickle=True)
    X, y, class_names = f["X"], f["y"], f["label_map"].item()
    if num is not None:
        X, y = X[:num], y[:num]
    return X, y, class_names
