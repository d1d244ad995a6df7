"""The sandbox command line: who the worker runs as, what limits apply, what it can see -- nothing else.

TRUSTED SIDE.  A sandboxed worker is started as

    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --
    prlimit --as=... --cpu=... --nproc=... --fsize=... --nofile=... --core=0 --
    bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session --as-pid-1 ...mounts...
    -- <venv>/bin/python /sandbox/harness/worker.py --root /sandbox/submission

so it runs as ``nobody`` with no capabilities, under resource limits, in new user/pid/net/ipc/uts/cgroup
namespaces (the network namespace has only a loopback device: no route out, and the host's 127.0.0.1 is
a different one).  Its whole file system view is:

    /usr, /lib*, /bin (symlinks as on the host)    read-only   (Python, NumPy's shared libraries)
    /etc/ld.so.cache                               read-only   (the only file of /etc)
    the Python prefix(es) if not under /usr        read-only   (the venv, at its own path)
    /sandbox/harness                               read-only   (a copy of grader/sandbox/inside/: the worker, the
                                                               codec and the shims, the only grader code in the
                                                               sandbox; the shims, ``past.builtins`` for old
                                                               code, come after the package on the import path)
    /sandbox/submission/<package>                  read-only   (a copy of the student's package, imported
                                                               under its folder's name: cs231n, common, ...)
    /proc (its own pid namespace), /dev (null, zero, random, ...)
    /tmp                                           writable tmpfs of limited size (also HOME)
    /usr/share/datasets                            hidden (empty): the public copy of the hidden split

Everything else -- /work, /root, the grader, reference outputs, solutions, hidden suites, the database,
the host's environment -- does not exist in the sandbox.  ``sandbox_command`` builds this line for any
program (the notebook runner reuses it for an ipykernel); ``probe`` checks that it really works here.

Isolation tiers.  That is the ``bubblewrap`` tier, which needs user namespaces.  Where they are not allowed
(a default Docker container, e.g. Gradescope's), ``GRADER_ISOLATION=auto`` falls back to the ``setpriv``
tier: the same programs with host paths (``mounts_paths()`` is False), started as root through

    [unshare --net --]  setpriv --reuid=... --regid=... --clear-groups --inh-caps=-all --bounding-set=-all
    --no-new-privs --pdeathsig=KILL --  prlimit ...  --  python -I -c <seccomp filter> <program>

(``confine_command``): an unprivileged uid without capabilities, the same rlimits, a clean environment, no
internet sockets (``seccomp``: a filter needs no privilege), and its own network namespace when the kernel
lets root make one.  It sees the host's file system with that
uid's rights: the grader's files, the secret and the references must be unreadable to it (``probe`` checks
the running grader's own files).  ``GRADER_ISOLATION=bubblewrap`` (the default) never falls back;
``setpriv`` forces the second tier.  ``tier()`` says which one is in force.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..tmpdirs import private_tmpdir
from . import seccomp

MiB = 1 << 20

SANDBOX_HARNESS = "/sandbox/harness"
SANDBOX_SUBMISSION = "/sandbox/submission"
SANDBOX_SHIMS = SANDBOX_HARNESS + "/shims"
HIDDEN_PATHS = ("/usr/share/datasets",)  # under /usr but must not be visible (public hidden-split labels)

HERE = Path(__file__).resolve().parent
INSIDE_DIR = HERE / "inside"  # THE folder mounted in the sandbox: worker.py, codec.py, missing_imports.py, shims/ (nothing else)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed worker (all of its processes) and of each call."""

    timeout: float = 30.0  # default wall-clock seconds per call (override with timeout= per call)
    start_timeout: float = 30.0  # sandbox + Python + NumPy start
    memory_mb: int = 4096  # RLIMIT_AS: address space of each process
    cpu_seconds: int = 900  # RLIMIT_CPU: CPU time over the worker's whole life (then it is killed)
    nproc: int = 64  # RLIMIT_NPROC: processes + threads of the sandbox uid
    fsize_mb: int = 64  # RLIMIT_FSIZE: largest file it can write
    nofile: int = 256  # RLIMIT_NOFILE: open descriptors
    tmp_mb: int = 64  # size of the private /tmp
    max_frame_mb: int = 512  # largest message in either direction (codec cap)
    max_output_bytes: int = 64 * 1024  # tail of the student's prints returned with each call
    max_package_mb: int = 256  # largest submission package copied into the sandbox
    # The sandbox user (default nobody).  RLIMIT_NPROC counts all processes of a uid, across sandboxes: to
    # run sandboxes side by side without one fork bomb starving the others, pass uid=None and Sandbox
    # takes a uid of its own from UID_POOL (gid = uid) for its lifetime.
    uid: int | None = 65534
    gid: int | None = 65534


UID_POOL = range(200_000, 200_000 + 4096)  # uids handed out by Sandbox for Limits(uid=None)

ISOLATION_ENV = "GRADER_ISOLATION"     # bubblewrap (default) | auto | setpriv
BUBBLEWRAP, SETPRIV = "bubblewrap", "setpriv"
TIER_DESCRIPTIONS = {
    BUBBLEWRAP: "bubblewrap: user/pid/net/ipc/uts/cgroup namespaces, only the system, the venv and the "
                "package mounted, no capabilities, no new privileges; rlimits via prlimit; uid via setpriv",
    SETPRIV: "setpriv: an unprivileged uid without capabilities and no new privileges, rlimits via prlimit, a "
             "clean environment, no internet sockets (seccomp); the host's file system with that uid's rights "
             "(the grader's files, the secret and the references unreadable to it); no user namespaces",
}


MMAP_THRESHOLD = 32 * MiB      # malloc: blocks at least this big are mmap()ed (see tune_malloc)
TRIM_THRESHOLD = 256 * MiB     # malloc: free heap kept before it is returned to the system
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt() parameter numbers (glibc malloc.h)

BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "PYTHONPATH": f"{SANDBOX_SUBMISSION}:{SANDBOX_SHIMS}",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    # see tune_malloc
    "GLIBC_TUNABLES": f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}:glibc.malloc.trim_threshold={TRIM_THRESHOLD}",
}


def tune_malloc() -> None:
    """The same malloc thresholds as the sandbox's ``GLIBC_TUNABLES``, for this (trusted) process.

    A fresh process hands NumPy's big temporaries (im2col columns, activations) to mmap and back on every
    step until glibc's dynamic thresholds adapt, and each new mapping is page-faulted again. Fixed
    thresholds keep arrays under 32 MiB on the heap and up to 256 MiB of freed heap in the process: the
    first training in a new worker ran 1.5-2x slower than in a warm one without them, and the grader's
    own reference evaluations varied between 40 and 200 ms. No-op where glibc's ``mallopt`` is missing.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


# ------------------------------------------------------------------------------------------ the pieces

def tools() -> dict[str, str | None]:
    """Absolute paths of bwrap, setpriv and prlimit on this host (None when missing)."""
    return {name: shutil.which(name) for name in ("bwrap", "setpriv", "prlimit")}


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def python_runtime() -> tuple[str, list[str]]:
    """(interpreter path, host directories it needs besides /usr), for the Python running the grader.

    The venv is mounted at its own path (its scripts and .pth files name absolute paths); a base prefix
    that is not under /usr (pyenv, conda, /opt/python) is mounted too.
    """
    exe = os.path.abspath(sys.executable)
    dirs: list[str] = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(os.path.realpath(exe))):
        p = os.path.abspath(p)
        if not _under(p, "/usr") and not any(_under(p, d) for d in dirs):
            dirs = [d for d in dirs if not _under(d, p)] + [p]
    return exe, sorted(dirs)


def system_args() -> list[str]:
    """bwrap arguments for the read-only system part: /usr, the /lib*, /bin, /sbin pieces, ld.so.cache."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _rlimit_args(limits: Limits) -> list[str]:
    return [f"--as={limits.memory_mb * MiB}", f"--cpu={limits.cpu_seconds}", f"--nproc={limits.nproc}",
            f"--fsize={limits.fsize_mb * MiB}", f"--nofile={limits.nofile}", "--core=0"]


def wanted_tier() -> str:
    """``$GRADER_ISOLATION``: bubblewrap (default), auto or setpriv. Anything else is a ValueError."""
    value = os.environ.get(ISOLATION_ENV, BUBBLEWRAP).strip().lower() or BUBBLEWRAP
    if value not in (BUBBLEWRAP, "auto", SETPRIV):
        raise ValueError(f"{ISOLATION_ENV} must be bubblewrap, auto or setpriv, not {value!r}")
    return value


def tier() -> str:
    """The isolation tier sandboxes use here: bubblewrap, or setpriv when asked for (``setpriv``) or when
    ``auto`` finds that bubblewrap does not work (its probe is cached)."""
    wanted = wanted_tier()
    if wanted == "auto":
        return BUBBLEWRAP if _bwrap_probe(Limits())["ok"] else SETPRIV
    return wanted


def mounts_paths() -> bool:
    """Whether sandboxed programs see the ``SANDBOX_*`` mounts (bubblewrap) or the host's paths (setpriv)."""
    return tier() == BUBBLEWRAP


_netns_cache: dict[str, bool] = {}


def can_unshare_net() -> bool:
    """Whether this (root) process can start a program in a new network namespace (``unshare --net``)."""
    if "ok" not in _netns_cache:
        unshare = shutil.which("unshare")
        ok = False
        if unshare and os.geteuid() == 0:
            try:
                ok = subprocess.run([unshare, "--net", "--", "/bin/true"], capture_output=True, timeout=10,
                                    env={"PATH": BASE_ENV["PATH"]}).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _netns_cache["ok"] = ok
    return _netns_cache["ok"]


def confine_command(argv: Sequence[str], *, limits: Limits = Limits()) -> list[str]:
    """The setpriv tier's command line for ``argv`` (host paths): see the module doc. The caller gives the
    process its whole environment and its working directory (``Popen(env=..., cwd=...)``), and must be root."""
    if limits.uid is None or limits.gid is None:
        raise ValueError("confine_command needs a concrete uid/gid (Sandbox resolves uid=None)")
    t = tools()
    missing = [k for k in ("setpriv", "prlimit") if t[k] is None]
    if missing:
        raise FileNotFoundError(f"sandbox tools not found: {', '.join(missing)}")
    if os.geteuid() != 0:
        raise PermissionError("the setpriv tier needs the grader to run as root (to switch to the sandbox uid)")
    cmd = [shutil.which("unshare"), "--net", "--"] if can_unshare_net() else []
    cmd += [t["setpriv"], f"--reuid={limits.uid}", f"--regid={limits.gid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--pdeathsig=KILL", "--"]
    cmd += [t["prlimit"], *_rlimit_args(limits), "--"]
    if seccomp.supported():     # no internet sockets, also where no network namespace could be made
        return cmd + seccomp.wrap(python_runtime()[0], argv)
    return cmd + list(argv)


def sandbox_command(argv: Sequence[str], *, binds_ro: Mapping[str, str], limits: Limits = Limits(),
                    env: Mapping[str, str] | None = None, chdir: str = "/tmp",
                    hide: Sequence[str] = HIDDEN_PATHS, binds_rw: Mapping[str, str] | None = None,
                    reaper: bool = False) -> list[str]:
    """The full command line that runs ``argv`` in the sandbox.

    Inputs:
    - argv: the program and its arguments, as paths inside the sandbox.
    - binds_ro: {path inside the sandbox: host path} mounted read-only, on top of the system part and the
      Python runtime (which are always there).
    - binds_rw: {path inside the sandbox: host path} mounted read-write (e.g. a notebook's working folder
      or a folder of IPC sockets).  Only RLIMIT_FSIZE bounds what is written there (per file, not in
      total): the caller must watch or cap the host folder.  The worker uses none.
    - limits: rlimits, uid/gid and /tmp size (Limits).
    - env: the complete environment inside (default BASE_ENV); nothing of the host's leaks.
    - chdir: working directory inside; hide: host paths under /usr replaced by an empty read-only dir.
    - reaper: False (default) makes the program itself pid 1 of the sandbox's pid namespace (bwrap
      --as-pid-1): when it exits or is killed, every process of the sandbox dies and bwrap reaps it, so no
      zombie is left to the host's init; signals sent to it from inside the sandbox are ignored unless it
      handles them.  True keeps bwrap's own pid 1 (a reaper), for programs that spawn many children.
    Started as root, the line drops to limits.uid via setpriv; started by another user, bwrap maps that
    user to limits.uid inside its user namespace.
    """
    if limits.uid is None or limits.gid is None:
        raise ValueError("sandbox_command needs a concrete uid/gid (Sandbox resolves uid=None)")
    t = tools()
    missing = [k for k, v in t.items() if v is None and (k != "setpriv" or os.geteuid() == 0)]
    if missing:
        raise FileNotFoundError(f"sandbox tools not found: {', '.join(missing)}")
    cmd: list[str] = []
    if os.geteuid() == 0:
        cmd += [t["setpriv"], f"--reuid={limits.uid}", f"--regid={limits.gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    cmd += [t["prlimit"], *_rlimit_args(limits), "--"]
    cmd += [t["bwrap"], "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--hostname", "sandbox"] + ([] if reaper else ["--as-pid-1"])
    if os.geteuid() != 0:
        cmd += ["--uid", str(limits.uid), "--gid", str(limits.gid)]
    cmd += system_args()
    # The tmpfs comes before every bind: a venv or a checkout that lives under /tmp on the host (a CI
    # clone, say) is then mounted on top of the sandbox's own /tmp instead of being hidden by it.
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_mb * MiB), "--tmpfs", "/tmp"]
    _, py_dirs = python_runtime()
    for d in py_dirs:
        cmd += ["--ro-bind", d, d]
    for dest in sorted(binds_ro):
        cmd += ["--ro-bind", os.fspath(binds_ro[dest]), dest]
    for dest in sorted(binds_rw or {}):
        cmd += ["--bind", os.fspath(binds_rw[dest]), dest]
    for p in hide:
        if os.path.isdir(p):
            cmd += ["--tmpfs", p, "--remount-ro", p]
    cmd += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", chdir, "--clearenv"]
    for k, v in (BASE_ENV if env is None else env).items():
        cmd += ["--setenv", k, v]
    return cmd + ["--", *argv]


def mounts(binds_ro: Mapping[str, str], limits: Limits, hide: Sequence[str] = HIDDEN_PATHS,
           binds_rw: Mapping[str, str] | None = None) -> list[dict]:
    """What ``sandbox_command`` makes visible, as data for ``Sandbox.info`` / results.json."""
    out = [{"path": "/usr", "source": "/usr", "mode": "ro"}]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            out.append({"path": top, "symlink": os.readlink(top)})
        elif os.path.isdir(top):
            out.append({"path": top, "source": top, "mode": "ro"})
    out.append({"path": "/etc/ld.so.cache", "source": "/etc/ld.so.cache", "mode": "ro"})
    out += [{"path": d, "source": d, "mode": "ro"} for d in python_runtime()[1]]
    out += [{"path": "/proc", "type": "proc (own pid namespace)"}, {"path": "/dev", "type": "minimal dev, ro"},
            {"path": "/tmp", "type": f"tmpfs {limits.tmp_mb} MiB", "mode": "rw"}]
    out += [{"path": dest, "source": os.fspath(binds_ro[dest]), "mode": "ro"} for dest in sorted(binds_ro)]
    out += [{"path": dest, "source": os.fspath(src), "mode": "rw"} for dest, src in sorted((binds_rw or {}).items())]
    out += [{"path": p, "type": "hidden (empty)"} for p in hide if os.path.isdir(p)]
    return out


# --------------------------------------------------------------------------------------------- staging

def stage_package(package_dir: str | os.PathLike, limits: Limits = Limits()) -> Path:
    """Copy the harness and the student's package into a fresh directory the sandbox user can read.

    Layout: ``<stage>/harness/`` (a copy of ``INSIDE_DIR``: the worker, the codec, ``shims/``),
    ``<stage>/submission/<package>/...`` (the folder's own name, e.g. ``cs231n``: the name the package is
    imported under), ``<stage>/home`` (scratch dir of an unsandboxed worker).  Only regular files
    and directories are copied: symlinks, devices, ``__pycache__`` and ``.pyc`` files are skipped (a stale
    .pyc must not replace a source file).
    The caller removes the stage (``shutil.rmtree``) when done.
    """
    src = Path(package_dir)
    if not (src / "__init__.py").is_file():
        raise FileNotFoundError(f"{src} is not a Python package (no __init__.py)")
    if not (src.name.isidentifier() and src.name.isascii()):
        raise ValueError(f"{src}: a package folder must be named like a Python module")
    stage = private_tmpdir("cs231n-sandbox-")
    try:
        os.chmod(stage, 0o755)
        copy_inside(stage / "harness")
        (stage / "home").mkdir(mode=0o755)
        _copy_package(src, stage / "submission" / src.name, limits)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage


def staged_package(stage: Path) -> Path:
    """The package folder of a stage made by ``stage_package`` (``<stage>/submission/<package>``)."""
    (package,) = [p for p in (stage / "submission").iterdir() if p.is_dir()]
    return package


def copy_inside(dest: Path) -> Path:
    """Copy ``INSIDE_DIR`` (what the sandbox may see of the grader) to ``dest``, readable by any uid."""
    shutil.copytree(INSIDE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for dirpath, _, filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return dest


def _copy_package(src: Path, dest_root: Path, limits: Limits) -> None:
    """Copy the regular files and folders of ``src`` to ``dest_root`` (at most ``limits.max_package_mb``)."""
    dest_root.mkdir(parents=True)
    os.chmod(dest_root.parent, 0o755)
    os.chmod(dest_root, 0o755)
    total = 0
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel = Path(dirpath).relative_to(src)
        dirnames[:] = [d for d in dirnames if d != "__pycache__"
                       and stat.S_ISDIR(os.lstat(os.path.join(dirpath, d)).st_mode)]
        for d in dirnames:
            (dest_root / rel / d).mkdir(mode=0o755)
            os.chmod(dest_root / rel / d, 0o755)
        for f in filenames:
            path = os.path.join(dirpath, f)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or f.endswith((".pyc", ".pyo")):
                continue
            total += st.st_size
            if total > limits.max_package_mb * MiB:
                raise ValueError(f"package {src} is larger than {limits.max_package_mb} MiB")
            shutil.copyfile(path, dest_root / rel / f, follow_symlinks=False)
            os.chmod(dest_root / rel / f, 0o644)


@dataclass
class WorkerCommand:
    """How to start one worker: argv, the environment and cwd of the started process, and what it sees."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    sandboxed: bool
    mounts: list[dict] = field(default_factory=list)


def worker_command(stage: Path, *, sandboxed: bool, limits: Limits = Limits(),
                   extra_ro_binds: Mapping[str, str] | None = None) -> WorkerCommand:
    """The command that starts ``worker.py`` for a stage made by ``stage_package``.

    sandboxed=False (``--no-sandbox``): a plain subprocess with the same worker and protocol, a clean
    environment and the stage as its only import path -- but no isolation at all.
    """
    exe, _ = python_runtime()
    wargs = ["--max-output", str(limits.max_output_bytes), "--max-frame", str(limits.max_frame_mb * MiB)]
    if not sandboxed or not mounts_paths():
        env = dict(BASE_ENV, PYTHONPATH=f"{stage / 'submission'}:{stage / 'harness' / 'shims'}", HOME=str(stage / "home"))
        argv = [exe, str(stage / "harness" / "worker.py"), "--root", str(stage / "submission"), *wargs]
        if not sandboxed:
            return WorkerCommand(argv, env, str(stage / "home"), False)
        return WorkerCommand(confine_command(argv, limits=limits), env, str(stage / "home"), True,
                             [{"path": "/", "type": "the host's file system with the sandbox uid's rights"}])
    binds = {SANDBOX_HARNESS: str(stage / "harness"),
             f"{SANDBOX_SUBMISSION}/{staged_package(stage).name}": str(staged_package(stage))}
    for dest, src in (extra_ro_binds or {}).items():
        if _under(dest, "/sandbox") or dest in ("/", "/tmp", "/proc", "/dev"):
            raise ValueError(f"extra bind {dest} would cover a sandbox mount")
        binds[dest] = src
    argv = sandbox_command([exe, f"{SANDBOX_HARNESS}/worker.py", "--root", SANDBOX_SUBMISSION, *wargs],
                           binds_ro=binds, limits=limits)
    # The launcher itself (setpriv/prlimit/bwrap) gets a minimal environment too: the sandbox's pid 1 is a
    # bwrap process whose initial environment would otherwise be readable from inside.
    return WorkerCommand(argv, {"PATH": BASE_ENV["PATH"]}, "/", True, mounts(binds, limits))


# ----------------------------------------------------------------------------------------------- probe

_PROBE_CODE = r"""
import json, os, resource
def lim(name):
    soft, hard = resource.getrlimit(getattr(resource, "RLIMIT_" + name))
    return None if soft == resource.RLIM_INFINITY else soft
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
def writable(p):
    try:
        open(p, "x").close(); os.remove(p); return True
    except OSError:
        return False
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close(); inet = True
except OSError:
    inet = False
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "interfaces": ifaces, "cap_eff": caps[0],
                  "rlimits": {n: lim(n) for n in ["AS", "CPU", "NPROC", "FSIZE", "NOFILE", "CORE"]},
                  "root_writable": writable("/probe"), "tmp_writable": writable("/tmp/probe-%d" % os.getpid()),
                  "env": sorted(os.environ), "sees_root_home": os.path.exists("/root"), "inet_sockets": inet}))
"""

_probe_cache: dict[tuple, dict] = {}


def probe(limits: Limits = Limits(), *, refresh: bool = False) -> dict:
    """Check that the sandbox really works on this host (runs a tiny program in it, ~0.1-0.3 s, cached).

    Returns {"ok": True, "uid", "interfaces", "rlimits", "tools", ...} describing what is in force, or
    {"ok": False, "reason": "..."} saying why not (missing tool, user namespaces disabled, limits or
    uid not applied, network visible, writable root).
    """
    if refresh:
        _probe_cache.clear()
    try:
        wanted = wanted_tier()
    except ValueError as e:
        return {"ok": False, "reason": str(e), "tier": None, "tools": tools(), "euid": os.geteuid()}
    if wanted == SETPRIV:
        return _setpriv_probe(limits)
    result = _bwrap_probe(limits)
    if result["ok"] or wanted == BUBBLEWRAP:
        return result
    fallback = _setpriv_probe(limits)
    return fallback if fallback["ok"] else {**fallback, "reason": f"bubblewrap: {result['reason']}; "
                                            f"setpriv: {fallback['reason']}"}


def _bwrap_probe(limits: Limits) -> dict:
    key = (BUBBLEWRAP, tuple(tools().items()), sys.executable, os.geteuid(), limits)
    if key not in _probe_cache:
        _probe_cache[key] = {**_probe(limits, BUBBLEWRAP), "tier": BUBBLEWRAP}
    return dict(_probe_cache[key])


def _setpriv_probe(limits: Limits) -> dict:
    key = (SETPRIV, tuple(tools().items()), sys.executable, os.geteuid(), limits)
    if key not in _probe_cache:
        _probe_cache[key] = {**_probe(limits, SETPRIV), "tier": SETPRIV}
    return dict(_probe_cache[key])


def trusted_paths() -> list[str]:
    """Files the sandbox uid must not read in the setpriv tier: the running grader's own package file, the
    reference outputs and the secret's folder (those that exist)."""
    here = HERE.parent                          # the grader package
    root = here.parent
    paths = [here / "__init__.py", root / "reference_outputs"]
    secret_dir = os.environ.get("GRADER_SECRET_DIR")
    paths.append(Path(secret_dir) if secret_dir else Path.home() / ".cache" / "cs231n-grader")
    return [str(p) for p in paths if p.exists()]


_READABLE_CODE = r"""
import json, os, sys
readable = []
for p in sys.argv[1:]:
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            open(p, "rb").close()
        readable.append(p)
    except OSError:
        pass
print(json.dumps(readable))
"""


def _probe(limits: Limits, which: str) -> dict:
    t = tools()
    base = {"tools": t, "euid": os.geteuid()}
    try:
        exe, _ = python_runtime()
        if which == BUBBLEWRAP:
            cmd = sandbox_command([exe, "-I", "-c", _PROBE_CODE], binds_ro={}, limits=limits)
        else:
            cmd = confine_command([exe, "-I", "-c", _PROBE_CODE], limits=limits)
    except (FileNotFoundError, ValueError, PermissionError) as e:
        return {**base, "ok": False, "reason": str(e)}
    env = {"PATH": BASE_ENV["PATH"]} if which == BUBBLEWRAP else dict(BASE_ENV)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=max(10.0, limits.start_timeout),
                              env=env, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as e:
        return {**base, "ok": False, "reason": f"could not run the sandbox: {e}"}
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-500:]
        return {**base, "ok": False, "reason": f"sandbox exited with {proc.returncode}: {err}"}
    try:
        seen = json.loads(proc.stdout.decode())
    except ValueError:
        return {**base, "ok": False, "reason": "probe printed no result"}
    problems = []
    if seen["uid"] != limits.uid or seen["gid"] != limits.gid:
        problems.append(f"runs as uid {seen['uid']}, not {limits.uid}")
    if which == SETPRIV:
        return _setpriv_verdict(base, seen, limits, problems)
    if seen["interfaces"] != ["lo"]:
        problems.append(f"network interfaces visible: {seen['interfaces']}")
    if seen["rlimits"]["NPROC"] != limits.nproc or seen["rlimits"]["AS"] != limits.memory_mb * MiB:
        problems.append(f"limits not in force: {seen['rlimits']}")
    if seen["root_writable"] or not seen["tmp_writable"]:
        problems.append("file system not as expected (root writable or /tmp not writable)")
    if int(seen["cap_eff"], 16) != 0:
        problems.append("capabilities not dropped")
    if seen["sees_root_home"] or set(seen["env"]) - set(BASE_ENV) - {"LC_CTYPE", "PWD"}:
        problems.append("host file system or environment visible")
    if problems:
        return {**base, **seen, "ok": False, "reason": "; ".join(problems)}
    return {**base, **seen, "ok": True, "reason": None, "limits": asdict(limits)}


def _setpriv_verdict(base: dict, seen: dict, limits: Limits, problems: list[str]) -> dict:
    """The setpriv tier works when the uid, the limits and the dropped capabilities are in force and the
    sandbox uid can read none of ``trusted_paths()``; the network is recorded, not required."""
    if seen["rlimits"]["NPROC"] != limits.nproc or seen["rlimits"]["AS"] != limits.memory_mb * MiB:
        problems.append(f"limits not in force: {seen['rlimits']}")
    if int(seen["cap_eff"], 16) != 0:
        problems.append("capabilities not dropped")
    if seen["root_writable"]:
        problems.append("the root folder is writable")
    exe, _ = python_runtime()
    paths = trusted_paths()
    hidden = [p for p in HIDDEN_PATHS if os.path.isdir(p)]
    try:
        proc = subprocess.run(confine_command([exe, "-I", "-c", _READABLE_CODE, *paths, *hidden], limits=limits),
                              capture_output=True, timeout=max(10.0, limits.start_timeout), env=dict(BASE_ENV),
                              cwd="/")
        readable = json.loads(proc.stdout.decode() or "null")
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        readable = None
        problems.append(f"could not check what the sandbox uid can read: {e}")
    if readable is None and not problems:
        problems.append("could not check what the sandbox uid can read")
    # what bubblewrap hides (the system's data sets: the full test set holds the hidden split) but this
    # tier cannot: recorded in the results, not refused (the hidden split is public data)
    exposed = [p for p in readable or [] if p in hidden]
    readable = [p for p in readable or [] if p not in hidden]
    if readable:
        problems.append(f"the sandbox uid can read the grader's files: {', '.join(readable)}")
    no_inet = "" if seen.get("inet_sockets", True) else "; no internet sockets (a seccomp filter refuses them)"
    network = ("none (own network namespace, loopback only)" + no_inet if seen["interfaces"] == ["lo"] else
               "no internet sockets (a seccomp filter refuses them; the host's interfaces are there, as root may "
               "not make a network namespace)" if no_inet else
               f"host network (interfaces {', '.join(seen['interfaces'])}): the kernel let root make neither a "
               "network namespace nor a seccomp filter")
    if problems:
        return {**base, **seen, "ok": False, "reason": "; ".join(problems), "network": network}
    return {**base, **seen, "ok": True, "reason": None, "limits": asdict(limits), "network": network,
            "checked_unreadable": paths, "readable_data": exposed}
