"""Training on real data, the data loaders (on small files written here in the official formats)
and saving/loading models, all against the solutions."""
import gzip
import pickle
import time

import numpy as np
import pytest

from support.paths import PACKAGE_ROOTS


@pytest.fixture(scope="module")
def du(solutions):
    return solutions("data_utils")


@pytest.fixture(scope="module")
def fc_net(solutions):
    return solutions("classifiers.fc_net")


@pytest.fixture(scope="module")
def model_io(solutions):
    return solutions("model_io")


@pytest.fixture(scope="module")
def fashion(du):
    """The real Fashion-MNIST splits, flattened (skips if the data set is not installed)."""
    try:
        du.find_fashion_mnist()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return du.get_assignment_data(dataset="fashion_mnist", flatten=True)


@pytest.fixture
def no_data(du, tmp_path, monkeypatch):
    """No data set anywhere: an empty $CS231N_DATA_DIR and no system Fashion-MNIST."""
    if (PACKAGE_ROOTS["solutions"] / "datasets").exists():
        pytest.skip("solutions/cs231n/datasets exists; the missing-data checks need it absent")
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("CS231N_DATA_DIR", str(empty))
    monkeypatch.setattr(du, "SYSTEM_FASHION_MNIST_DIR", str(tmp_path / "no-such-dir"))
    return empty


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def test_two_layer_net_on_fashion_mnist(solutions, fc_net, fashion):
    """A 784-100-10 TwoLayerNet trained by the Solver (adam) reaches >= 0.85 test accuracy
    within 5 epochs. Parameters in float32, like the data."""
    Solver = solutions("solver").Solver
    np.random.seed(0)
    model = fc_net.TwoLayerNet(input_dim=784, hidden_dim=100, num_classes=10, weight_scale=1e-3)
    model.params = {k: v.astype(np.float32) for k, v in model.params.items()}
    solver = Solver(model, fashion, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.7, num_epochs=5, batch_size=200, verbose=False)
    start = time.perf_counter()
    solver.train()
    elapsed = time.perf_counter() - start
    scores = model.loss(fashion["X_test"])
    assert scores.dtype == np.float32
    test_acc = np.mean(np.argmax(scores, axis=1) == fashion["y_test"])
    assert test_acc >= 0.85, (test_acc, solver.val_acc_history)
    assert len(solver.val_acc_history) == 6
    assert elapsed < 120, elapsed


# --------------------------------------------------------------------------------------------
# get_assignment_data on the real Fashion-MNIST
# --------------------------------------------------------------------------------------------

def test_fashion_mnist_splits(du, fashion):
    d = fashion
    assert d["dataset"] == "fashion_mnist"
    assert d["X_train"].shape == (59000, 784) and d["y_train"].shape == (59000,)
    assert d["X_val"].shape == (1000, 784) and d["X_test"].shape == (1000, 784)
    for k in ("X_train", "X_val", "X_test"):
        assert d[k].dtype == np.float32
    for k in ("y_train", "y_val", "y_test"):
        assert d[k].dtype == np.int64
    # mean subtraction with the training mean
    assert np.abs(d["X_train"].mean(axis=0)).max() < 1e-3
    # val = last 1000 of the official training set, test = first 1000 of the official test set
    folder = du.find_fashion_mnist()
    Xtr, ytr = du.load_mnist_idx(folder, "train")
    Xte, yte = du.load_mnist_idx(folder, "t10k")
    raw = du.get_assignment_data(dataset="fashion_mnist", subtract_mean=False)
    assert raw["X_train"].shape == (59000, 1, 28, 28) and raw["X_train"].dtype == np.float32
    assert np.array_equal(raw["X_val"][:, 0], Xtr[59000:]) and np.array_equal(raw["y_val"], ytr[59000:])
    assert np.array_equal(raw["X_train"][:, 0], Xtr[:59000])
    assert np.array_equal(raw["X_test"][:, 0], Xte[:1000]) and np.array_equal(raw["y_test"], yte[:1000])
    assert raw["X_train"].max() == 255.0 and raw["X_train"].min() == 0.0
    mean = Xtr[:59000].astype(np.float64).mean(axis=0).reshape(-1)
    np.testing.assert_allclose(d["X_val"], raw["X_val"].reshape(1000, -1) - mean, atol=1e-3)
    small = du.get_assignment_data(num_training=500, num_validation=200, num_test=100,
                                   dataset="fashion_mnist")
    assert [small[k].shape[0] for k in ("X_train", "X_val", "X_test")] == [500, 200, 100]
    assert np.array_equal(small["y_val"], ytr[-200:])


def test_fashion_mnist_loading_is_fast(du, fashion):
    start = time.perf_counter()
    du.get_assignment_data(dataset="fashion_mnist")
    assert time.perf_counter() - start < 1.0


def test_default_dataset_is_fashion_mnist_without_cifar(du, fashion, tmp_path, monkeypatch):
    if (PACKAGE_ROOTS["solutions"] / "datasets").exists():
        pytest.skip("solutions/cs231n/datasets exists")
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    assert du.get_assignment_data(num_training=10)["dataset"] == "fashion_mnist"


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(arr):
    """The IDX encoding of arr: magic (0, 0, type code, ndim), big-endian sizes, big-endian data."""
    header = bytes([0, 0, _IDX_CODES[arr.dtype], arr.ndim])
    header += np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr):
    data = idx_bytes(arr)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def write_mnist_like(folder, n_train, n_test, gz, seed=0, prefix=""):
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sets = {}
    for kind, n in (("train", n_train), ("t10k", n_test)):
        X = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        y = rng.randint(0, 10, size=n).astype(np.uint8)
        ext = ".gz" if gz else ""
        write_idx(folder / ("%s%s-images-idx3-ubyte%s" % (prefix, kind, ext)), X)
        write_idx(folder / ("%s%s-labels-idx1-ubyte%s" % (prefix, kind, ext)), y)
        sets[kind] = (X, y)
    return sets


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_idx(du, tmp_path, gz):
    sets = write_mnist_like(tmp_path / "fm", 30, 12, gz)
    for kind in ("train", "t10k"):
        X, y = du.load_mnist_idx(tmp_path / "fm", kind)
        assert X.dtype == np.uint8 and y.dtype == np.int64
        assert np.array_equal(X, sets[kind][0]) and np.array_equal(y, sets[kind][1])
    # a prefix of the file names instead of a directory
    write_mnist_like(tmp_path / "pre", 5, 3, gz, prefix="fashion-")
    X, y = du.load_mnist_idx(str(tmp_path / "pre" / "fashion-"), "t10k")
    assert X.shape == (3, 28, 28) and y.shape == (3,)
    with pytest.raises(ValueError):
        du.load_mnist_idx(tmp_path / "fm", "test")
    with pytest.raises(FileNotFoundError):
        du.load_mnist_idx(tmp_path / "nowhere", "train")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_parse_idx_types(du, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    parsed = du.parse_idx(idx_bytes(arr))
    assert parsed.dtype == np.dtype(dtype) and parsed.dtype.isnative
    assert np.array_equal(parsed, arr)


def test_parse_idx_rejects_bad_files(du):
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError):
        du.parse_idx(b"\x01" + good[1:])          # bad magic
    with pytest.raises(ValueError):
        du.parse_idx(good[:2] + b"\x07" + good[3:])  # unknown type code
    with pytest.raises(ValueError):
        du.parse_idx(good[:-1])                   # truncated data
    with pytest.raises(ValueError):
        du.parse_idx(good + b"\x00")              # trailing data


def test_fake_fashion_mnist_in_data_dir(du, tmp_path, monkeypatch):
    sets = write_mnist_like(tmp_path / "fashion-mnist", 50, 20, gz=True, seed=3)
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    d = du.get_assignment_data(num_validation=10, num_test=5, dataset="fashion_mnist")
    Xtr, ytr = sets["train"]
    mean = Xtr[:40].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(d["X_train"][:, 0], Xtr[:40] - mean, atol=1e-4)
    np.testing.assert_allclose(d["X_val"][:, 0], Xtr[40:] - mean, atol=1e-4)
    np.testing.assert_allclose(d["X_test"][:, 0], sets["t10k"][0][:5] - mean, atol=1e-4)
    assert np.array_equal(d["y_val"], ytr[40:])
    flat = du.get_assignment_data(num_training=20, num_validation=10, num_test=5,
                                  dataset="fashion_mnist", flatten=True)
    assert flat["X_train"].shape == (20, 784) and flat["X_val"].shape == (10, 784)
    with pytest.raises(ValueError):
        du.get_assignment_data(num_training=45, num_validation=10, dataset="fashion_mnist")


# --------------------------------------------------------------------------------------------
# Missing data sets
# --------------------------------------------------------------------------------------------

def test_missing_fashion_mnist_says_how_to_get_it(du, no_data):
    with pytest.raises(FileNotFoundError) as info:
        du.get_assignment_data()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(no_data) in message


def test_missing_cifar10_says_how_to_get_it(du, no_data):
    with pytest.raises(FileNotFoundError) as info:
        du.get_assignment_data(dataset="cifar10")
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and str(no_data) in message


def test_unknown_dataset_name(du):
    with pytest.raises(ValueError):
        du.get_assignment_data(dataset="imagenet")


# --------------------------------------------------------------------------------------------
# CIFAR-10 (official python-version format, tiny fake copy)
# --------------------------------------------------------------------------------------------

def write_fake_cifar(root, per_batch=6, n_test=5, seed=4):
    """Five data batches and a test batch, each a pickled dict as in the official release."""
    rng = np.random.RandomState(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = []
    for name, n in [("data_batch_%d" % b, per_batch) for b in range(1, 6)] + [("test_batch", n_test)]:
        data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
        labels = rng.randint(0, 10, size=n).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": data,
                         "filenames": ["img_%d.png" % i for i in range(n)]}, f, protocol=2)
        batches.append((data, np.array(labels)))
    return folder, batches


def test_load_cifar10_fake(du, tmp_path, monkeypatch):
    folder, batches = write_fake_cifar(tmp_path)
    Xtr, Ytr, Xte, Yte = du.load_CIFAR10(str(folder))
    assert Xtr.shape == (30, 32, 32, 3) and Xte.shape == (5, 32, 32, 3)
    assert Ytr.shape == (30,) and Yte.shape == (5,)
    # official layout: each row is 1024 red, 1024 green, 1024 blue values, rows of 32 pixels
    data0 = batches[0][0]
    assert Xtr[0, 2, 5, 1] == data0[0, 1 * 1024 + 2 * 32 + 5]
    assert np.array_equal(Ytr[6:12], batches[1][1])

    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    d = du.get_assignment_data(num_validation=5, num_test=4, subtract_mean=False)
    assert d["dataset"] == "cifar10"
    assert d["X_train"].shape == (25, 3, 32, 32) and d["X_train"].dtype == np.float32
    assert d["X_val"].shape == (5, 3, 32, 32) and d["X_test"].shape == (4, 3, 32, 32)
    assert d["X_train"][0, 1, 2, 5] == data0[0, 1 * 1024 + 2 * 32 + 5]
    assert np.array_equal(d["y_val"], batches[4][1][1:])
    assert np.array_equal(d["y_test"], batches[5][1][:4])
    flat = du.get_assignment_data(num_validation=5, num_test=4, flatten=True)
    assert flat["X_train"].shape == (25, 3072)
    assert abs(float(flat["X_train"].mean())) < 1e-3


# --------------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------------

def test_digits_loader(du):
    state = np.random.get_state()
    d = du.load_digits_data()
    assert np.array_equal(np.random.get_state()[1], state[1]), "global RNG must be untouched"
    assert d["dataset"] == "digits"
    assert [d[k].shape for k in ("X_train", "X_val", "X_test")] == [(1297, 1, 8, 8), (250, 1, 8, 8),
                                                                   (250, 1, 8, 8)]
    assert d["X_train"].dtype == np.float32 and d["y_test"].dtype == np.int64
    again = du.load_digits_data()
    assert all(np.array_equal(d[k], again[k]) for k in ("X_train", "y_train", "X_test", "y_val"))
    assert set(np.unique(d["y_train"])) == set(range(10))
    flat = du.load_digits_data(num_validation=100, num_test=97, subtract_mean=False, flatten=True)
    assert flat["X_train"].shape == (1600, 64) and flat["X_train"].max() == 16.0


# --------------------------------------------------------------------------------------------
# model_io
# --------------------------------------------------------------------------------------------

def _trained_bn_model(fc_net):
    rng = np.random.RandomState(15)
    model = fc_net.FullyConnectedNet([20, 10], input_dim=15, num_classes=5,
                                     normalization="batchnorm", dropout=0.8)
    for _ in range(3):
        model.loss(rng.randn(8, 15).astype(np.float32) + 2, rng.randint(5, size=8))
    return model, rng.randn(6, 15).astype(np.float32)


def test_model_io_round_trip_batchnorm(fc_net, model_io, tmp_path):
    model, X = _trained_bn_model(fc_net)
    path = tmp_path / "best_model.npz"
    model_io.save_model(model, path, dataset="fashion_mnist", val_acc=0.87)
    with np.load(path, allow_pickle=False) as f:
        files = set(f.files)
        assert str(f["meta_class"]) == "FullyConnectedNet"
        assert f["meta_hidden_dims"].tolist() == [20, 10]
        assert str(f["meta_normalization"]) == "batchnorm"
        assert str(f["meta_dataset"]) == "fashion_mnist" and float(f["meta_val_acc"]) == 0.87
        assert int(f["meta_input_dim"]) == 15 and int(f["meta_num_classes"]) == 5
        assert f["meta_dataset"].dtype.kind == "U"
    assert set(model.params) <= files
    assert {"bn1_running_mean", "bn1_running_var", "bn2_running_mean", "bn2_running_var"} <= files
    loaded = model_io.load_model(path)
    assert type(loaded).__name__ == "FullyConnectedNet" and loaded.normalization == "batchnorm"
    for k, v in model.params.items():
        assert loaded.params[k].dtype == v.dtype and np.array_equal(loaded.params[k], v), k
    for a, b in zip(model.bn_params, loaded.bn_params):
        assert np.array_equal(a["running_mean"], b["running_mean"])
        assert np.array_equal(a["running_var"], b["running_var"])
        assert np.any(b["running_var"] != 0)
    assert np.array_equal(model.loss(X), loaded.loss(X))
    assert model_io.read_meta(path)["dataset"] == "fashion_mnist"


@pytest.mark.parametrize("make", ["two_layer", "layernorm", "plain64"])
def test_model_io_round_trip_other_models(fc_net, model_io, tmp_path, make):
    if make == "two_layer":
        model = fc_net.TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=4)
    elif make == "layernorm":
        model = fc_net.FullyConnectedNet([9, 8, 7], input_dim=12, num_classes=4,
                                         normalization="layernorm")
    else:
        model = fc_net.FullyConnectedNet([9], input_dim=12, num_classes=4, dtype=np.float64)
    X = np.random.RandomState(16).randn(5, 12)
    path = tmp_path / "m.npz"
    model_io.save_model(model, path)
    loaded = model_io.load_model(path)
    assert type(loaded) is type(model)
    assert sorted(loaded.params) == sorted(model.params)
    assert np.array_equal(loaded.loss(X), model.loss(X))


def test_model_io_refuses_pickles_and_bad_files(fc_net, model_io, tmp_path):
    model = fc_net.FullyConnectedNet([4], input_dim=3, num_classes=2)
    good = tmp_path / "good.npz"
    model_io.save_model(model, good)
    with np.load(good, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **arrays, evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        model_io.load_model(pickled)

    raw_pickle = tmp_path / "raw.npz"
    raw_pickle.write_bytes(pickle.dumps({"W1": 1}))
    with pytest.raises(ValueError):
        model_io.load_model(raw_pickle)

    for change in ({"meta_class": np.array("os.system")}, {"W1": np.zeros((5, 5), np.float32)}):
        bad = tmp_path / "bad.npz"
        np.savez(bad, **{**arrays, **change})
        with pytest.raises(ValueError):
            model_io.load_model(bad)
    no_meta = tmp_path / "nometa.npz"
    np.savez(no_meta, **{k: v for k, v in arrays.items() if not k.startswith("meta_")})
    with pytest.raises(ValueError):
        model_io.load_model(no_meta)


def test_model_io_refuses_to_save_other_models(model_io, tmp_path):
    class ThreeLayerConvNet:
        params = {"W1": np.zeros((4, 3, 3, 3)), "b1": np.zeros(4)}

    with pytest.raises(TypeError):
        model_io.save_model(ThreeLayerConvNet(), tmp_path / "conv.npz")
    assert not (tmp_path / "conv.npz").exists()
