"""Plain data over pipes: the framed binary protocol between the grader and the sandboxed worker.

RUNS ON BOTH SIDES.  This file and ``worker.py`` are the only grader files mounted inside the sandbox (at
``/sandbox/harness/``).  It imports nothing but the standard library and NumPy -- nothing of the grader.

Nothing here ever unpickles, evaluates or calls ``np.load``: a frame is a JSON header plus raw array bytes,
and decoding only builds the plain types listed below.  Every frame is checked against ``CodecLimits``
(frame size, array size, nesting depth, number of items, string length); any violation raises
``CodecError``.

Frame layout (integers little-endian)::

    b"CSB1" | u32 header_len | u64 buffers_len | header (ASCII JSON) | array buffers, in header order

The header is one JSON value, a tagged tree::

    null, true, false, 12, 1.5, NaN, Infinity, "text"   None, bool, int, float, str as themselves
    ["l", item, ...]                                       list
    ["t", item, ...]                                       tuple
    ["d", key, value, key, value, ...]                     dict with str keys (no duplicates)
    ["a", dtype, [d0, d1, ...]]                            ndarray; its bytes are the next buffer (C order)
    ["s", dtype, value]                                    NumPy scalar: np.float32(1.5), np.int64(3), ...
    ["h", id]                                              Handle: an object that stays in the worker

Allowed array/scalar dtypes: bool, int8..int64, uint8..uint64, float16..float64 (either byte order).
Decoded arrays are always fresh, writeable, C-contiguous base ``np.ndarray`` objects (never a subclass).

Encoding is strict on the trusted side (anything that is not plain data raises ``CodecError`` unless the
caller's ``handle_id`` accepts it, i.e. it is a Handle) and lenient on the worker side (``handle_id`` stores
any other object in the worker's handle table and the frame carries only its id).
"""
from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable

import numpy as np

MAGIC = b"CSB1"
PREFIX = struct.Struct("<4sIQ")  # magic, header length, total length of the array buffers

INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # ints outside [INT_MIN, INT_MAX] are refused

MiB = 1 << 20


@dataclass(frozen=True)
class CodecLimits:
    """Caps applied to every frame, on both sides."""

    max_frame_bytes: int = 512 * MiB  # header + all array buffers
    max_array_bytes: int = 512 * MiB  # one array
    max_header_bytes: int = 16 * MiB  # the JSON part
    max_depth: int = 32  # nesting of lists/tuples/dicts
    max_items: int = 1_000_000  # values in one frame (every scalar, container and array counts)
    max_str_chars: int = 1 * MiB  # one string
    max_ndim: int = 32  # one array


DEFAULT_LIMITS = CodecLimits()


class CodecError(ValueError):
    """A frame (or a value to encode) is not plain data, is malformed, or breaks a cap."""


class ChannelClosed(CodecError):
    """The other end closed the pipe (end of file in the middle of or before a frame)."""


class ChannelTimeout(Exception):
    """The deadline passed while waiting to read or write a frame."""


# ---------------------------------------------------------------------------------------------- dtypes

def _allowed_dtypes() -> dict[str, np.dtype]:
    sizes = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8)}
    out = {}
    for kind, kind_sizes in sizes.items():
        for size in kind_sizes:
            for order in "<>":
                dt = np.dtype(f"{order}{kind}{size}")
                out[dt.str] = dt
    return out


ALLOWED_DTYPES: dict[str, np.dtype] = _allowed_dtypes()  # dtype.str -> dtype, e.g. '<f8', '|b1', '>i4'

# Exact NumPy scalar types that cross as ["s", dtype, value] (subclasses do not).
_SCALAR_TYPES = frozenset(
    {np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
     np.float16, np.float32, np.float64, np.longlong, np.ulonglong, np.intc, np.uintc}
)


# -------------------------------------------------------------------------------------------- encoding

class _Encoder:
    """Turns one value into (header tree, list of contiguous arrays); see the module docstring."""

    def __init__(self, limits: CodecLimits, handle_id: Callable[[Any], int] | None):
        self.limits = limits
        self.handle_id = handle_id
        self.arrays: list[np.ndarray] = []
        self.nbytes = 0
        self.items = 0

    def other(self, x: Any, why: str) -> list:
        """A value that is not plain data: a Handle if ``handle_id`` takes it, else CodecError."""
        if self.handle_id is None:
            raise CodecError(f"not plain data ({why}): {type(x).__qualname__}")
        hid = self.handle_id(x)
        if type(hid) is not int or hid < 0:
            raise CodecError("handle_id must return a non-negative int")
        return ["h", hid]

    def enc(self, x: Any, depth: int) -> Any:
        self.items += 1
        if self.items > self.limits.max_items:
            raise CodecError(f"more than {self.limits.max_items} items")
        t = type(x)
        if x is None or t is bool or t is float:
            return x
        if t is int:
            if not INT_MIN <= x <= INT_MAX:
                raise CodecError("int out of the 64-bit range")
            return x
        if t is str:
            if len(x) > self.limits.max_str_chars:
                raise CodecError(f"string longer than {self.limits.max_str_chars} characters")
            return x
        if t is list or t is tuple or t is dict:
            if depth >= self.limits.max_depth:
                raise CodecError(f"nesting deeper than {self.limits.max_depth}")
            if t is dict:
                if not all(type(k) is str for k in x):
                    return self.other(x, "dict with a key that is not a str")
                out = ["d"]
                for k, v in x.items():
                    out.append(self.enc(k, depth + 1))
                    out.append(self.enc(v, depth + 1))
                return out
            return ["l" if t is list else "t", *[self.enc(v, depth + 1) for v in x]]
        if issubclass(t, np.ndarray):  # issubclass(type(x)): a fake __class__ cannot pass
            return self.array(x)
        if t in _SCALAR_TYPES:
            return ["s", x.dtype.str, x.item()]
        if t is np.str_:
            return self.enc(str(x), depth)
        return self.other(x, "type")

    def array(self, a: np.ndarray) -> list:
        base = np.ndarray.view(a, np.ndarray)  # a subclass's own attributes are never consulted
        if base.dtype.str not in ALLOWED_DTYPES:
            return self.other(a, f"dtype {base.dtype}")
        if base.ndim > self.limits.max_ndim:
            raise CodecError(f"array with more than {self.limits.max_ndim} dimensions")
        if base.nbytes > self.limits.max_array_bytes:
            raise CodecError(f"array of {base.nbytes} bytes is over the cap")
        self.nbytes += base.nbytes
        if self.nbytes > self.limits.max_frame_bytes:
            raise CodecError("frame over the size cap")
        self.arrays.append(np.ascontiguousarray(base))
        return ["a", base.dtype.str, list(base.shape)]


def encode(obj: Any, *, handle_id: Callable[[Any], int] | None = None,
           limits: CodecLimits = DEFAULT_LIMITS) -> tuple[bytes, list[memoryview]]:
    """Encode ``obj`` -> (prefix + header bytes, array buffers as byte memoryviews).

    ``handle_id(x) -> int`` is called for every value that is not plain data; without it such a value
    raises ``CodecError``.  The buffers are views of the arrays (no copy unless an array was not
    C-contiguous); write them after the header.
    """
    enc = _Encoder(limits, handle_id)
    try:
        tree = enc.enc(obj, 0)
        header = json.dumps(tree, separators=(",", ":")).encode("ascii")
    except RecursionError as e:
        raise CodecError("value nested too deeply") from e
    if len(header) > limits.max_header_bytes:
        raise CodecError(f"header of {len(header)} bytes is over the cap")
    if len(header) + enc.nbytes > limits.max_frame_bytes:
        raise CodecError("frame over the size cap")
    buffers = [memoryview(a.reshape(-1).view(np.uint8)) for a in enc.arrays if a.nbytes]
    return PREFIX.pack(MAGIC, len(header), enc.nbytes) + header, buffers


def encode_bytes(obj: Any, **kwargs) -> bytes:
    """``encode`` joined into one bytes object (for tests and small messages)."""
    head, buffers = encode(obj, **kwargs)
    return b"".join([head, *buffers])


# -------------------------------------------------------------------------------------------- decoding

class _Decoder:
    """Validates a header tree and builds the value; arrays are allocated empty, filled by the caller."""

    def __init__(self, limits: CodecLimits, make_handle: Callable[[int], Any] | None):
        self.limits = limits
        self.make_handle = make_handle
        self.arrays: list[np.ndarray] = []
        self.nbytes = 0
        self.items = 0

    def dec(self, v: Any, depth: int) -> Any:
        self.items += 1
        if self.items > self.limits.max_items:
            raise CodecError(f"more than {self.limits.max_items} items")
        t = type(v)
        if v is None or t is bool or t is float:
            return v
        if t is int:
            if not INT_MIN <= v <= INT_MAX:
                raise CodecError("int out of the 64-bit range")
            return v
        if t is str:
            if len(v) > self.limits.max_str_chars:
                raise CodecError("string over the length cap")
            return v
        if t is not list or not v or type(v[0]) is not str:
            raise CodecError(f"malformed value of type {t.__name__}")
        if depth >= self.limits.max_depth:
            raise CodecError(f"nesting deeper than {self.limits.max_depth}")
        tag = v[0]
        if tag == "l":
            return [self.dec(x, depth + 1) for x in islice(v, 1, None)]
        if tag == "t":
            return tuple([self.dec(x, depth + 1) for x in islice(v, 1, None)])
        if tag == "d":
            return self.dict(v, depth)
        if tag == "a":
            return self.array(v)
        if tag == "s":
            return self.scalar(v)
        if tag == "h":
            if len(v) != 2 or type(v[1]) is not int or not 0 <= v[1] <= INT_MAX:
                raise CodecError("malformed handle")
            if self.make_handle is None:
                raise CodecError("handles are not accepted here")
            return self.make_handle(v[1])
        raise CodecError(f"unknown tag {tag[:20]!r}")

    def dict(self, v: list, depth: int) -> dict:
        if len(v) % 2 != 1:
            raise CodecError("malformed dict")
        out = {}
        for i in range(1, len(v), 2):
            key = v[i]
            if type(key) is not str:
                raise CodecError("dict key is not a str")
            if len(key) > self.limits.max_str_chars:
                raise CodecError("string over the length cap")
            if key in out:
                raise CodecError("duplicate dict key")
            self.items += 1
            out[key] = self.dec(v[i + 1], depth + 1)
        return out

    def array(self, v: list) -> np.ndarray:
        if len(v) != 3 or type(v[1]) is not str or type(v[2]) is not list:
            raise CodecError("malformed array")
        dtype = ALLOWED_DTYPES.get(v[1])
        if dtype is None:
            raise CodecError(f"dtype {v[1][:20]!r} is not allowed")
        shape = v[2]
        if len(shape) > self.limits.max_ndim:
            raise CodecError("too many dimensions")
        count = 1
        for d in shape:
            if type(d) is not int or d < 0:
                raise CodecError("malformed shape")
            count *= d
            if count * dtype.itemsize > self.limits.max_array_bytes:  # Python ints: no overflow
                raise CodecError("array over the size cap")
        nbytes = count * dtype.itemsize
        self.nbytes += nbytes
        if self.nbytes > self.limits.max_frame_bytes:
            raise CodecError("frame over the size cap")
        arr = np.empty(shape, dtype=dtype)
        self.arrays.append(arr)
        return arr

    def scalar(self, v: list) -> Any:
        if len(v) != 3 or type(v[1]) is not str:
            raise CodecError("malformed scalar")
        dtype = ALLOWED_DTYPES.get(v[1])
        if dtype is None:
            raise CodecError(f"dtype {v[1][:20]!r} is not allowed")
        value, kind = v[2], dtype.kind
        if kind == "b" and type(value) is bool:
            return dtype.type(value)
        if kind in "iu" and type(value) is int:
            info = np.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise CodecError("scalar out of its dtype's range")
            return dtype.type(value)
        if kind == "f" and type(value) is float:
            with np.errstate(all="ignore"):
                return dtype.type(value)
        raise CodecError("scalar value does not match its dtype")


def decode_header(header: bytes, buffers_len: int, *, make_handle: Callable[[int], Any] | None = None,
                  limits: CodecLimits = DEFAULT_LIMITS) -> tuple[Any, list[np.ndarray]]:
    """Parse and validate a header -> (value, empty arrays to fill with the buffers, in order)."""
    try:
        tree = json.loads(header.decode("ascii"))
    except (ValueError, RecursionError, MemoryError) as e:  # UnicodeDecodeError is a ValueError
        raise CodecError(f"malformed header: {type(e).__name__}") from None
    dec = _Decoder(limits, make_handle)
    try:
        value = dec.dec(tree, 0)
    except RecursionError:
        raise CodecError("value nested too deeply") from None
    if dec.nbytes != buffers_len:
        raise CodecError(f"header describes {dec.nbytes} array bytes, prefix says {buffers_len}")
    return value, dec.arrays


def _check_prefix(prefix: bytes, limits: CodecLimits) -> tuple[int, int]:
    magic, header_len, buffers_len = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise CodecError("bad magic: not a frame of this protocol")
    if header_len > limits.max_header_bytes:
        raise CodecError(f"header of {header_len} bytes is over the cap")
    if header_len + buffers_len > limits.max_frame_bytes:
        raise CodecError(f"frame of {header_len + buffers_len} bytes is over the cap")
    return header_len, buffers_len


def decode_bytes(data: bytes, *, make_handle: Callable[[int], Any] | None = None,
                 limits: CodecLimits = DEFAULT_LIMITS) -> Any:
    """Decode exactly one frame held in ``data`` (trailing bytes are an error)."""
    data = memoryview(data).cast("B")
    if len(data) < PREFIX.size:
        raise CodecError("truncated frame")
    header_len, buffers_len = _check_prefix(bytes(data[:PREFIX.size]), limits)
    end = PREFIX.size + header_len
    if len(data) != end + buffers_len:
        raise CodecError(f"frame is {len(data)} bytes, its prefix says {end + buffers_len}")
    value, arrays = decode_header(bytes(data[PREFIX.size:end]), buffers_len, make_handle=make_handle,
                                  limits=limits)
    for arr in arrays:
        flat = arr.reshape(-1).view(np.uint8)
        flat[:] = np.frombuffer(data, dtype=np.uint8, count=flat.size, offset=end)
        end += flat.size
    return value


# ---------------------------------------------------------------------------------------------- pipes

class Channel:
    """Frames over a pair of file descriptors (pipes), with optional deadlines.

    ``recv``/``send`` take ``deadline``: a ``time.monotonic()`` value after which ``ChannelTimeout`` is
    raised (None: wait forever, blocking descriptors are fine then).  Array bytes are read straight into
    the freshly allocated arrays and written straight from the arrays: one copy each way, no per-element
    Python work.
    """

    CHUNK = 1 << 16

    def __init__(self, rfd: int, wfd: int, limits: CodecLimits = DEFAULT_LIMITS):
        self.rfd, self.wfd, self.limits = rfd, wfd, limits
        self._pending = bytearray()  # bytes read past the end of what was asked for
        self._scratch = bytearray(self.CHUNK)
        self._rpoll = select.poll()
        self._rpoll.register(rfd, select.POLLIN)
        self._wpoll = select.poll()
        self._wpoll.register(wfd, select.POLLOUT)

    # -- low level
    @staticmethod
    def _wait(poller, deadline: float | None) -> None:
        if deadline is None:
            return
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout("deadline passed")
            if poller.poll(max(1, int(remaining * 1000) + 1)):
                return

    def _readinto(self, view: memoryview, deadline: float | None) -> int:
        while True:
            self._wait(self._rpoll, deadline)
            try:
                n = os.readv(self.rfd, [view])
            except BlockingIOError:
                continue
            except OSError as e:
                raise ChannelClosed(f"read failed: {e}") from None
            if n == 0:
                raise ChannelClosed("end of file")
            return n

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        missing = n - len(self._pending)
        if missing > self.CHUNK:  # a large header: read exactly what is missing
            buf = bytearray(missing)
            view, k = memoryview(buf), 0
            while k < missing:
                k += self._readinto(view[k:], deadline)
            self._pending += buf
        else:  # small reads: take whatever is there (usually the whole frame) in one system call
            view = memoryview(self._scratch)
            while len(self._pending) < n:
                got = self._readinto(view, deadline)
                self._pending += view[:got]
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out

    def _readinto_exact(self, view: memoryview, deadline: float | None) -> None:
        k = min(len(self._pending), len(view))
        if k:
            view[:k] = self._pending[:k]
            del self._pending[:k]
        while k < len(view):
            k += self._readinto(view[k:], deadline)

    def _write_all(self, buffers: list, deadline: float | None) -> None:
        views = [memoryview(b).cast("B") for b in buffers if len(b)]
        i = 0
        while i < len(views):
            self._wait(self._wpoll, deadline)
            try:
                n = os.writev(self.wfd, views[i:i + 512])
            except BlockingIOError:
                continue
            except OSError as e:  # BrokenPipeError: the reader is gone
                raise ChannelClosed(f"write failed: {e}") from None
            while n:
                size = len(views[i])
                if n >= size:
                    n -= size
                    i += 1
                else:
                    views[i] = views[i][n:]
                    n = 0

    # -- frames
    def write(self, head: bytes, buffers: list, deadline: float | None = None) -> None:
        """Write a frame already made by ``encode``."""
        self._write_all([head, *buffers], deadline)

    def send(self, obj: Any, *, handle_id: Callable[[Any], int] | None = None,
             deadline: float | None = None) -> None:
        """Encode ``obj`` (see ``encode``) and write it as one frame."""
        head, buffers = encode(obj, handle_id=handle_id, limits=self.limits)
        self._write_all([head, *buffers], deadline)

    def recv(self, *, make_handle: Callable[[int], Any] | None = None, deadline: float | None = None) -> Any:
        """Read one frame and return its value (CodecError / ChannelClosed / ChannelTimeout otherwise)."""
        header_len, buffers_len = _check_prefix(self._read_exact(PREFIX.size, deadline), self.limits)
        header = self._read_exact(header_len, deadline)
        value, arrays = decode_header(header, buffers_len, make_handle=make_handle, limits=self.limits)
        for arr in arrays:
            if arr.nbytes:
                self._readinto_exact(memoryview(arr.reshape(-1).view(np.uint8)), deadline)
        return value
