"""The sandbox codec: plain data only, exact round trips, caps, and nothing but CodecError on garbage."""
from __future__ import annotations

import json
import math
import os
import random
import threading
import time

import numpy as np
import pytest

from grader.sandbox.inside import codec
from grader.sandbox.inside.codec import CodecError, CodecLimits, decode_bytes, encode_bytes

ALLOWED = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]


def roundtrip(obj, **kw):
    return decode_bytes(encode_bytes(obj, **kw), **{k: v for k, v in kw.items() if k == "limits"})


def same(a, b):
    """Exact equality including types, NaN == NaN, -0.0 != 0.0, array dtype/shape."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (float, np.floating)):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ------------------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 1.5, -0.0, float("nan"), float("inf"),
    float("-inf"), 1e-310, 1.7976931348623157e308, "", "héllo ☃ \x00 \ud800", [], (), {},
    [1, [2.5, (None, "x")], {"a": [True]}], {"b": 1, "a": 2, "": {"nested": (1, 2)}},
])
def test_scalars_and_containers_round_trip_exactly(value):
    assert same(roundtrip(value), value)


@pytest.mark.parametrize("dtype", ALLOWED + [">f8", ">i4", ">u2", "<f2"])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (7,), (4, 5), (2, 3, 4)])
def test_arrays_of_every_allowed_dtype_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal(shape) * 100).astype(dtype)
    b = roundtrip(a)
    assert same(a, b)
    assert type(b) is np.ndarray and b.flags.c_contiguous and b.flags.writeable and b.flags.owndata


def test_float_arrays_keep_nan_inf_and_signed_zero():
    a = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324], dtype=np.float64)
    b = roundtrip(a)
    assert np.array_equal(np.isnan(b), np.isnan(a)) and b[1] == np.inf and b[2] == -np.inf
    assert np.signbit(b[3]) and not np.signbit(b[4]) and b[5] == 5e-324


def test_non_contiguous_arrays_are_sent_as_their_values():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    for view in (a.T, a[:, ::2, 1:], a[..., ::-1]):
        b = roundtrip(view)
        assert np.array_equal(b, view) and b.flags.c_contiguous and b.dtype == np.float32


def test_decoded_arrays_are_fresh_copies():
    a = np.ones((3, 3))
    data = encode_bytes({"x": a, "y": a})
    out = decode_bytes(data)
    out["x"][0, 0] = 42.0
    assert a[0, 0] == 1.0 and out["y"][0, 0] == 1.0  # not the input, not each other
    assert not np.shares_memory(out["x"], out["y"])


@pytest.mark.parametrize("scalar", [np.float64(1.25), np.float32(-3.5), np.float16(0.5), np.int64(-7),
                                    np.int8(-128), np.uint64(2**64 - 1), np.uint8(255), np.bool_(True),
                                    np.float64("nan"), np.float32("-inf")])
def test_numpy_scalars_keep_their_type(scalar):
    out = roundtrip(scalar)
    assert type(out) is type(scalar) and same(out, scalar)


def test_numpy_str_becomes_str():
    assert type(roundtrip(np.str_("abc"))) is str


# ------------------------------------------------------------------------------- what is not plain data

class Custom:
    pass


class WithArray:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


class WithEq:
    def __eq__(self, other):
        return True


class FakeArray:
    """Claims to be an ndarray through __class__ (isinstance would believe it)."""

    @property
    def __class__(self):
        return np.ndarray


class MyArray(np.ndarray):
    @property
    def dtype(self):  # lies about its dtype; the codec must not ask the subclass
        return np.dtype("f8")


class MyInt(int):
    pass


@pytest.mark.parametrize("value", [
    Custom(), WithArray(), WithEq(), FakeArray(), MyInt(3), lambda: 1, {1: 2}, {("a",): 1}, b"bytes",
    1 + 2j, np.array([1 + 2j]), np.array([object()], dtype=object), np.zeros(2, dtype="i4,f8"),
    np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([b"ab"], dtype="V2"), np.array(["s"]),
    np.complex128(1), np.datetime64("2020"), 2**64, -(2**63) - 1, {1, 2}, np.longdouble(1.0),
])
def test_non_plain_values_are_refused_when_strict(value):
    with pytest.raises(CodecError):
        encode_bytes(value)
    with pytest.raises(CodecError):
        encode_bytes([1, {"k": value}])


def test_non_plain_values_become_handles_when_allowed():
    table = []

    def handle_id(x):
        table.append(x)
        return len(table) - 1

    c, w = Custom(), WithArray()
    data = encode_bytes((1, c, {"k": w, "a": np.array([object()])}), handle_id=handle_id)
    out = decode_bytes(data, make_handle=lambda hid: ("H", hid))
    assert out[0] == 1 and out[1] == ("H", 0) and out[2]["k"] == ("H", 1) and out[2]["a"] == ("H", 2)
    assert table[0] is c and table[1] is w


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_ndarray_subclass_crosses_as_base_array_of_same_data():
    m = np.matrix([[1, 2], [3, 4]], dtype=np.int16)
    out = roundtrip(m)
    assert type(out) is np.ndarray and out.dtype == np.int16 and np.array_equal(out, [[1, 2], [3, 4]])
    masked = np.ma.masked_array([1.0, 2.0], mask=[True, False])
    out = roundtrip(masked)
    assert type(out) is np.ndarray and np.array_equal(out, [1.0, 2.0])
    lying = np.zeros(4, dtype="i4").view(MyArray)  # really int32: sent as int32 whatever .dtype says
    out = roundtrip(lying)
    assert type(out) is np.ndarray and out.dtype == np.int32


def test_handles_refused_where_not_expected():
    data = encode_bytes([Custom()], handle_id=lambda x: 7)
    with pytest.raises(CodecError):
        decode_bytes(data)


# ----------------------------------------------------------------------------------------------- caps

SMALL = CodecLimits(max_frame_bytes=4096, max_array_bytes=1024, max_header_bytes=2048, max_depth=5,
                    max_items=50, max_str_chars=100, max_ndim=3)


@pytest.mark.parametrize("value", [
    np.zeros(200), [np.zeros(100)] * 6, [[[[[[1]]]]]], list(range(60)), "x" * 101, np.zeros((1, 1, 1, 1)),
    {"k" * 101: 1}, ["y" * 90] * 30,
])
def test_caps_refuse_on_encode_and_decode(value):
    with pytest.raises(CodecError):
        encode_bytes(value, limits=SMALL)
    data = encode_bytes(value)  # a peer with bigger caps sent it anyway
    with pytest.raises(CodecError):
        decode_bytes(data, limits=SMALL)


def test_cyclic_values_are_refused():
    a = []
    a.append(a)
    with pytest.raises(CodecError):
        encode_bytes(a)


def frame(tree, buffers=b"", declared=None):
    header = json.dumps(tree).encode()
    n = len(buffers) if declared is None else declared
    return codec.PREFIX.pack(codec.MAGIC, len(header), n) + header + buffers


def test_huge_declared_array_is_refused_before_allocation():
    t0 = time.perf_counter()
    with pytest.raises(CodecError):
        decode_bytes(frame(["a", "<f8", [10**6, 10**6, 10**6]], declared=8 * 10**18))
    with pytest.raises(CodecError):  # within the frame cap but over the array cap
        decode_bytes(frame(["a", "<f8", [1024, 1024]], declared=8 * 2**20), limits=SMALL)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("data", [
    b"", b"CSB", b"XXXX" + b"\0" * 12, frame({"a": 1}), frame(["q", 1]), frame(["l"]) + b"extra",
    frame(["a", "|O8", [1]], b"\0" * 8), frame(["a", "|V8", [1]], b"\0" * 8), frame(["a", "<c16", [1]], b"\0" * 16),
    frame(["a", "<M8[s]", [1]], b"\0" * 8), frame(["a", "<f8", [-1]]), frame(["a", "<f8", [1.5]], b"\0" * 8),
    frame(["a", "<f8", [True]], b"\0" * 8), frame(["a", "<f8", [2]], b"\0" * 8), frame(["a", "<f8", [1]], b"\0" * 9),
    frame(["a", "<f8"], b""), frame(["s", "<f8", 1]), frame(["s", "|b1", 1]), frame(["s", "|u1", 256]),
    frame(["s", "|O8", 1]), frame(["d", "a", 1, "a", 2]), frame(["d", 1, 2]), frame(["d", "a"]), frame(["h", -1]),
    frame(["h", "1"]), frame(["h", 1]), frame([]), frame([1, 2]), frame(2**70), frame(["t", ["l", {"x": 1}]]),
    codec.PREFIX.pack(codec.MAGIC, 3, 0) + b"\xff\xfe\x00", codec.PREFIX.pack(codec.MAGIC, 2**31, 0),
    codec.PREFIX.pack(codec.MAGIC, 10**6, 2**63) + b"[",
    codec.PREFIX.pack(codec.MAGIC, 30, 0) + b"9" * 30, codec.PREFIX.pack(codec.MAGIC, 5000, 0) + b"9" * 5000, b"[" * 100_000,
])
def test_malformed_frames_raise_codec_error(data):
    with pytest.raises(CodecError):
        decode_bytes(data)


def test_deeply_nested_header_is_a_codec_error_not_a_recursion_error():
    header = b"[" * 200_000 + b"]" * 200_000
    data = codec.PREFIX.pack(codec.MAGIC, len(header), 0) + header
    with pytest.raises(CodecError):
        decode_bytes(data)
    deep = ['["l",'] * 40 + ["1"] + ["]"] * 40
    header = "".join(deep).encode()
    with pytest.raises(CodecError):
        decode_bytes(codec.PREFIX.pack(codec.MAGIC, len(header), 0) + header)


def test_every_truncation_of_a_valid_frame_is_refused():
    data = encode_bytes({"x": np.arange(6, dtype=np.float32).reshape(2, 3), "s": "text", "n": [1, 2.5]})
    assert decode_bytes(data)["s"] == "text"
    for cut in range(len(data)):
        with pytest.raises(CodecError):
            decode_bytes(data[:cut])


def test_fuzz_random_garbage_only_ever_raises_codec_error():
    rng = random.Random(1234)
    valid = [encode_bytes(v) for v in (
        {"op": "call", "args": [np.arange(5.0), (1, "a")], "kw": {"k": np.int8(3)}},
        [np.zeros((2, 2), dtype=np.bool_), None, float("nan")],
        ("x", {"y": [np.float32(1)]}),
    )]
    outcomes = {"ok": 0, "err": 0}
    for i in range(4000):
        base = bytearray(rng.choice(valid))
        kind = i % 4
        if kind == 0:  # flip random bytes
            for _ in range(rng.randint(1, 4)):
                base[rng.randrange(len(base))] = rng.randrange(256)
        elif kind == 1:  # random bytes after a valid prefix
            base = base[:16] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        elif kind == 2:  # mutate the JSON text with a plausible token
            pos = rng.randrange(16, len(base))
            base[pos:pos + 1] = rng.choice([b"[", b"]", b",", b'"', b"9", b"-", b"NaN", b"{", b"\xff"])
        else:  # pure garbage
            base = bytearray(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        try:
            decode_bytes(bytes(base), make_handle=lambda h: h)
            outcomes["ok"] += 1
        except CodecError:
            outcomes["err"] += 1
    assert outcomes["err"] > 3000  # almost every mutation is detected; none raised anything else


# ----------------------------------------------------------------------------------------------- pipes

def test_channel_moves_large_arrays_through_a_pipe_in_both_directions():
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    a = np.random.default_rng(0).standard_normal((1000, 3072))  # 24 MB: many pipe buffers
    left, right = codec.Channel(r2, w1), codec.Channel(r1, w2)
    received = {}

    def echo():
        received["v"] = right.recv()
        right.send(received["v"])

    th = threading.Thread(target=echo)
    th.start()
    left.send({"a": a, "t": (1, "x")}, deadline=time.monotonic() + 30)
    back = left.recv(deadline=time.monotonic() + 30)
    th.join()
    assert np.array_equal(back["a"], a) and back["t"] == (1, "x")
    for fd in (r1, w1, r2, w2):
        os.close(fd)


def test_channel_deadline_and_end_of_file():
    r, w = os.pipe()
    chan = codec.Channel(r, w)
    t0 = time.monotonic()
    with pytest.raises(codec.ChannelTimeout):
        chan.recv(deadline=time.monotonic() + 0.2)
    assert 0.15 < time.monotonic() - t0 < 2
    os.write(w, encode_bytes("hello")[:10])  # half a frame, then the writer goes away
    os.close(w)
    with pytest.raises(codec.ChannelClosed):
        chan.recv(deadline=time.monotonic() + 2)
    os.close(r)


def test_channel_write_deadline_when_reader_never_reads():
    r, w = os.pipe()
    os.set_blocking(w, False)
    chan = codec.Channel(r, w)
    with pytest.raises(codec.ChannelTimeout):
        chan.send(np.zeros(10**6), deadline=time.monotonic() + 0.3)  # 8 MB > pipe buffer
    os.close(r)
    os.close(w)
