"""Trusted side of the sandbox: ``Sandbox`` runs the student's code in a worker and proxies calls to it.

TRUSTED SIDE.  This module never imports the student's code; it starts ``worker.py`` through ``launch.py``
and talks to it only through ``codec.py`` frames, so only plain data (None, bool, int, float, str, NumPy
arrays of bool/int/uint/float, lists, tuples, str-keyed dicts) and Handles come back.  Everything the
worker sends is treated as hostile: sizes are capped, a malformed frame or a dead worker is a
``SandboxCrash``, a call that runs too long is killed (``StudentTimeout``).  After either, the next call
starts a fresh worker; Handles from the old one raise ``StaleHandle``.

    with Sandbox(package_dir) as sb:                                  # package_dir: a folder named cs231n
        out, cache = sb.call("cs231n.layers.affine_forward", x, w, b, keep=(1,))  # cache stays a Handle
        dx, dw, db = sb.call("cs231n.layers.affine_backward", dout, cache)
        model = sb.new("cs231n.classifiers.fc_net.TwoLayerNet", input_dim=5, num_classes=7)
        sb.setitem(model, ("params", "W1"), w1)                      # model.params['W1'] = w1
        loss, grads = sb.call_method(model, "loss", X, y, timeout=10)

The keyword names ``keep`` and ``timeout`` belong to the proxy and are not passed to the student's code.
A Sandbox is not meant to be shared between threads (calls are serialized by a lock).

``pipeline=True`` saves round trips: requests whose answer is known in advance -- ``new``, ``put``,
``call``/``call_method`` with ``keep=True`` (a Handle whose id this side chooses), ``setattr``, ``setitem``
-- are sent without waiting for the worker.  Their answers are read (in order) before the answer of the
next other request; the first error among them is raised there, or by ``flush()``.  Each keeps its own
time limit.  A caller that must know which request failed calls ``flush()`` before going on.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Mapping

from .. import caps
from ..text import clean
from . import launch
from .errors import (RequestError, SandboxCrash, SandboxError, SandboxUnavailable, StaleHandle, StudentError,
                     StudentTimeout)
from .inside.codec import Channel, ChannelClosed, ChannelTimeout, CodecError, CodecLimits, encode
from .launch import Limits
from .processes import acquire_uid, children, describe_exit, kill_uid

__all__ = ["Sandbox", "Limits", "Handle", "SandboxError", "StudentError", "StudentTimeout", "SandboxCrash",
           "StaleHandle", "RequestError", "SandboxUnavailable", "CodecError"]

PIPE_SIZE = 1 << 20  # bytes buffered in each pipe (the Linux maximum for unprivileged users by default)
# The caps on the text of an error response (grader.caps) are applied here: the worker applies the same
# caps, but the student's code runs in the worker's process and can answer with frames of its own.
PIPELINE_DEPTH = 8           # requests sent ahead at most (their answers, output included, fit in the pipe)
TRUSTED_HIDS = 1 << 40       # handle ids this side chooses for pipelined requests (see worker.py "as")
DEFERRABLE = ("new", "put", "setattr", "setitem")


class Handle:
    """A reference to an object that stays inside the worker (a cache, a model, a Solver, stored data).

    Pass it back as an argument (anywhere inside args, lists, dicts) or to call_method/getattr/...; it is
    valid only for the worker that created it.  When the Handle is garbage-collected the worker is told
    to drop the object with the next request.
    """

    __slots__ = ("_owner", "_generation", "id", "__weakref__")

    def __init__(self, owner: "Sandbox", generation: int, hid: int):
        self._owner = weakref.ref(owner)
        self._generation = generation
        self.id = hid

    def __repr__(self) -> str:
        return f"<Handle #{self.id} of worker {self._generation}>"

    def __del__(self):
        try:
            owner = self._owner()
            if owner is not None and owner._generation == self._generation:
                owner._drops.append(self.id)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class Sandbox:
    """One student's package, served by a (sandboxed) worker process.  See the module docstring.

    Inputs:
    - package_dir: the assembled package folder (copied; mounted read-only in the sandbox and imported under
      the folder's name, e.g. ``cs231n``).
    - sandboxed: True (default) refuses to start unless ``launch.probe()`` passes; False must be explicit
      and runs the same worker as a plain subprocess with no isolation (``--no-sandbox``).
    - limits: Limits (per-call timeout, rlimits, /tmp size, frame cap, ...).
    - extra_ro_binds: {path inside the sandbox: host path} mounted read-only (e.g. a data directory).
    - pipeline: send the requests whose answer is known without waiting (see the module docstring).
    """

    separate_process = True   # the student's code runs in a process of its own (several may run at once)

    def __init__(self, package_dir: str | os.PathLike, *, sandboxed: bool = True, limits: Limits = Limits(),
                 extra_ro_binds: Mapping[str, str] | None = None, pipeline: bool = False):
        if type(sandboxed) is not bool:
            raise TypeError("sandboxed must be True or False")
        self.package_dir = Path(package_dir)
        self.sandboxed = sandboxed
        self.pipeline = bool(pipeline)
        self._pending: list[tuple[int, str, float, float]] = []   # sent ahead: (seq, what, deadline, limit)
        self._next_hid = TRUSTED_HIDS
        self._uid_lock = None
        if limits.uid is None or limits.gid is None:
            uid, self._uid_lock = acquire_uid()
            limits = replace(limits, uid=uid, gid=uid)
        self.limits = limits
        self.extra_ro_binds = dict(extra_ro_binds or {})
        self._probe = None
        if sandboxed:
            self._probe = launch.probe()
            if not self._probe["ok"]:
                raise SandboxUnavailable(
                    f"the sandbox does not work on this host: {self._probe['reason']}. "
                    "Pass sandboxed=False (grader --no-sandbox) to run student code WITHOUT isolation.")
        mb = limits.max_frame_mb * launch.MiB
        self._codec_limits = CodecLimits(max_frame_bytes=mb, max_array_bytes=mb)
        self._lock = threading.RLock()
        self._stage: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._chan: Channel | None = None
        self._fds: list[int] = []
        self._errfile = None
        self._hello: dict | None = None
        self._mounts: list[dict] = []
        self._generation = 0
        self._drops: list[int] = []
        self._seed: int | None = None   # a seed() not sent yet: it travels with the next request
        self._seq = 0
        self._closed = False
        self.starts = 0
        self.start_seconds: float | None = None  # how long the last worker start took
        self.last_output = ""  # what the student's code printed during the last request (tail)
        self.last_modified: list[int] = []   # array arguments the last watched call changed in place

    # ------------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def start(self) -> None:
        """Start the worker now if it is not running (otherwise the first call starts it)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("this Sandbox is closed")
            if self._proc is None:
                self._spawn()

    def close(self) -> None:
        """Kill the worker and everything it started, and remove the staged copy of the package."""
        with self._lock:
            self._kill()
            self._closed = True
            if self._stage is not None:
                shutil.rmtree(self._stage, ignore_errors=True)
                self._stage = None
            if self._errfile is not None:
                self._errfile.close()
                self._errfile = None
            if self._uid_lock is not None:
                self._uid_lock.close()  # releases the uid for another Sandbox
                self._uid_lock = None

    def _spawn(self) -> None:
        t0 = time.monotonic()
        if self._stage is None:
            self._stage = launch.stage_package(self.package_dir, self.limits)
        cmd = launch.worker_command(self._stage, sandboxed=self.sandboxed, limits=self.limits,
                                    extra_ro_binds=self.extra_ro_binds)
        if self._errfile is None:
            self._errfile = tempfile.TemporaryFile()
        self._errfile.seek(0)
        self._errfile.truncate()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        for fd in (req_w, resp_w):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:
                pass
        try:
            proc = subprocess.Popen(cmd.argv, stdin=req_r, stdout=resp_w, stderr=self._errfile, env=cmd.env,
                                    cwd=cmd.cwd, start_new_session=True, close_fds=True)
        except BaseException:
            for fd in (req_r, req_w, resp_r, resp_w):
                os.close(fd)
            raise
        os.close(req_r)
        os.close(resp_w)
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)
        self._proc, self._fds, self._mounts = proc, [req_w, resp_r], cmd.mounts
        self._chan = Channel(resp_r, req_w, self._codec_limits)
        self._generation += 1
        self._drops = []
        self.starts += 1
        try:
            hello = self._chan.recv(deadline=time.monotonic() + self.limits.start_timeout)
        except (ChannelTimeout, CodecError) as e:
            detail = self._kill()
            raise SandboxCrash(f"the worker did not start ({type(e).__name__}: {e}){detail}") from None
        if type(hello) is not dict or hello.get("hello") is not True:
            detail = self._kill()
            raise SandboxCrash(f"the worker did not say hello{detail}")
        if self.sandboxed:
            problem = self._check_confinement(hello)
            if problem:
                self._kill()
                raise SandboxUnavailable(f"the sandbox started without its confinement: {problem}")
        self._hello = hello
        self.start_seconds = time.monotonic() - t0

    def _check_confinement(self, hello: dict) -> str | None:
        lim, rl = self.limits, hello.get("rlimits", {})
        if hello.get("uid") != lim.uid or hello.get("gid") != lim.gid:
            return f"uid/gid {hello.get('uid')}/{hello.get('gid')}"
        want = {"AS": lim.memory_mb * launch.MiB, "CPU": lim.cpu_seconds, "NPROC": lim.nproc,
                "FSIZE": lim.fsize_mb * launch.MiB, "NOFILE": lim.nofile, "CORE": 0}
        for name, value in want.items():
            if rl.get(name) != [value, value]:
                return f"RLIMIT_{name} is {rl.get(name)}, not {value}"
        return None

    def _kill(self) -> str:
        """Kill the worker's process group and reap it -> a short description of how it ended."""
        proc, self._proc, self._chan = self._proc, None, None
        self._drops = []
        self._pending = []
        detail = ""
        if proc is not None:
            if proc.returncode is None and self.sandboxed:
                # Kill the sandbox's pid 1 (the worker, the outer bwrap's only child) first: the kernel then
                # kills every process of its pid namespace and bwrap reaps it and exits.  Killing bwrap
                # first would leave the worker a zombie for the host's init to reap.
                inner = children(proc.pid)
                for pid in inner:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if inner:
                    try:
                        proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        pass
            if proc.returncode is None:  # not reaped yet: the pid (and group id) is still ours
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if self.sandboxed and (self._probe or {}).get("tier") == launch.SETPRIV:
                kill_uid(self.limits.uid)      # no pid namespace: what left the group, found by its uid
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            detail = "; " + describe_exit(proc.returncode, self.sandboxed, self.limits)
            tail = self._stderr_tail()
            if tail:
                detail += f"; stderr: {tail}"
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        return detail

    def _stderr_tail(self, n: int = 2000) -> str:
        if self._errfile is None:
            return ""
        try:
            self._errfile.seek(0, os.SEEK_END)
            size = self._errfile.tell()
            self._errfile.seek(max(0, size - n))
            return self._errfile.read().decode("utf-8", errors="replace").strip()
        except (OSError, ValueError):
            return ""

    # ----------------------------------------------------------------------------------- the round trip
    def _handle_id(self, x: Any) -> int:
        if type(x) is not Handle:
            raise CodecError(f"not plain data: {type(x).__qualname__} (only Handles and plain data cross)")
        if x._owner() is not self:
            raise StaleHandle(f"{x!r} belongs to another Sandbox")
        if x._generation != self._generation or self._proc is None:
            raise StaleHandle(f"{x!r} belongs to a worker that was replaced (timeout or crash) or closed")
        return x.id

    def _request(self, op: str, fields: dict, timeout: float | None) -> Any:
        with self._lock:
            self.start()
            self._seq += 1
            seq = self._seq
            defer = self.pipeline and (op in DEFERRABLE or fields.get("keep") is True)
            req = {"op": op, "seq": seq, **fields}
            if defer and op not in ("setattr", "setitem"):
                req["as"] = self._next_hid
            drops = list(self._drops)
            if drops:
                req["drop"] = drops
            if self._seed is not None:
                req["reseed"] = self._seed
            # Arguments that are not plain data raise here (CodecError, StaleHandle): nothing was sent.
            head, buffers = encode(req, handle_id=self._handle_id, limits=self._codec_limits)
            del self._drops[:len(drops)]
            self._seed = None
            limit = self.limits.timeout if timeout is None else float(timeout)
            what = self._what(op, fields)
            # The worker starts this request once the ones sent ahead are done: its deadline follows theirs.
            deadline = max(time.monotonic(), self._pending[-1][2] if self._pending else 0.0) + limit
            gen = self._generation
            try:
                self._chan.write(head, buffers, deadline)
            except (ChannelTimeout, CodecError) as e:
                self._lost(e, what, limit)
            if defer:
                self._pending.append((seq, what, deadline, limit))
                handle = None
                if "as" in req:
                    self._next_hid += 1
                    handle = Handle(self, gen, req["as"])
                if len(self._pending) > PIPELINE_DEPTH:
                    self._raise_first(self._drain())
                return handle
            outputs, first = self._drain_into()
            try:
                resp = self._chan.recv(make_handle=lambda hid: Handle(self, gen, hid),
                                       deadline=min(deadline, time.monotonic() + limit))
            except (ChannelTimeout, CodecError) as e:
                self._lost(e, what, limit)
            try:
                value = self._unpack(resp, seq)
            except SandboxError as e:
                first = first or e
            self.last_output = _join_output(outputs + [self.last_output])
            self._raise_first(first)
            return value

    def _lost(self, e: Exception, what: str, limit: float):
        """The worker did not answer in time, died or broke the protocol: kill it and raise."""
        if isinstance(e, ChannelTimeout):
            self._kill()
            raise StudentTimeout(f"{what} exceeded its {limit:g} s time limit; the sandbox was killed") from None
        detail = self._kill()
        kind = "died" if isinstance(e, ChannelClosed) else "broke the protocol"
        raise SandboxCrash(f"the worker {kind} during {what} ({e}){detail}") from None

    def _drain_into(self) -> tuple[list[str], SandboxError | None]:
        """Read the answers of the requests sent ahead -> (their outputs, the first error among them)."""
        outputs, first = [], None
        while self._pending:
            seq, what, deadline, limit = self._pending[0]
            try:
                resp = self._chan.recv(make_handle=lambda hid: None, deadline=deadline)
            except (ChannelTimeout, CodecError) as e:
                self._lost(e, what, limit)
            self._pending.pop(0)
            try:
                self._unpack(resp, seq)
            except (StudentError, StaleHandle, RequestError) as e:
                first = first or e
            outputs.append(self.last_output)
        return outputs, first

    def _drain(self) -> SandboxError | None:
        outputs, first = self._drain_into()
        self.last_output = _join_output(outputs)
        return first

    @staticmethod
    def _raise_first(error: SandboxError | None) -> None:
        if error is not None:
            raise error

    def flush(self) -> None:
        """Wait for the requests sent ahead (``pipeline=True``); raise the first error among them."""
        with self._lock:
            if self._pending:
                self._raise_first(self._drain())

    def _unpack(self, resp: Any, seq: int) -> Any:
        if type(resp) is not dict or resp.get("seq") != seq or ("value" in resp) == ("error" in resp):
            detail = self._kill()
            raise SandboxCrash(f"the worker sent a malformed response{detail}")
        out = resp.get("out", "")
        self.last_output = clean(out[-caps.CALL_OUTPUT:]) if type(out) is str else ""
        modified = resp.get("modified")
        self.last_modified = [i for i in modified[:64] if type(i) is int] if type(modified) is list else []
        if "value" in resp:
            return resp["value"]
        err = resp["error"]
        if type(err) is not dict or not all(type(err.get(k)) is str for k in ("type", "message", "traceback")):
            detail = self._kill()
            raise SandboxCrash(f"the worker sent a malformed error{detail}")
        # Everything in an error response is text the student may have chosen: capped and cleaned here.
        exc_type = clean(err["type"], caps.ERROR_TYPE)
        message = clean(err["message"], caps.ERROR_MESSAGE)
        tb = err["traceback"]
        tb = clean(tb if len(tb) <= caps.ERROR_TRACEBACK else tb[-caps.ERROR_TRACEBACK:])
        kind = err.get("kind")
        if kind == "student":
            raise StudentError(exc_type, message, tb, self.last_output)
        if kind == "handle":
            raise StaleHandle(message)
        raise RequestError(f"{exc_type}: {message}")

    @staticmethod
    def _what(op: str, fields: dict) -> str:
        name = fields.get("target") or fields.get("name")
        return f"{op} {name}" if name else op

    # ------------------------------------------------------------------------------------ the API
    def call(self, target: str, /, *args, keep=(), timeout: float | None = None, watch: bool = False,
             **kwargs) -> Any:
        """Call ``target`` (e.g. 'cs231n.layers.affine_forward') in the worker -> its result as plain data.

        keep=(1,) returns element 1 of a tuple result as a Handle; keep=True the whole result.  Parts of
        the result that are not plain data come back as Handles anyway. With ``watch``, ``last_modified``
        lists afterwards the positions of the array arguments the call changed in place.
        """
        fields = {"target": target, "args": list(args), "kwargs": kwargs, "keep": _keep(keep)}
        if watch:
            fields["watch"] = True
        return self._request("call", fields, timeout)

    def new(self, target: str, /, *args, timeout: float | None = None, **kwargs) -> Handle:
        """Construct ``target(*args, **kwargs)`` (e.g. a model class) in the worker -> a Handle to it."""
        return self._request("new", {"target": target, "args": list(args), "kwargs": kwargs}, timeout)

    def call_method(self, obj: Handle, name: str, /, *args, keep=(), timeout: float | None = None,
                    **kwargs) -> Any:
        """``obj.name(*args, **kwargs)`` in the worker -> its result (keep= as in ``call``)."""
        return self._request("call_method", {"obj": obj, "name": name, "args": list(args), "kwargs": kwargs,
                                             "keep": _keep(keep)}, timeout)

    def getattr(self, obj: Handle, name: str, *, timeout: float | None = None) -> Any:
        """``obj.name`` (a dotted name walks attributes) as plain data (non-plain parts as Handles)."""
        return self._request("getattr", {"obj": obj, "name": name}, timeout)

    def setattr(self, obj: Handle, name: str, value: Any, *, timeout: float | None = None) -> None:
        """``obj.name = value`` in the worker."""
        self._request("setattr", {"obj": obj, "name": name, "value": value}, timeout)

    def setitem(self, obj: Handle, path, value: Any, *, timeout: float | None = None) -> None:
        """``obj.p0[p1]...[pn] = value``: steps into a dict, list or ndarray are items, others attributes.

        ``sb.setitem(model, ("params", "W1"), w1)`` is ``model.params['W1'] = w1``; a str path is one step.
        """
        path = [path] if isinstance(path, (str, int)) else list(path)
        self._request("setitem", {"obj": obj, "path": path, "value": value}, timeout)

    def fetch(self, obj: Handle, *, timeout: float | None = None) -> Any:
        """The object behind a Handle as plain data (its non-plain parts as new Handles)."""
        return self._request("fetch", {"obj": obj}, timeout)

    def put(self, value: Any, *, timeout: float | None = None) -> Handle:
        """Store plain data in the worker (e.g. a data dict used by many calls) -> a Handle to it."""
        return self._request("put", {"value": value}, timeout)

    def seed(self, seed: int, *, timeout: float | None = None) -> None:
        """``np.random.seed(seed); random.seed(seed)`` inside the worker, before the next request runs.

        No round trip of its own: the seed travels with the next request (also to a restarted worker)."""
        if type(seed) is not int or not 0 <= seed < 2 ** 32:
            raise ValueError(f"a seed must be an int in [0, 2**32), not {seed!r}")
        with self._lock:
            self._seed = seed

    def release(self, *handles: Handle) -> None:
        """Let the worker drop these objects now (garbage-collected Handles are dropped anyway)."""
        with self._lock:
            for h in handles:
                if type(h) is Handle and h._owner() is self and h._generation == self._generation:
                    self._drops.append(h.id)
                    h._generation = -1  # the Handle itself is stale from now on

    def ping(self, *, timeout: float | None = None) -> str:
        """A no-op round trip ('pong'); starts the worker if needed."""
        return self._request("ping", {}, timeout)

    @property
    def info(self) -> dict:
        """What isolation is in force (for results.json): sandboxed, uid, network, limits, mounts, ..."""
        hello = self._hello or {}
        if self.sandboxed and (self._probe or {}).get("tier") == launch.SETPRIV:
            base = {"sandboxed": True, "tier": launch.SETPRIV,
                    "isolation": launch.TIER_DESCRIPTIONS[launch.SETPRIV],
                    "uid": hello.get("uid", self.limits.uid), "gid": hello.get("gid", self.limits.gid),
                    "network": self._probe.get("network"), "mounts": self._mounts,
                    "unreadable_to_the_sandbox": self._probe.get("checked_unreadable"),
                    "readable_data_bubblewrap_would_hide": self._probe.get("readable_data"),
                    "tools": self._probe.get("tools")}
        elif self.sandboxed:
            base = {"sandboxed": True, "tier": launch.BUBBLEWRAP,
                    "isolation": launch.TIER_DESCRIPTIONS[launch.BUBBLEWRAP],
                    "uid": hello.get("uid", self.limits.uid), "gid": hello.get("gid", self.limits.gid),
                    "network": "none (own network namespace, loopback only)",
                    "mounts": self._mounts or launch.mounts(
                        {launch.SANDBOX_HARNESS: "<stage>/harness",
                         f"{launch.SANDBOX_SUBMISSION}/{self.package_dir.name}":
                             f"<stage>/submission/{self.package_dir.name}",
                         **self.extra_ro_binds}, self.limits),
                    "tools": (self._probe or {}).get("tools")}
        else:
            base = {"sandboxed": False, "tier": None,
                    "isolation": "NONE (--no-sandbox): student code runs as a plain subprocess with the "
                                 "grader's user, file system and network",
                    "uid": hello.get("uid", os.geteuid()), "network": "host"}
        return {**base, "limits": asdict(self.limits), "rlimits_in_force": hello.get("rlimits"),
                "python": hello.get("python"), "numpy": hello.get("numpy"), "worker_starts": self.starts}


def _join_output(parts: list[str]) -> str:
    text = "".join(p for p in parts if p)
    return text[-caps.CALL_OUTPUT:]


def _keep(keep) -> Any:
    if keep is True:
        return True
    if keep is None or keep is False:
        return []
    if isinstance(keep, int):
        return [keep]
    return list(keep)
