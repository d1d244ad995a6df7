"""The hostile battery's cases: each a submission built for the fixture course's ``tinynb`` (tiny's two functions,
a notebook, limits of a few seconds), the property it must not break, and what the same code earns without the
attack.

A case's archive is built from a ``Target`` (where the things it must not reach are on this machine, the ports
it must not connect to). Most code attacks start from one of three bases whose honest score is known:

* ``starter``: the starter's ``ops.py`` (earns 0) with the attack at import time or in both functions;
* ``half``: the solution's ``scale`` and the attack as ``row_sums`` (earns exactly ``scale``'s 2 points);
* ``solution``: the solution's code (earns the 5 code points), with the attack in the archive or the notebook.

Attacks that try to read or reach something report what they got in the text of the exception they raise
(``EXFIL[...]``), which lands in the test's feedback: the battery checks that the report arrived (the channel
works) and that it holds no byte of what it tried to read.
"""
from __future__ import annotations

import io
import json
import os
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

ASSIGNMENT = "tinynb"
CODE_POINTS = 5.0            # Q1: test_scale 2 + test_row_sums 3
SCALE_POINTS = 2.0
NB_POINTS = 1.0              # the notebook Ops, when it runs to the end
NOTEBOOK = "Ops.ipynb"
MiB = 1024 * 1024


@dataclass
class Target:
    """What a case aims at: host paths the sandbox must not see, ports it must not reach, the base sources."""

    starter: str                     # the starter's cs231n/ops.py
    solution: str                    # the solution's cs231n/ops.py (without the course's canary line)
    helpers: str                     # cs231n/helpers.py (a provided file)
    notebook: str                    # the solution notebook (JSON text)
    secret_files: dict[str, list[Path]] = field(default_factory=dict)   # case -> files it tries to read
    ports: dict[str, int] = field(default_factory=dict)                   # service, redis, postgres, listener
    cached: dict[str, list] = field(default_factory=dict)                 # reference outputs of the unsalted cases


@dataclass
class Case:
    """One hostile submission.

    - ``group``: resources, leak, forgery, network, archive, notebook
    - ``prop``: the property it must not break, in words (a failing test quotes it)
    - ``build(target) -> bytes``: the upload
    - ``expected``: the score the same code earns without the attack (``None``: the upload is refused)
    - ``status``: the HTTP status of the upload (202 accepted; 4xx refused, with ``code``)
    - ``reports``: the attack reports through its exception text (the channel must work)
    - ``wall``: seconds the grade may take at most (the limits stop it)
    """

    name: str
    group: str
    prop: str
    build: Callable[[Target], bytes]
    expected: float | None
    status: int = 202
    code: str | None = None
    reports: bool = False
    wall: float = 60.0
    checks: tuple[str, ...] = ()     # extra checks by name (see tests/hostile/conftest.py)


# ------------------------------------------------------------------------------------------ archives

def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` = [(name or ZipInfo, bytes or str)]."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = compression
            zf.writestr(name, data)
    return buf.getvalue()


def package(t: Target, ops: str, notebook: str | None = None, extra=(), compression=zipfile.ZIP_DEFLATED) -> bytes:
    entries = [("cs231n/__init__.py", ""), ("cs231n/helpers.py", t.helpers), ("cs231n/ops.py", ops)]
    if notebook is not None:
        entries.append((NOTEBOOK, notebook))
    return zip_bytes(entries + list(extra), compression)


def starter_with(code: str) -> Callable[[Target], bytes]:
    """The starter with ``code`` run at import time (after the starter's functions)."""
    return lambda t: package(t, t.starter + "\n" + textwrap.dedent(code))


def both_with(body: str) -> Callable[[Target], bytes]:
    """The starter whose two functions run ``body`` (a function body of ``x``, ``a``)."""
    body = textwrap.indent(textwrap.dedent(body), "    ")
    return lambda t: package(t, t.starter + f"\n\ndef _attack(x, a=None):\n{body}\n\n"
                                            "def scale(x, a):\n    return _attack(x, a)\n\n\n"
                                            "def row_sums(x):\n    return _attack(x)\n")


def half_with(body: str, prelude: str = "") -> Callable[[Target], bytes]:
    """The solution's scale, and ``body`` as row_sums(x)."""
    body = textwrap.indent(textwrap.dedent(body), "    ")
    return lambda t: package(t, t.solution + "\n" + textwrap.dedent(prelude) + f"\n\ndef row_sums(x):\n{body}\n")


# An attack that reads files (given by the case's Target.secret_files) and reports them in its exception text.
READ_REPORT = '''
import hashlib as _h, os as _os, time as _t
def _report(paths, walk_names=()):
    out = []
    for i, p in enumerate(paths):
        try:
            with open(p, "rb") as fh:
                data = fh.read(1 << 20)
            out.append(f"t{i}:{_h.sha256(data).hexdigest()}:{data[:48].hex()}:{data[:200]!r}")
        except Exception as e:
            out.append(f"t{i}:denied:{type(e).__name__}")
    found = []
    if walk_names:                  # the whole file system in view, for one second (the call's limit is 2 s)
        stop = _t.monotonic() + 1.0
        for root, dirs, files in _os.walk("/"):
            if _t.monotonic() > stop:
                found.append("w:partial")
                break
            dirs[:] = [d for d in dirs if _os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")
                       and d not in ("site-packages", "dist-packages", "__pycache__")]
            for f in files:
                if f in walk_names and len(found) < 8:
                    try:
                        with open(_os.path.join(root, f), "rb") as fh:
                            data = fh.read(1 << 20)
                        found.append(f"w:{_h.sha256(data).hexdigest()}:{data[:200]!r}")
                    except Exception as e:
                        found.append(f"w:denied:{type(e).__name__}")
    return "EXFIL[" + " | ".join(out + found) + "]"
'''


def reader(case: str, walk_names: tuple[str, ...] = (), channel: str = "raise") -> Callable[[Target], bytes]:
    """The starter whose functions read ``Target.secret_files[case]`` and report them (raise or print+return)."""
    def build(t: Target) -> bytes:
        paths = [str(p) for p in t.secret_files.get(case, [])]
        if channel == "raise":
            tail = "    raise RuntimeError(_report(_PATHS, _WALK))\n"
        else:
            tail = ("    r = _report(_PATHS, _WALK)\n    print(r, flush=True)\n    import sys\n"
                    "    print(r, file=sys.stderr)\n    return r\n")
        code = (t.starter + READ_REPORT + f"\n_PATHS = {paths!r}\n_WALK = {tuple(walk_names)!r}\n\n"
                "def _attack(*args):\n" + tail +
                "\n\ndef scale(x, a):\n    return _attack(x, a)\n\n\ndef row_sums(x):\n    return _attack(x)\n")
        return package(t, code)
    return build


def connector(kind: str) -> Callable[[Target], bytes]:
    """The starter whose functions try to reach ``kind`` (a port of Target.ports, or DNS) and report."""
    def build(t: Target) -> bytes:
        port = t.ports.get(kind, 0)
        code = t.starter + textwrap.dedent(f'''
            import socket as _s
            def _try():
                out = []
                for host in ("127.0.0.1", "localhost", "10.0.2.2", "172.17.0.1"):
                    try:
                        c = _s.create_connection((host, {port}), timeout=1)
                        c.sendall(b"GET /healthz HTTP/1.0\\r\\n\\r\\n" if {kind!r} == "service" else
                                  b"SET hostile-was-here 1\\r\\n" if {kind!r} == "redis" else b"hostile\\n")
                        out.append(f"{{host}}:connected:{{c.recv(64)!r}}")
                        c.close()
                    except Exception as e:
                        out.append(f"{{host}}:failed:{{type(e).__name__}}")
                if {kind!r} == "dns":
                    for name in ("pypi.org", "deb.debian.org"):
                        try:
                            out.append(f"{{name}}:resolved:{{_s.getaddrinfo(name, 443)[0][4]}}")
                        except Exception as e:
                            out.append(f"{{name}}:failed:{{type(e).__name__}}")
                    try:
                        u = _s.socket(_s.AF_INET, _s.SOCK_DGRAM)
                        u.settimeout(1)
                        query = (b"\\x12\\x34\\x01\\x00\\x00\\x01" + b"\\x00" * 6
                                 + b"\\x04pypi\\x03org\\x00\\x00\\x01\\x00\\x01")
                        u.sendto(query, ("8.8.8.8", 53))
                        out.append(f"udp53:answered:{{u.recv(64)!r}}")
                    except Exception as e:
                        out.append(f"udp53:failed:{{type(e).__name__}}")
                return "EXFIL[" + " | ".join(out) + "]"

            def scale(x, a):
                raise RuntimeError(_try())

            def row_sums(x):
                raise RuntimeError(_try())
            ''')
        return package(t, code)
    return build


# ---------------------------------------------------------------------------------------- notebooks

def notebook_with(*sources: str, raw: str | None = None) -> Callable[[Target], bytes]:
    """The solution's code and a notebook: the solution notebook's cells followed by code cells ``sources``
    (or ``raw``: the notebook file's text as given)."""
    def build(t: Target) -> bytes:
        if raw is not None:
            return package(t, t.solution, notebook=raw)
        nb = nbformat.reads(t.notebook, as_version=4)
        nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(s).strip()) for s in sources]
        return package(t, t.solution, notebook=nbformat.writes(nb))
    return build


def notebook_stored_outputs(t: Target, size: int) -> bytes:
    """A notebook whose saved outputs hold ``size`` bytes of text (it compresses ~1000:1)."""
    nb = nbformat.reads(t.notebook, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0" * size)]
    return package(t, t.solution, notebook=nbformat.writes(nb))


# ------------------------------------------------------------------------------------------ the cases

def _bomb(t: Target) -> bytes:
    return package(t, t.solution, extra=[("data/zeros.bin", b"\0" * (300 * MiB))])


def _nested_bomb(t: Target) -> bytes:
    inner = zip_bytes([(f"zeros{i}.bin", b"\0" * (20 * MiB)) for i in range(4)])
    for level in range(3):
        inner = zip_bytes([(f"level{level}-{i}.zip", inner) for i in range(4)], zipfile.ZIP_STORED)
    return package(t, t.solution, extra=[("data/nested.zip", inner)], compression=zipfile.ZIP_STORED)


def _symlink(t: Target) -> bytes:
    info = zipfile.ZipInfo("cs231n/ops.py")
    info.create_system = 3
    info.external_attr = (0o120777) << 16
    target = str(t.secret_files["symlink"][0])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cs231n/__init__.py", "")
        zf.writestr("cs231n/helpers.py", t.helpers)
        zf.writestr(info, target)
    return buf.getvalue()


def _duplicate(t: Target) -> bytes:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # zipfile warns about the duplicate name: that is the point
        return zip_bytes([("cs231n/__init__.py", ""), ("cs231n/helpers.py", t.helpers),
                          ("cs231n/ops.py", t.starter), ("cs231n/ops.py", t.solution)])


def _non_utf8(t: Target) -> bytes:
    data = bytearray(package(t, t.solution, extra=[("cs231n/notes-XX.txt", "hello")]))
    for sig, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            j = data.find(b"XX", i)
            if 0 <= j - i - name_at < 64:
                data[j:j + 2] = b"\xff\xfe"
            start = i + 4
    return bytes(data)


def _junk_beside(t: Target) -> bytes:
    return package(t, t.solution, extra=[("data/junk.bin", os.urandom(49 * MiB))])


def _fake_results(t: Target) -> bytes:
    fake = json.dumps({"score": 5.0, "tests": [{"name": "Q1", "score": 5.0, "max_score": 5.0}], "output": "ok"})
    return starter_with(f'''
        import sys
        _FAKE = {fake!r}
        print(_FAKE, flush=True)
        print(_FAKE, file=sys.stderr, flush=True)
        sys.stdout.write("\\n" + _FAKE + "\\n")
        ''')(t)


def _cached(t: Target) -> bytes:
    return both_with(f'''
        import numpy as np
        cached = {t.cached!r}
        return np.array(cached["scale"] if a is not None else cached["row_sums"])
        ''')(t)


def _write_results(t: Target) -> bytes:
    fake = json.dumps({"score": 5.0, "tests": [{"name": "Q1", "score": 5.0, "max_score": 5.0, "status": "passed"}]})
    return starter_with(f'''
        import os
        for _d in (".", "..", "../..", "/tmp", os.path.expanduser("~"), "/sandbox", "/sandbox/harness", "/results"):
            for _n in ("results.json", "results/results.json"):
                try:
                    os.makedirs(os.path.dirname(os.path.join(_d, _n)) or ".", exist_ok=True)
                    with open(os.path.join(_d, _n), "w") as _fh:
                        _fh.write({fake!r})
                except Exception:
                    pass
        ''')(t)


CASES: list[Case] = [
    # ---- resources: the limits stop each in seconds; the honest scale keeps its 2 points
    Case("cpu_loop", "resources", "an endless loop in a call is stopped by the call's time limit",
         half_with("while True:\n    pass"), SCALE_POINTS),
    Case("cpu_loop_at_import", "resources", "an endless loop at import is stopped by the import time limit",
         starter_with("while True:\n    pass"), 0.0),
    Case("sleep", "resources", "a call that sleeps for an hour is stopped by the call's time limit",
         half_with("import time\ntime.sleep(3600)"), SCALE_POINTS),
    Case("allocate_20gb", "resources", "a 20 GB allocation fails inside the sandbox (address-space limit)",
         half_with("import numpy as np\nreturn np.ones(20 * 2**30 // 8).reshape(-1)[: len(x)]"), SCALE_POINTS),
    Case("allocate_20gb_at_import", "resources", "a 20 GB allocation at import fails inside the sandbox",
         starter_with("_hog = bytearray(20 * 2**30)"), 0.0),
    Case("fork_bomb", "resources", "a fork bomb is contained by the process limit and leaves nothing behind",
         half_with("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
         SCALE_POINTS),
    Case("disk_fill", "resources", "filling the disk stops at the sandbox's file-size and tmpfs limits",
         half_with("import os\nfor d in ('/tmp', '.', os.path.expanduser('~')):\n    try:\n"
                   "        with open(os.path.join(d, 'fill.bin'), 'wb') as fh:\n"
                   "            while True:\n                fh.write(b'x' * (1 << 20))\n"
                   "    except OSError:\n        pass\nreturn None"), SCALE_POINTS),
    Case("print_1gb", "resources", "printing 1 GB is capped, the grade finishes",
         half_with("import sys\nchunk = 'x' * (1 << 20) + '\\n'\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n"
                   "return None"), SCALE_POINTS),
    Case("files_100000", "resources", "creating 100,000 files stops at the limits and leaves nothing behind",
         half_with("import os\nfor d in ('/tmp', '.'):\n    try:\n"
                   "        os.makedirs(os.path.join(d, 'many'), exist_ok=True)\n"
                   "        for i in range(100000):\n            open(os.path.join(d, 'many', str(i)), 'w').close()\n"
                   "    except OSError:\n        pass\nreturn None"), SCALE_POINTS),
    Case("thread_bomb", "resources", "starting threads without end is contained by the process limit",
         half_with("import threading, time\nwhile True:\n    try:\n"
                   "        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"
                   "    except RuntimeError:\n        pass"), SCALE_POINTS),

    # ---- escape and leak: nothing of the trusted side is visible in the sandbox
    Case("read_hidden_suites", "leak", "the hidden suites are not readable from the sandbox",
         reader("read_hidden_suites", walk_names=("q1_ops.py", "manifest.toml")), 0.0, reports=True),
    Case("read_references", "leak", "the reference outputs are not readable from the sandbox",
         reader("read_references", walk_names=("Q1.npz",)), 0.0, reports=True),
    Case("read_solutions", "leak", "the reference solution is not readable from the sandbox",
         reader("read_solutions"), 0.0, reports=True),
    Case("read_other_uploads", "leak", "other students' uploads are not readable from the sandbox",
         reader("read_other_uploads"), 0.0, reports=True),
    Case("read_database", "leak", "the service's database file is not readable from the sandbox",
         reader("read_database", walk_names=("grader.db",)), 0.0, reports=True),
    Case("environment_and_tokens", "leak", "the sandbox sees no secret, token or variable of the service",
         both_with('''
             import os
             env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()))
             try:
                 env += open("/proc/self/environ", "rb").read().decode(errors="replace")
             except OSError:
                 pass
             raise RuntimeError("EXFIL[" + env[:3000] + "]")
             '''), 0.0, reports=True),
    Case("proc_of_other_processes", "leak", "/proc shows no process outside the sandbox",
         both_with('''
             import os
             out = []
             for pid in sorted(p for p in os.listdir("/proc") if p.isdigit())[:40]:
                 for what in ("cmdline", "environ"):
                     try:
                         out.append(pid + ":" + open(f"/proc/{pid}/{what}", "rb").read()[:200].decode(errors="replace"))
                     except OSError as e:
                         out.append(pid + ":" + type(e).__name__)
             raise RuntimeError("EXFIL[" + " | ".join(out)[:3000] + "]")
             '''), 0.0, reports=True),
    Case("exfiltrate_by_print", "leak", "printed output carries nothing of the trusted side out",
         reader("exfiltrate_by_print", walk_names=("q1_ops.py", "grader.db", "Q1.npz"), channel="print"), 0.0),

    # ---- forgery: every comparison is on the trusted side
    Case("monkeypatch_numpy", "forgery", "patching numpy in the sandbox cannot change the trusted comparison",
         starter_with('''
             import numpy as np
             np.allclose = lambda *a, **k: True
             np.isclose = lambda *a, **k: True
             np.array_equal = lambda *a, **k: True
             np.testing.assert_allclose = lambda *a, **k: None
             np.abs = lambda x, *a, **k: x * 0
             np.max = lambda *a, **k: 0.0
             '''), 0.0),
    Case("patch_the_checker", "forgery", "modules named like the grader's checker are not the checker",
         starter_with('''
             import sys, types
             for _name in ("grader", "grader.checks", "grader.scoring", "pytest", "_pytest"):
                 _m = types.ModuleType(_name)
                 _m.close = _m.array = _m.rel_error = lambda *a, **k: 0.0
                 sys.modules[_name] = _m
             '''), 0.0),
    Case("patch_builtins", "forgery", "patched builtins in the sandbox do not reach the trusted side",
         starter_with('''
             import builtins
             builtins.isinstance = lambda *a: True
             builtins.abs = lambda x: 0
             builtins.max = lambda *a, **k: 0
             builtins.AssertionError = type("AssertionError", (Exception,), {})
             '''), 0.0),
    Case("always_equal_object", "forgery", "an object equal to everything does not cross the boundary",
         both_with('''
             class Same:
                 def __eq__(self, o): return True
                 def __ne__(self, o): return False
                 def __sub__(self, o): return 0.0
                 __rsub__ = __sub__
                 def __abs__(self): return 0.0
                 def __array__(self, *a, **k):
                     import numpy as np
                     return np.zeros(0)
                 shape = property(lambda self: getattr(x, "shape", ()))
             return Same()
             '''), 0.0),
    Case("ndarray_subclass", "forgery", "an ndarray subclass arrives as plain data, its overrides gone",
         both_with('''
             import numpy as np
             class Liar(np.ndarray):
                 def __eq__(self, o): return np.ones(np.shape(o), bool)
                 def __sub__(self, o): return np.zeros(np.shape(o))
                 def __array_finalize__(self, obj): pass
             shape = x.shape if a is not None else x.shape[:1]
             return np.zeros(shape).view(Liar)
             '''), 0.0),
    Case("nan_arrays", "forgery", "NaN answers fail the comparison",
         both_with('''
             import numpy as np
             return np.full(x.shape if a is not None else x.shape[:1], np.nan)
             '''), 0.0),
    Case("cached_answers", "forgery", "answers cached for the unsalted inputs fail on the submission's inputs",
         _cached, 0.0),
    Case("write_results_file", "forgery", "a results.json written by the submission is never read",
         _write_results, 0.0),
    Case("sys_exit_at_import", "forgery", "sys.exit(0) at import is a broken file, not success",
         starter_with("import sys\nsys.exit(0)"), 0.0),
    Case("os_exit_at_import", "forgery", "os._exit(0) at import is a broken file, not success",
         starter_with("import os\nos._exit(0)"), 0.0),
    Case("os_exit_in_call", "forgery", "os._exit(0) in a call fails that call only",
         half_with("import os\nos._exit(0)"), SCALE_POINTS),
    Case("raise_system_exit", "forgery", "SystemExit(0) raised by a call fails that call",
         half_with("raise SystemExit(0)"), SCALE_POINTS),
    Case("raise_keyboard_interrupt", "forgery", "KeyboardInterrupt raised by a call fails that call",
         half_with("raise KeyboardInterrupt()"), SCALE_POINTS),
    Case("signals_to_the_parent", "forgery", "signals to the parent or to every process reach nothing outside",
         half_with('''
             import os, signal
             for pid in (os.getppid(), 1, -1, 0):
                 for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
                     try:
                         os.kill(pid, sig)
                     except Exception:
                         pass
             return None
             '''), SCALE_POINTS),
    Case("fake_results_on_stdout", "forgery", "results JSON printed on stdout/stderr is not the result",
         _fake_results, 0.0),

    # ---- network: no connection leaves the sandbox
    Case("connect_to_the_service", "network", "the sandbox cannot reach the service's port",
         connector("service"), 0.0, reports=True, checks=("unreached",)),
    Case("connect_to_redis", "network", "the sandbox cannot reach Redis on loopback",
         connector("redis"), 0.0, reports=True, checks=("unreached", "redis_untouched")),
    Case("connect_to_postgres", "network", "the sandbox cannot reach PostgreSQL on loopback",
         connector("postgres"), 0.0, reports=True, checks=("unreached",)),
    Case("connect_to_a_listener", "network", "a listener on the host's loopback sees no connection",
         connector("listener"), 0.0, reports=True, checks=("unreached", "listener_silent")),
    Case("dns", "network", "names do not resolve and no UDP packet leaves the sandbox",
         connector("dns"), 0.0, reports=True, checks=("unreached",)),

    # ---- archives: refused with a reason (a zero), or graded on what they hold
    Case("zip_bomb_flat", "archive", "a flat zip bomb is refused before it is expanded", _bomb, 0.0),
    Case("zip_bomb_nested", "archive", "a stored zip of zips (each a bomb) is never expanded: graded on the code",
         _nested_bomb, CODE_POINTS),
    Case("path_traversal", "archive", "a ../ entry is refused and writes nothing outside",
         lambda t: package(t, t.solution, extra=[("../" * 12 + str(t.secret_files["escape"][0]).lstrip("/"), "x")]),
         0.0, checks=("nothing_written",)),
    Case("absolute_path", "archive", "an absolute entry is refused and writes nothing outside",
         lambda t: package(t, t.solution, extra=[(str(t.secret_files["escape"][1]), "x")]),
         0.0, checks=("nothing_written",)),
    Case("symlink_entry", "archive", "a symlink entry is refused (never followed)", _symlink, 0.0),
    Case("duplicate_names", "archive", "an archive naming a file twice is refused", _duplicate, 0.0),
    Case("non_utf8_names", "archive", "a name that is not UTF-8 does not break the grade", _non_utf8, CODE_POINTS),
    Case("junk_49mb_beside_the_code", "archive", "49 MB of junk beside the code is graded on the code",
         _junk_beside, CODE_POINTS, wall=120),
    Case("not_a_zip", "archive", "a file that is not a zip is a 415, nothing recorded",
         lambda t: b"this is not an archive\n" * 100, None, status=415, code="not_a_zip"),
    Case("empty_file", "archive", "an empty file is a 422, nothing recorded",
         lambda t: b"", None, status=422, code="empty_file"),
    Case("junk_49mb", "archive", "49 MB of random bytes is a 415, nothing recorded",
         lambda t: os.urandom(49 * MiB), None, status=415, code="not_a_zip"),

    # ---- notebooks: the code keeps its points, a notebook that does not run to the end gets none
    Case("notebook_malformed_json", "notebook", "a notebook that is not JSON loses its point only",
         notebook_with(raw='{"cells": [{"cell_type": "code", "source": "1+1",'), CODE_POINTS),
    Case("notebook_500mb_stored_outputs", "notebook", "500 MB of saved outputs are refused as a bomb",
         lambda t: notebook_stored_outputs(t, 500 * MiB), 0.0, wall=120),
    Case("notebook_prints_500mb", "notebook", "a cell printing 500 MB is capped and stopped",
         notebook_with("import sys\nchunk = 'y' * (1 << 20)\nfor _ in range(500):\n    sys.stdout.write(chunk)"),
         CODE_POINTS),
    Case("notebook_shell_escapes", "notebook", "! and %%bash cells run inside the sandbox and read nothing",
         lambda t: notebook_with(f"!cat {t.secret_files['shell'][0]} /etc/shadow; env",
                                 f"%%bash\ncat {t.secret_files['shell'][1]} || true\nls / ; id",
                                 f"out = !cat {t.secret_files['shell'][0]}\nprint(out)")(t),
         CODE_POINTS + NB_POINTS),
    Case("notebook_kills_its_kernel", "notebook", "a cell that kills the kernel fails the notebook only",
         notebook_with("import os\nos._exit(0)"), CODE_POINTS),
    Case("notebook_segfaults_its_kernel", "notebook", "a cell that crashes the kernel fails the notebook only",
         notebook_with("import ctypes\nctypes.string_at(0)"), CODE_POINTS),
    Case("notebook_kills_its_parent", "notebook", "a cell signalling its parent and every process reaches nothing "
         "outside", notebook_with("import os, signal\nfor pid in (os.getppid(), 1, -1):\n    try:\n"
                                  "        os.kill(pid, signal.SIGKILL)\n"
                                  "    except Exception as e:\n        print(e)"), CODE_POINTS + NB_POINTS),
    Case("notebook_never_ends", "notebook", "a cell that never ends is stopped by the cell time limit",
         notebook_with("while True:\n    pass"), CODE_POINTS),
]

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
