"""THE ONLY grader code that runs inside the sandbox (with ``codec.py`` and ``missing_imports.py``, which it
imports).

Everything else of the grader -- hidden suites, reference outputs, the reference solution, scores -- stays in
the trusted process and is never mounted in the sandbox.  This worker is started by ``launch.py`` as
``python /sandbox/harness/worker.py --root /sandbox/submission`` and serves requests from the trusted side
(``proxy.py``) over its stdin/stdout pipes:

    call         {"target": "cs231n.layers.affine_forward", "args": [...], "kwargs": {...}, "keep": [1]}
                 (with "watch": true the response says which array arguments the call changed in place:
                 "modified": [argument positions])
    new          like call, the result always stays here as a Handle
    call_method  {"obj": <Handle>, "name": "loss", "args": ..., "kwargs": ..., "keep": ...}
    getattr      {"obj": <Handle>, "name": "params"}          (a dotted name walks attributes)
    setattr      {"obj": <Handle>, "name": "reg", "value": 1.0}
    setitem      {"obj": <Handle>, "path": ["params", "W1"], "value": w1}
    fetch        {"obj": <Handle>}                              the object itself as plain data
    put          {"value": {...}}                               store plain data here, get a Handle
    ping         {}

Every request may carry "drop": [ids] (handles the trusted side no longer holds) and "reseed": an int
(``np.random.seed`` + ``random.seed`` first, so seeding needs no round trip of its own). A
new/put/call/call_method request may carry "as": an id >= 2**40 chosen by the trusted side: the whole result
is kept under that id and the response value is None, so the trusted side can use the Handle before the
response arrives (pipelining). Every response carries "seq" (echo of the request's), "out" (the tail of what
the student's code printed during the request) and either "value" or "error" = {"kind": "student" | "handle" |
"request", "type", "message", "traceback"}.

Only plain data crosses (see codec.py); anything else the student's code returns stays in the handle table
here and crosses as a Handle id.  The student's stdout/stderr cannot touch the protocol: at start the
protocol moves from fds 0/1 to private descriptors and fds 1/2 point at a capture file.
"""
from __future__ import annotations

import fcntl
import importlib
import os
import random
import resource
import sys
import traceback

import codec  # the files next to this one (/sandbox/harness/): the only grader code imported here
import missing_imports

import numpy as np

MAX_OUTPUT = 64 * 1024  # bytes of captured output returned with each response (the tail)
MAX_MESSAGE = 4000  # characters of an exception message
MAX_TRACEBACK = 16000  # characters of a filtered traceback


class _Keep:
    """Marks a value that must cross as a Handle even if it is plain data."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


class _RequestError(Exception):
    """The request itself is wrong (not the student's fault): unknown op, bad arguments."""


class _HandleError(Exception):
    """A request names a handle that this worker does not hold (released, or from an earlier worker)."""


_MISSING = object()


TRUSTED_IDS = 1 << 40   # handle ids from here on are chosen by the trusted side ("as"); below, by add()


class HandleTable:
    """Objects kept in the worker; the trusted side refers to them by integer id."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self.next_id = 1
        self.missing: list[int] = []

    def add(self, obj) -> int:
        if type(obj) is _Keep:
            obj = obj.obj
        hid = self.next_id
        self.next_id += 1
        self.objects[hid] = obj
        return hid

    def put_as(self, hid: int, obj) -> None:
        self.objects[hid] = obj.obj if type(obj) is _Keep else obj

    def get(self, hid: int):
        """The object of a handle id found while decoding a request; unknown ids are noted (and checked
        by ``check``) rather than raised, so the rest of the frame is still read from the pipe."""
        obj = self.objects.get(hid, _MISSING)
        if obj is _MISSING:
            self.missing.append(hid)
        return obj

    def check(self) -> None:
        if self.missing:
            ids, self.missing = self.missing, []
            raise _HandleError(f"handle #{ids[0]} is not held by this worker")

    def drop(self, ids) -> None:
        for hid in ids:
            self.objects.pop(hid, None)


# ------------------------------------------------------------------------------------------------ output

class Capture:
    """fd 1 and 2 point at an anonymous file; after each request its tail is returned and it is emptied."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        try:
            self.fd = os.memfd_create("student-output", 0)
        except (AttributeError, OSError):
            import tempfile  # noqa: PLC0415 - fallback only
            self.fd = os.dup(tempfile.TemporaryFile().fileno())
        # O_APPEND: after the file is emptied, writes start again at offset 0
        fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) | os.O_APPEND)

    def take(self) -> str:
        """Flush Python's streams, return the last ``max_bytes`` written, and empty the file."""
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a student may have replaced the stream
                pass
        try:
            size = os.fstat(self.fd).st_size
            if size == 0:
                return ""
            start = max(0, size - self.max_bytes)
            data = os.pread(self.fd, size - start, start)
            os.ftruncate(self.fd, 0)
        except OSError:
            return ""
        text = data.decode("utf-8", errors="replace")
        return ("[... output truncated ...]\n" + text) if start else text


# ------------------------------------------------------------------------------------------------ errors

def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        text = "<exception message could not be printed>"
    if type(text) is not str:
        text = "<exception message is not a str>"
    return text[:MAX_MESSAGE]


def student_error(exc: BaseException, root: str) -> dict:
    """The error response for an exception raised by the student's code: only frames of files under root."""
    prefix = root.rstrip("/") + "/"
    lines = []
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(prefix)]
        if frames:
            lines.append("Traceback (student code only, most recent call last):\n")
            lines.extend(traceback.format_list(frames))
        if isinstance(exc, SyntaxError):  # where the syntax error is (the file is the student's)
            lines.extend(traceback.format_exception_only(type(exc), exc))
        else:
            lines.append(f"{type(exc).__name__}: {_safe_str(exc)}\n")
    except BaseException:  # noqa: BLE001
        lines.append(f"{type(exc).__name__}: <traceback could not be formatted>\n")
    try:
        exc_type = type.__dict__["__name__"].__get__(type(exc))   # not a metaclass's own __name__
    except BaseException:  # noqa: BLE001
        exc_type = "Exception"
    return {"kind": "student", "type": str(exc_type)[:200], "message": _safe_str(exc),
            "traceback": "".join(lines)[-MAX_TRACEBACK:]}


# ----------------------------------------------------------------------------------------------- the ops

def resolve(target: str):
    """'pkg.module.attr[.attr...]' -> the object: import the longest module prefix, then getattr."""
    if type(target) is not str or not target or target.startswith("."):
        raise _RequestError(f"bad target {target!r}")
    parts = target.split(".")
    missing = None
    for i in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # this prefix is not a module: try a shorter one
                missing = missing or e
                continue
            raise  # the student's module imports something missing: the student's error
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            if missing is not None:  # 'cs231n.gone.f' with no cs231n/gone.py: say which module is missing
                raise missing from None
            raise
        return obj
    raise missing or ModuleNotFoundError(f"no module for target {target!r}")


def with_keep(result, keep):
    """Apply keep: True -> the whole result stays a Handle; (i, ...) -> those tuple elements do."""
    if keep is True:
        return _Keep(result)
    if not keep:
        return result
    if type(keep) not in (list, tuple) or not all(type(i) is int for i in keep):
        raise _RequestError("keep must be True or a tuple of ints")
    if type(result) not in (tuple, list):
        raise TypeError(f"expected a tuple result to keep elements {keep}, got {type(result).__name__}")
    items = list(result)
    for i in keep:
        if not -len(items) <= i < len(items):
            raise IndexError(f"cannot keep element {i} of a result of length {len(items)}")
        items[i] = _Keep(items[i])
    return tuple(items) if type(result) is tuple else items


def set_path(obj, path: list, value) -> None:
    """obj.<p0>[p1]...: a step into a dict, list or ndarray is an item, into anything else an attribute."""
    if type(path) is not list or not path:
        raise _RequestError("setitem needs a non-empty path")

    def is_container(o):
        return isinstance(o, (dict, list, np.ndarray))

    for key in path[:-1]:
        obj = obj[key] if is_container(obj) else getattr(obj, key)
    if is_container(obj):
        obj[path[-1]] = value
    else:
        setattr(obj, path[-1], value)


def get_path(obj, name: str):
    for attr in name.split("."):
        obj = getattr(obj, attr)
    return obj


OPS = ("call", "new", "call_method", "getattr", "setattr", "setitem", "fetch", "put", "ping")


def check_request(op, req: dict, table: HandleTable) -> None:
    """Validate the request's own fields BEFORE any student code runs: a wrong request is the grader's
    bug (``_RequestError``). Once ``run_op`` starts, every exception is the student's, whatever its class
    (student code can raise this module's ``_RequestError`` or ``codec.CodecError`` too)."""
    if op not in OPS:
        raise _RequestError(f"unknown op {op!r}")
    if type(req.get("args", [])) not in (list, tuple) or type(req.get("kwargs", {})) is not dict:
        raise _RequestError("args must be a list and kwargs a dict")
    if op in ("call", "new"):
        target = req.get("target")
        if type(target) is not str or not target or target.startswith("."):
            raise _RequestError(f"bad target {target!r}")
    if op in ("call_method", "getattr", "setattr") and type(req.get("name")) is not str:
        raise _RequestError("name must be a str")
    keep = req.get("keep")
    if not (keep is None or keep is True or keep is False
            or (type(keep) in (list, tuple) and all(type(i) is int for i in keep))):
        raise _RequestError("keep must be True or a tuple of ints")
    if op == "setitem" and (type(req.get("path")) is not list or not req.get("path")):
        raise _RequestError("setitem needs a non-empty path")
    if "as" in req:
        hid = req["as"]
        if op not in ("new", "put", "call", "call_method"):
            raise _RequestError(f"'as' is not allowed with {op}")
        if not (type(hid) is int and TRUSTED_IDS <= hid <= codec.INT_MAX):
            raise _RequestError(f"'as' must be an int >= {TRUSTED_IDS}")
        if hid in table.objects:
            raise _RequestError(f"handle #{hid} is already in use")
    if "watch" in req and (op != "call" or type(req["watch"]) is not bool):
        raise _RequestError("watch is a bool of call requests")
    if "reseed" in req and not _is_seed(req["reseed"]):
        raise _RequestError("reseed must be an int in [0, 2**32)")


def _is_seed(value) -> bool:
    return type(value) is int and 0 <= value < 2 ** 32


def reseed(seed: int) -> None:
    np.random.seed(seed)
    random.seed(seed)


MODIFIED: list[int] = []   # positions of the array arguments the last watched call changed in place


def _modified(args: tuple, before: list) -> list[int]:
    return [i for i, copy in before
            if not (type(args[i]) is np.ndarray and args[i].shape == copy.shape
                    and np.array_equal(args[i], copy, equal_nan=True))]


def run_op(op: str, req: dict):
    """Execute one request (validated by ``check_request``) -> the value to send back (may contain _Keep
    markers). Any exception raised here is classified as the student's."""
    MODIFIED.clear()
    if "reseed" in req:
        reseed(req["reseed"])
    args, kwargs = tuple(req.get("args", ())), req.get("kwargs", {})
    keep = req.get("keep")
    if op == "call":
        before = [(i, a.copy()) for i, a in enumerate(args) if type(a) is np.ndarray] if req.get("watch") else []
        result = resolve(req["target"])(*args, **kwargs)
        MODIFIED.extend(_modified(args, before))
        return with_keep(result, keep)
    if op == "new":
        return _Keep(resolve(req["target"])(*args, **kwargs))
    if op == "call_method":
        return with_keep(getattr(req["obj"], req["name"])(*args, **kwargs), keep)
    if op == "getattr":
        return get_path(req["obj"], req["name"])
    if op == "setattr":
        setattr(req["obj"], req["name"], req["value"])
        return None
    if op == "setitem":
        set_path(req["obj"], req["path"], req["value"])
        return None
    if op == "fetch":
        return req["obj"]
    if op == "put":
        return _Keep(req["value"])
    if op == "ping":
        return "pong"
    raise _RequestError(f"unknown op {op!r}")


# ------------------------------------------------------------------------------------------------ server

def hello_info() -> dict:
    """What the worker sees of its own confinement at start, before any student code is imported."""
    names = ["AS", "CPU", "NPROC", "FSIZE", "NOFILE", "CORE"]
    rlimits = {}
    for name in names:
        soft, hard = resource.getrlimit(getattr(resource, "RLIMIT_" + name))
        rlimits[name] = [None if soft == resource.RLIM_INFINITY else soft,
                         None if hard == resource.RLIM_INFINITY else hard]
    return {"hello": True, "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
            "pid": os.getpid(), "rlimits": rlimits, "python": sys.version.split()[0],
            "numpy": np.__version__, "cwd": os.getcwd()}


def serve(root: str, max_output: int, limits: codec.CodecLimits) -> None:
    # The protocol moves to private descriptors (close-on-exec: child programs do not get them); fd 0
    # reads /dev/null and fds 1/2 write into the capture, so prints cannot corrupt the protocol.
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    capture = Capture(max_output)
    os.dup2(capture.fd, 1)
    os.dup2(capture.fd, 2)
    channel = codec.Channel(proto_in, proto_out, limits)
    table = HandleTable()
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # the harness directory is not part of the student's import path
    missing_imports.install(root)
    channel.send(hello_info())

    while True:
        seq, response = None, None
        # 1. Read and validate the request (harness code only: errors here are the grader's).
        try:
            req = channel.recv(make_handle=table.get)
            if type(req) is not dict:
                raise _RequestError("a request must be a dict")
            seq = req.get("seq")
            table.check()
            table.drop(req.get("drop", ()))
            op = req.get("op")
            check_request(op, req, table)
        except codec.ChannelClosed:
            os._exit(0)  # the trusted side is gone
        except _HandleError as e:
            response = {"seq": seq, "error": {"kind": "handle", "type": "StaleHandle", "message": str(e),
                                              "traceback": ""}}
        except BaseException as e:  # noqa: BLE001 - _RequestError, CodecError, a failure to decode
            response = {"seq": seq, "error": {"kind": "request", "type": type(e).__name__,
                                              "message": _safe_str(e), "traceback": ""}}
        # 2. Run it: whatever is raised from here on (any class, even this module's own) is the student's.
        if response is None:
            try:
                value = run_op(op, req)
                if "as" in req:
                    table.put_as(req["as"], value)
                    value = None
                response = {"seq": seq, "value": value}
                if MODIFIED:
                    response["modified"] = list(MODIFIED)
            except BaseException as e:  # noqa: BLE001 - includes SystemExit/KeyboardInterrupt from student code
                response = {"seq": seq, "error": student_error(e, root)}
        response["out"] = capture.take()
        try:
            channel.send(response, handle_id=table.add)
        except codec.ChannelClosed:
            os._exit(0)
        except BaseException as e:  # noqa: BLE001 - the result is not encodable (caps, weird subclass)
            error = {"kind": "student", "type": "EncodeError",
                     "message": f"the result cannot be sent back: {_safe_str(e)}", "traceback": ""}
            try:
                channel.send({"seq": seq, "error": error, "out": response["out"]})
            except BaseException:  # noqa: BLE001
                os._exit(3)


def main(argv: list[str]) -> None:
    root = "/sandbox/submission"
    max_output = MAX_OUTPUT
    limits = codec.DEFAULT_LIMITS
    it = iter(argv)
    for arg in it:
        if arg == "--root":
            root = next(it)
        elif arg == "--max-output":
            max_output = int(next(it))
        elif arg == "--max-frame":
            frame = int(next(it))
            limits = codec.CodecLimits(max_frame_bytes=frame, max_array_bytes=frame)
    serve(root, max_output, limits)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
