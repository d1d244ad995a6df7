"""The trusted-side proxy: calls, handles, keep=, objects, errors with student frames only, seeding.

Runs the real worker (in the real sandbox when bubblewrap works here, else as the explicit unsandboxed
subprocess: the protocol and handle semantics are the same).
"""
from __future__ import annotations

import gc
import shutil
import textwrap

import numpy as np
import pytest

from grader.sandbox import launch
from grader.sandbox.inside.codec import CodecError
from grader.sandbox.proxy import Handle, Limits, Sandbox, StaleHandle, StudentError, StudentTimeout

SANDBOXED = shutil.which("bwrap") is not None

LAYERS = '''
import numpy as np
from .helpers import check_shapes


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


class Opaque:
    def __init__(self, v):
        self.v = v


def make_opaque(v):
    return Opaque(v)


def pair_with_opaque(v):
    return v * 2, Opaque(v)


def read_opaque(o):
    return o.v


def not_a_tuple():
    return 5


def broken(x):
    return check_shapes(x)


def draw(n):
    return np.random.randn(n), np.random.randint(0, 1000)


def chatty(n):
    for i in range(n):
        print("line", i)
    return n


def echo(*args, **kwargs):
    return args, kwargs


def spin():
    while True:
        pass
'''

HELPERS = '''
def check_shapes(x):
    return _deeper(x)


def _deeper(x):
    raise ValueError(f"bad shape {x.shape}")
'''

MODEL = '''
import numpy as np


class TinyNet:
    def __init__(self, input_dim=3, num_classes=2, reg=0.0):
        self.params = {"W1": np.zeros((input_dim, num_classes)), "b1": np.zeros(num_classes)}
        self.reg = reg
        self.history = []

    def loss(self, X, y=None):
        scores = X @ self.params["W1"] + self.params["b1"]
        if y is None:
            return scores
        return float(np.mean(scores)) + self.reg, {"W1": np.ones_like(self.params["W1"])}


class Trainer:
    def __init__(self, model, data, steps=1):
        self.model, self.data, self.steps = model, data, steps

    def train(self):
        for _ in range(self.steps):
            self.model.params["W1"] -= 0.1
            self.model.history.append(self.model.loss(self.data["X"])[0, 0])
        return len(self.model.history)
'''


def write_package(root, files: dict[str, str]):
    pkg = root / "cs231n"
    for name, text in {"__init__.py": "", **files}.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return pkg


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = tmp_path_factory.mktemp("proxy_pkg")
    return write_package(root, {"layers.py": LAYERS, "helpers.py": HELPERS, "classifiers/__init__.py": "",
                                "classifiers/tiny.py": MODEL, "bad_syntax.py": "def f(:\n    pass\n"})


@pytest.fixture(scope="module")
def sb(package):
    with Sandbox(package, sandboxed=SANDBOXED, limits=Limits(timeout=20)) as box:
        yield box


def test_call_returns_plain_data_with_dtypes_preserved(sb):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 2, 3), (6, 5), (5,)))
    out, cache = sb.call("cs231n.layers.affine_forward", x, w, b)
    assert type(out) is np.ndarray and out.dtype == np.float32
    np.testing.assert_allclose(out, x.reshape(4, -1) @ w + b, rtol=1e-6)
    assert type(cache) is tuple and np.array_equal(cache[0], x)
    args, kwargs = sb.call("cs231n.layers.echo", 1, 2.5, None, "s", [1, (2,)], k={"a": np.int64(3)})
    assert args == (1, 2.5, None, "s", [1, (2,)]) and type(kwargs["k"]["a"]) is np.int64


def test_keep_returns_handles_that_work_as_arguments(sb):
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
    out, cache = sb.call("cs231n.layers.affine_forward", x, w, b, keep=(1,))
    assert isinstance(cache, Handle) and out.shape == (2, 4)
    dx, dw, db = sb.call("cs231n.layers.affine_backward", np.ones((2, 4)), cache)
    np.testing.assert_allclose(dx, np.full((2, 3), 4.0))
    np.testing.assert_allclose(db, [2.0] * 4)
    fetched = sb.fetch(cache)
    assert type(fetched) is tuple and np.array_equal(fetched[1], w)
    whole = sb.call("cs231n.layers.affine_forward", x, w, b, keep=True)
    assert isinstance(whole, Handle)
    with pytest.raises(StudentError) as e:  # keep on a result that is not a tuple: the student's fault
        sb.call("cs231n.layers.not_a_tuple", keep=(0,))
    assert e.value.exc_type == "TypeError"


def test_results_that_are_not_plain_data_come_back_as_handles(sb):
    h = sb.call("cs231n.layers.make_opaque", 7)
    assert isinstance(h, Handle)
    assert sb.call("cs231n.layers.read_opaque", h) == 7
    assert sb.getattr(h, "v") == 7
    doubled, h2 = sb.call("cs231n.layers.pair_with_opaque", np.arange(3))
    assert np.array_equal(doubled, [0, 2, 4]) and isinstance(h2, Handle)
    assert sb.call("cs231n.layers.read_opaque", h2).tolist() == [0, 1, 2]


def test_objects_new_getattr_setitem_setattr_call_method(sb):
    model = sb.new("cs231n.classifiers.tiny.TinyNet", input_dim=3, num_classes=2)
    params = sb.getattr(model, "params")
    assert set(params) == {"W1", "b1"} and params["W1"].shape == (3, 2)
    w1 = np.arange(6, dtype=np.float64).reshape(3, 2)
    sb.setitem(model, ("params", "W1"), w1)
    sb.setitem(model, ("params", "b1", 1), 10.0)  # into the ndarray
    sb.setattr(model, "reg", 1.0)
    assert np.array_equal(sb.getattr(model, "params")["W1"], w1)
    X = np.eye(3)
    np.testing.assert_allclose(sb.call_method(model, "loss", X), w1 + [0.0, 10.0])
    loss, grads = sb.call_method(model, "loss", X, np.zeros(3, dtype=np.int64))
    assert loss == pytest.approx(np.mean(w1 + [0.0, 10.0]) + 1.0) and grads["W1"].shape == (3, 2)
    data = sb.put({"X": X, "y": np.zeros(3, dtype=np.int64)})
    assert isinstance(data, Handle) and np.array_equal(sb.fetch(data)["X"], X)
    trainer = sb.new("cs231n.classifiers.tiny.Trainer", model, data, steps=3)
    assert sb.call_method(trainer, "train") == 3
    assert len(sb.getattr(trainer, "model.history")) == 3
    np.testing.assert_allclose(sb.getattr(model, "params")["W1"], w1 - 0.3)


def test_student_error_shows_student_frames_only(sb):
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.layers.broken", np.zeros((2, 5)))
    err = e.value
    assert err.exc_type == "ValueError" and err.message == "bad shape (2, 5)"
    tb = err.traceback
    assert "cs231n/layers.py" in tb and "cs231n/helpers.py" in tb and "_deeper" in tb
    assert "worker.py" not in tb and "codec.py" not in tb and "harness" not in tb and "importlib" not in tb
    assert tb.strip().endswith("ValueError: bad shape (2, 5)")


def test_import_and_lookup_errors_are_student_errors(sb):
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.bad_syntax.f")
    assert e.value.exc_type == "SyntaxError" and "bad_syntax.py" in e.value.traceback
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.layers.no_such_function")
    assert e.value.exc_type == "AttributeError"
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.no_such_module.f")
    assert e.value.exc_type == "ModuleNotFoundError"


def test_seed_makes_draws_reproducible_across_workers(package, sb):
    sb.seed(231)
    a, ia = sb.call("cs231n.layers.draw", 5)
    sb.seed(231)
    b, ib = sb.call("cs231n.layers.draw", 5)
    sb.seed(0)
    c, _ = sb.call("cs231n.layers.draw", 5)
    assert np.array_equal(a, b) and ia == ib and not np.array_equal(a, c)
    np.random.seed(231)  # the same as numpy in this process
    np.testing.assert_array_equal(a, np.random.randn(5))
    with Sandbox(package, sandboxed=SANDBOXED) as other:
        other.seed(231)
        d, _ = other.call("cs231n.layers.draw", 5)
    assert np.array_equal(a, d)


def test_a_seed_travels_with_the_next_request(sb):
    before = sb._seq
    sb.seed(7)
    assert sb._seq == before                       # no round trip of its own
    a, _ = sb.call("cs231n.layers.draw", 3)
    b, _ = sb.call("cs231n.layers.draw", 3)        # not seeded again
    np.random.seed(7)
    np.testing.assert_array_equal(a, np.random.randn(3))
    assert not np.array_equal(a, b)
    for bad in (-1, 2 ** 32, 1.5, "7", True):
        with pytest.raises(ValueError):
            sb.seed(bad)
    assert sb.call("cs231n.layers.draw", 1) is not None   # a refused seed leaves the worker serving
    from grader.sandbox.proxy import RequestError
    for bad in ("7", -1, 1.0):                              # the worker checks a seed it is sent, too
        with pytest.raises(RequestError, match="reseed"):
            sb._request("ping", {"reseed": bad}, None)
    assert sb.ping() == "pong"


def test_released_and_foreign_handles_are_stale(package, sb):
    h = sb.call("cs231n.layers.make_opaque", 1)
    sb.release(h)
    with pytest.raises(StaleHandle):
        sb.call("cs231n.layers.read_opaque", h)
    other = Sandbox(package, sandboxed=SANDBOXED)
    try:
        with pytest.raises(StaleHandle):
            other.call("cs231n.layers.read_opaque", sb.call("cs231n.layers.make_opaque", 2))
    finally:
        other.close()


def test_garbage_collected_handles_are_dropped_in_the_worker(sb):
    handles = [sb.call("cs231n.layers.make_opaque", i) for i in range(5)]
    ids = [h.id for h in handles]
    del handles
    gc.collect()
    assert set(ids) <= set(sb._drops)
    sb.ping()  # the drop list travels with this request
    assert not set(ids) & set(sb._drops)


def test_arguments_must_be_plain_data_and_nothing_is_sent_otherwise(sb):
    starts = sb.starts
    with pytest.raises(CodecError):
        sb.call("cs231n.layers.echo", object())
    with pytest.raises(CodecError):
        sb.call("cs231n.layers.echo", np.array([object()]))
    assert sb.call("cs231n.layers.echo", 1) == ((1,), {}) and sb.starts == starts


def test_output_is_captured_and_capped(package):
    with Sandbox(package, sandboxed=SANDBOXED, limits=Limits(max_output_bytes=1000)) as box:
        assert box.call("cs231n.layers.chatty", 3) == 3
        assert box.last_output == "line 0\nline 1\nline 2\n"
        assert box.call("cs231n.layers.chatty", 2000) == 2000
        assert "line 1999" in box.last_output and "line 5\n" not in box.last_output
        assert len(box.last_output) < 1100
        box.ping()
        assert box.last_output == ""


def test_timeout_default_and_override(package):
    with Sandbox(package, sandboxed=SANDBOXED, limits=Limits(timeout=0.5)) as box:
        with pytest.raises(StudentTimeout):
            box.call("cs231n.layers.spin")
        assert box.call("cs231n.layers.echo", 2, timeout=5) == ((2,), {})
        with pytest.raises(StudentTimeout):
            box.call("cs231n.layers.spin", timeout=0.2)
        assert box.starts == 2  # a new worker starts with the next call, not before
        assert box.ping() == "pong" and box.starts == 3


def test_info_describes_the_isolation(sb):
    info = sb.info
    assert info["sandboxed"] is SANDBOXED
    assert info["limits"]["timeout"] == 20
    if SANDBOXED:
        assert info["uid"] == 65534 and info["network"].startswith("none")
        paths = {m["path"] for m in info["mounts"]}
        assert {"/sandbox/harness", "/sandbox/submission/cs231n", "/usr", "/tmp"} <= paths
        # nothing of the checkout is mounted but the venv's interpreter folders (wherever the checkout is)
        from support.paths import ROOT

        runtime = set(launch.python_runtime()[1])
        assert not any(p.startswith(str(ROOT) + "/") and p not in runtime for p in paths), paths
        assert info["rlimits_in_force"]["NPROC"] == [64, 64]


def test_results_over_the_frame_cap_are_the_students_error(package):
    with Sandbox(package, sandboxed=SANDBOXED, limits=Limits(max_frame_mb=1)) as box:
        small = np.zeros(1000)
        assert np.array_equal(box.call("cs231n.layers.echo", small)[0][0], small)
        with pytest.raises(CodecError):  # the grader's own argument is too big: refused before sending
            box.call("cs231n.layers.echo", np.zeros(200_000))
        with pytest.raises(StudentError) as e:  # the student's result is too big
            box.call("cs231n.layers.draw", 300_000)
        assert e.value.exc_type == "EncodeError"
        assert box.starts == 1


def test_unknown_handle_in_a_request_does_not_desynchronize_the_protocol(sb):
    forged = Handle(sb, sb._generation, 10**6)  # an id the worker never handed out
    starts = sb.starts
    with pytest.raises(StaleHandle):
        sb.call("cs231n.layers.echo", np.zeros((300, 1000)), forged, np.ones(5))  # arrays after the handle
    assert sb.call("cs231n.layers.echo", 3) == ((3,), {}) and sb.starts == starts


def test_a_package_is_imported_under_its_folders_name(tmp_path):
    """A package folder named other than cs231n (the manifest's ``package``) is mounted and imported under
    its own name, and a name that is not a module name is refused before anything starts."""
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ops.py").write_text("class Twice:\n    def forward(self, x):\n        return 2 * x\n")
    with Sandbox(pkg, sandboxed=SANDBOXED, limits=Limits(timeout=20)) as box:
        layer = box.new("common.ops.Twice")
        np.testing.assert_array_equal(box.call_method(layer, "forward", np.arange(3.0)), [0.0, 2.0, 4.0])
        with pytest.raises(StudentError):
            box.call("cs231n.ops.Twice")
        if SANDBOXED:
            assert "/sandbox/submission/common" in str(box.info["mounts"])
    bad = tmp_path / "not-a-module"
    bad.mkdir()
    (bad / "__init__.py").write_text("")
    with pytest.raises(ValueError):
        launch.stage_package(bad)
