"""Hostile student code against the real sandbox: what it cannot see, reach or break.

Every test runs a small hostile ``cs231n/layers.py`` inside the sandbox, checks that the attack failed (and,
where it makes sense, that the same code succeeds outside the sandbox, so the test can fail), then checks
that the same Sandbox object still serves a normal call.  Skipped only when bubblewrap is not installed.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import launch
from grader.sandbox.proxy import (Limits, Sandbox, SandboxCrash, SandboxUnavailable, StaleHandle, StudentError,
                                  StudentTimeout)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")

HOSTILE = r'''
import os, socket, sys, time


def add(a, b):
    return a + b


def whoami():
    fields = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
            "cap_eff": fields["CapEff"].strip(), "cap_bnd": fields["CapBnd"].strip(),
            "no_new_privs": fields["NoNewPrivs"].strip()}


def look(paths):
    """path -> directory listing, first bytes of the file, or None when it cannot be read."""
    out = {}
    for p in paths:
        try:
            out[p] = sorted(os.listdir(p)) if os.path.isdir(p) else open(p, "rb").read(200).decode("latin-1")
        except OSError:
            out[p] = None
    return out


def can_import(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def environment():
    seen = {"environ": dict(os.environ), "proc": {}}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for f in ("environ", "cmdline"):
                try:
                    seen["proc"][pid + "/" + f] = open(f"/proc/{pid}/{f}", "rb").read().decode("latin-1")
                except OSError as e:
                    seen["proc"][pid + "/" + f] = "unreadable " + type(e).__name__
    return seen


def connect(host, port):
    try:
        s = socket.create_connection((host, port), timeout=2)
        data = s.recv(100)
        s.close()
        return "connected " + data.decode()
    except OSError as e:
        return "failed " + type(e).__name__


def interfaces():
    return [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]


def try_write(paths):
    ok = {}
    for p in paths:
        try:
            with open(p, "w") as f:
                f.write("x")
            ok[p] = True
        except OSError:
            ok[p] = False
    return ok


def fill_one_file(path):
    chunk = b"x" * (1 << 20)
    error = "none"
    try:
        with open(path, "wb", buffering=0) as f:
            for _ in range(2048):
                f.write(chunk)
    except OSError as e:
        error = type(e).__name__ + " errno " + str(e.errno)
    size = os.path.getsize(path)
    os.remove(path)
    return size, error


def fill_many_files(directory):
    chunk = b"x" * (1 << 20)
    error = "none"
    os.makedirs(directory, exist_ok=True)
    try:
        for i in range(2048):
            with open(f"{directory}/{i}", "wb", buffering=0) as f:
                f.write(chunk)
    except OSError as e:
        error = type(e).__name__ + " errno " + str(e.errno)
    total = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory))
    return total, error


def fork_bomb(limit):
    children, error = 0, None
    for _ in range(limit):
        try:
            pid = os.fork()
        except OSError as e:
            error = type(e).__name__
            break
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        children += 1
    return children, error


def allocate(gigabytes):
    import numpy as np
    a = np.ones(int(gigabytes * 1e9) // 8)
    return float(a[0])


def spin():
    while True:
        pass


def sleep(s):
    time.sleep(s)


def sys_exit():
    sys.exit(0)


def hard_exit():
    os._exit(0)


def kill_parent():
    os.kill(os.getppid(), 9)


def kill_everything():
    os.kill(-1, 9)


def interrupt():
    raise KeyboardInterrupt


def spoof_protocol(n):
    print("x" * 100000)
    frame = sys.modules["codec"].encode_bytes({"seq": 1, "value": "FAKE", "out": ""})  # a valid frame
    print(frame.decode("latin-1"))
    sys.stdout.buffer.write(frame)
    sys.stdout.flush()
    os.write(1, frame)
    os.write(2, frame)
    os.write(1, b'{"seq": 99, "value": "FAKE"}\n')
    return n * 2


def write_protocol_fd():
    for fd in os.listdir("/proc/self/fd"):
        fd = int(fd)
        if fd > 2:
            try:
                if "pipe" in os.readlink(f"/proc/self/fd/{fd}"):
                    os.write(fd, b"CSB1garbage-garbage-garbage")
            except OSError:
                pass
    return "written"


def spawn_sleeper(tag):
    import subprocess
    subprocess.Popen(["/bin/sleep", tag])
    return True
'''


def write_package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "cs231n"
    for name, text in {"__init__.py": "", **files}.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(textwrap.dedent(text))
    return pkg


SECRET = "CS231N_SANDBOX_TEST_SECRET"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("hostile"), {"layers.py": HOSTILE})


@pytest.fixture(scope="module")
def secret_value():
    return "s3cr3t-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def sb(package, secret_value):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET, secret_value)  # in the grader's environment while the sandbox starts
        box = Sandbox(package, limits=Limits(timeout=20))
        box.start()
    yield box
    box.close()


def still_serves(box: Sandbox) -> None:
    """The same Sandbox object answers a normal call correctly."""
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(box.call("cs231n.layers.add", a, 1.0), a + 1.0)


# ---------------------------------------------------------------------------------------- who and what

def test_runs_as_nobody_without_capabilities(sb):
    me = sb.call("cs231n.layers.whoami")
    assert me["uid"] == me["euid"] == 65534 and me["gid"] == 65534 and me["groups"] == []
    assert int(me["cap_eff"], 16) == 0 and int(me["cap_bnd"], 16) == 0 and me["no_new_privs"] == "1"
    assert os.geteuid() != 65534  # ...while the grader is someone else
    still_serves(sb)


def test_cannot_read_the_host_file_system(sb, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("hidden expected values")
    os.chmod(tmp_path, 0o755)
    os.chmod(secret_file, 0o644)
    from support.paths import ROOT as repo
    paths = [str(secret_file), str(tmp_path), "/root", "/work", str(repo), str(repo / "pyproject.toml"),
             str(repo / "grader/sandbox/proxy.py"), str(repo / "reference_outputs"), str(repo / "solutions"),
             str(repo / "grader/assignments"), "/etc/passwd", "/etc/hostname", "/home", "/var", "/sandbox/harness",
             "/sandbox/submission", "/usr/share/datasets", "/"]
    inside = sb.call("cs231n.layers.look", paths)
    outside = {p: os.path.exists(p) for p in paths}
    assert outside[str(secret_file)] and outside[str(repo / "pyproject.toml")]  # the test can fail
    for p in [str(secret_file), str(tmp_path), "/root", str(repo / "pyproject.toml"), "/etc/passwd",
              str(repo / "grader/sandbox/proxy.py"), str(repo / "reference_outputs"), str(repo / "solutions"),
              str(repo / "grader/assignments"), "/home", "/var"]:
        assert inside[p] is None, p
    venv = launch.python_runtime()[1]
    assert inside[str(repo)] == sorted(Path(v).name for v in venv if v.startswith(str(repo) + "/"))
    # the harness is grader/sandbox/inside/ exactly: no other file of the grader is mounted
    assert inside["/sandbox/harness"] == sorted(p.name for p in launch.INSIDE_DIR.iterdir() if p.name != "__pycache__")
    assert {"worker.py", "codec.py", "shims"} <= set(inside["/sandbox/harness"])
    assert inside["/sandbox/submission"] == ["cs231n"]
    if os.path.isdir("/usr/share/datasets"):
        assert inside["/usr/share/datasets"] == []
    runtime_tops = {Path(v).parts[1] for v in venv}  # the venv and interpreter are mounted where they live
    assert set(inside["/"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin",
                                "tmp", "usr"} | runtime_tops
    assert sb.call("cs231n.layers.can_import", "numpy") and not sb.call("cs231n.layers.can_import", "grader")
    still_serves(sb)


def test_host_environment_is_not_visible(sb, secret_value):
    assert os.environ.get(SECRET) is None  # set only while the sandbox started (module fixture)
    seen = sb.call("cs231n.layers.environment")
    assert set(seen["environ"]) <= set(launch.BASE_ENV) | {"LC_CTYPE", "PWD"}
    assert seen["environ"]["HOME"] == "/tmp"
    assert seen["environ"]["PYTHONPATH"] == "/sandbox/submission:/sandbox/harness/shims"   # the grader's shims last
    assert "PYTHONPATH=/sandbox/submission:/sandbox/harness/shims" in seen["proc"]["1/environ"]  # it could read /proc
    blob = repr(seen)
    assert secret_value not in blob and SECRET not in blob
    still_serves(sb)


# --------------------------------------------------------------------------------------------- network

@pytest.fixture()
def tcp_server():
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(10)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.sendall(b"hello")
            conn.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    yield srv.getsockname()[1]
    stop.set()
    srv.close()


def test_no_network_even_to_the_hosts_loopback(sb, package, tcp_server):
    with socket.create_connection(("127.0.0.1", tcp_server), timeout=5) as s:  # works from the grader
        assert s.recv(5) == b"hello"
    with Sandbox(package, sandboxed=False) as plain:  # and for the same student code without the sandbox
        assert plain.call("cs231n.layers.connect", "127.0.0.1", tcp_server) == "connected hello"
    assert sb.call("cs231n.layers.connect", "127.0.0.1", tcp_server).startswith("failed")
    assert sb.call("cs231n.layers.connect", "1.1.1.1", 53).startswith("failed")
    assert sb.call("cs231n.layers.interfaces") == ["lo"]
    still_serves(sb)


# ------------------------------------------------------------------------------------------ file system

def test_cannot_write_outside_tmp(sb):
    paths = ["/x", "/usr/x", "/etc/x", "/dev/x", "/proc/x", "/sandbox/x", "/sandbox/harness/worker.py",
             "/sandbox/submission/cs231n/layers.py", "/sandbox/submission/cs231n/new.py",
             launch.python_runtime()[1][0] + "/x", "/work/x", "/tmp/ok"]
    wrote = sb.call("cs231n.layers.try_write", paths)
    assert wrote == {p: p == "/tmp/ok" for p in paths}
    still_serves(sb)


def test_disk_fill_is_capped_by_fsize_and_tmpfs_size(package):
    with Sandbox(package, limits=Limits(tmp_mb=24, fsize_mb=8)) as box:
        size, error = box.call("cs231n.layers.fill_one_file", "/tmp/big")
        assert size <= 8 << 20 and "errno 27" in error  # EFBIG: RLIMIT_FSIZE
        total, error = box.call("cs231n.layers.fill_many_files", "/tmp/many")
        assert total <= 24 << 20 and "errno 28" in error  # ENOSPC: the tmpfs is full
        still_serves(box)


# ------------------------------------------------------------------------------------ processes, memory

def _uid_processes(uid: int) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            line = next((l for l in status.splitlines() if l.startswith("Uid:")), "")
            if line.split()[1:2] == [str(uid)]:
                pids.append(int(pid))
    return pids


def test_fork_bomb_is_contained_and_nothing_survives_close(package):
    # uid=None: each Sandbox takes a uid of its own, so the count is exact and a fork bomb in one sandbox
    # does not starve another (RLIMIT_NPROC counts per uid).
    limits = Limits(uid=None, nproc=20)
    box, neighbour = Sandbox(package, limits=limits), Sandbox(package, limits=limits)
    uid = box.limits.uid
    assert uid != neighbour.limits.uid and uid in launch.UID_POOL
    try:
        neighbour.start()
        children, error = box.call("cs231n.layers.fork_bomb", 1000)
        assert children < 20 and error == "BlockingIOError"  # EAGAIN at RLIMIT_NPROC
        assert box.call("cs231n.layers.whoami")["uid"] == uid
        assert 15 <= len(_uid_processes(uid)) <= 20  # they exist, on the host, as that uid only
        still_serves(box)
        assert neighbour.call("cs231n.layers.fork_bomb", 3) == (3, None)  # the neighbour can still fork
    finally:
        box.close()
        neighbour.close()
    deadline = time.monotonic() + 5
    while _uid_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uid_processes(uid) == []  # no orphan, no zombie


def test_no_process_survives_a_timeout_kill(sb):
    tag = f"{time.time() % 1000:.6f}"  # a unique argument to find the child on the host
    assert sb.call("cs231n.layers.spawn_sleeper", tag)

    def alive():
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and Path(f"/proc/{pid}/cmdline").read_bytes() == b"/bin/sleep\0" + tag.encode() + b"\0":
                    return True
            except OSError:
                pass
        return False

    deadline = time.monotonic() + 5  # exec may still be setting up the new argv when Popen returns
    while not alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert alive()
    with pytest.raises(StudentTimeout):
        sb.call("cs231n.layers.sleep", 30, timeout=0.5)
    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive()
    still_serves(sb)


def test_huge_allocation_fails_inside_only(sb):
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.layers.allocate", 20)
    assert e.value.exc_type == "MemoryError"
    still_serves(sb)


# ---------------------------------------------------------------------------------- time and exits

@pytest.mark.parametrize("target,args", [("spin", ()), ("sleep", (60,))])
def test_infinite_loop_and_sleep_hit_the_timeout(sb, target, args):
    handle = sb.call("cs231n.layers.add", np.ones(2), 1.0, keep=True)
    t0 = time.monotonic()
    with pytest.raises(StudentTimeout):
        sb.call(f"cs231n.layers.{target}", *args, timeout=1.0)
    assert time.monotonic() - t0 < 4
    with pytest.raises(StaleHandle):
        sb.fetch(handle)
    still_serves(sb)


def test_cpu_time_limit_kills_the_worker(package):
    with Sandbox(package, limits=Limits(cpu_seconds=1)) as box:
        t0 = time.monotonic()
        with pytest.raises(SandboxCrash, match="SIGKILL"):
            box.call("cs231n.layers.spin", timeout=20)
        assert time.monotonic() - t0 < 10  # RLIMIT_CPU, well before the call's own timeout
        still_serves(box)


def test_sys_exit_and_keyboard_interrupt_are_errors_of_that_call(sb):
    starts = sb.starts
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.layers.sys_exit")
    assert e.value.exc_type == "SystemExit"
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.layers.interrupt")
    assert e.value.exc_type == "KeyboardInterrupt"
    still_serves(sb)
    assert sb.starts == starts  # the worker survived both


@pytest.mark.parametrize("target", ["hard_exit", "write_protocol_fd"])
def test_exit_and_protocol_garbage_are_crashes_then_recovered(sb, target):
    starts = sb.starts
    with pytest.raises(SandboxCrash):
        sb.call(f"cs231n.layers.{target}", timeout=10)
    still_serves(sb)
    assert sb.starts == starts + 1


@pytest.mark.parametrize("target", ["kill_parent", "kill_everything"])
def test_killing_processes_reaches_nothing_outside(sb, target):
    """kill(getppid()) hits the sandbox's own pid 1 and kill(-1) only the sandbox's processes."""
    me, parent = os.getpid(), os.getppid()
    try:
        sb.call(f"cs231n.layers.{target}", timeout=10)
    except (StudentError, SandboxCrash):
        pass
    os.kill(parent, 0)  # the grader's parent and the grader are alive
    assert os.getpid() == me
    still_serves(sb)


def test_printing_protocol_bytes_does_not_corrupt_the_protocol(sb):
    assert sb.call("cs231n.layers.spoof_protocol", 21) == 42
    assert "FAKE" in sb.last_output
    still_serves(sb)


# ----------------------------------------------------------------------------------------- refusal

def test_refuses_to_start_sandboxed_without_a_working_sandbox(package, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # bwrap, setpriv, prlimit cannot be found
    result = launch.probe(refresh=True)
    assert result["ok"] is False and "bwrap" in result["reason"]
    with pytest.raises(SandboxUnavailable):
        Sandbox(package)
    monkeypatch.undo()
    assert launch.probe(refresh=True)["ok"] is True


def test_sandbox_command_runs_any_program_with_the_same_confinement():
    """The command line other parts reuse (the notebook kernel): ro and rw binds, clean env, no network."""
    import subprocess
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="sbcmd-"))
    try:
        os.chmod(root, 0o755)
        (root / "ro").mkdir(mode=0o755)
        (root / "ro" / "data.txt").write_text("visible")
        os.chmod(root / "ro" / "data.txt", 0o644)
        (root / "rw").mkdir()
        os.chmod(root / "rw", 0o777)
        code = textwrap.dedent("""
            import os
            print(open("/data/data.txt").read(), os.getuid(), sorted(os.environ))
            open("/out/written.txt", "w").write("from inside")
            try:
                open("/data/nope.txt", "w")
            except OSError as e:
                print("ro", e.errno)
        """)
        exe = launch.python_runtime()[0]
        cmd = launch.sandbox_command([exe, "-c", code], binds_ro={"/data": str(root / "ro")},
                                     binds_rw={"/out": str(root / "rw")}, env={"PATH": "/usr/bin", "X": "1"})
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin"})
        assert proc.returncode == 0, proc.stderr
        assert "visible 65534 ['LC_CTYPE', 'PATH', 'PWD', 'X']" in proc.stdout and "ro 30" in proc.stdout
        assert (root / "rw" / "written.txt").read_text() == "from inside"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_host_folders_under_tmp_stay_visible_above_the_sandbox_tmp(monkeypatch):
    """A checkout (and its venv) under the host's /tmp, as in a CI clone, must be mounted on top of the
    sandbox's own /tmp tmpfs, not hidden by it: the interpreter's folders and binds under /tmp work."""
    import subprocess
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="sbtmp-", dir="/tmp"))
    try:
        os.chmod(root, 0o755)
        (root / "data.txt").write_text("under tmp")
        os.chmod(root / "data.txt", 0o644)
        real_runtime = launch.python_runtime
        # pretend the interpreter needs a folder under /tmp (as a venv in /tmp/clone/.venv would)
        monkeypatch.setattr(launch, "python_runtime",
                            lambda: (real_runtime()[0], real_runtime()[1] + [str(root)]))
        exe = real_runtime()[0]
        code = f"print(open({str(root / 'data.txt')!r}).read(), open('/tmp/inner/data.txt').read())"
        cmd = launch.sandbox_command([exe, "-c", code], binds_ro={"/tmp/inner": str(root)},
                                     env={"PATH": "/usr/bin"})
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin"})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "under tmp under tmp"
    finally:
        shutil.rmtree(root, ignore_errors=True)
