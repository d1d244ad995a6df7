"""The isolation tiers of grader/sandbox/launch.py: which one is chosen, what the setpriv tier's command line
holds, and that it refuses to run where the sandbox uid could read the grader's files (here: the checkout,
readable by everyone, which is what the Gradescope export's root-only source folder prevents)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.sandbox import launch, seccomp
from grader.sandbox.launch import Limits


@pytest.fixture
def isolation(monkeypatch):
    def use(value):
        if value is None:
            monkeypatch.delenv(launch.ISOLATION_ENV, raising=False)
        else:
            monkeypatch.setenv(launch.ISOLATION_ENV, value)
    return use


def test_bubblewrap_is_the_default_and_a_bad_value_refuses(isolation):
    isolation(None)
    assert launch.wanted_tier() == launch.BUBBLEWRAP
    isolation("chroot")
    with pytest.raises(ValueError, match="bubblewrap, auto or setpriv"):
        launch.wanted_tier()
    probe = launch.probe()
    assert probe["ok"] is False and launch.ISOLATION_ENV in probe["reason"]


def test_auto_prefers_bubblewrap_where_it_works(isolation):
    isolation("auto")
    if not launch._bwrap_probe(Limits())["ok"]:
        pytest.skip("bubblewrap does not work here")
    assert launch.tier() == launch.BUBBLEWRAP and launch.mounts_paths()


@pytest.mark.skipif(os.geteuid() != 0, reason="the setpriv tier needs root")
def test_setpriv_command_line_drops_everything_then_limits():
    cmd = launch.confine_command(["/bin/true"], limits=Limits(uid=200_123, gid=200_123))
    setpriv = next(i for i, a in enumerate(cmd) if a.endswith("setpriv"))
    prlimit = next(i for i, a in enumerate(cmd) if a.endswith("prlimit"))
    assert setpriv < prlimit and cmd[-1] == "/bin/true"
    for flag in ("--reuid=200123", "--regid=200123", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                 "--no-new-privs", "--pdeathsig=KILL"):
        assert flag in cmd[setpriv:prlimit]
    assert f"--nproc={Limits().nproc}" in cmd[prlimit:] and "--core=0" in cmd[prlimit:]
    if seccomp.supported():          # the filter's launcher runs last, then execs the program
        assert cmd[-5:-2] == [launch.python_runtime()[0], "-I", "-c"] and cmd[-2] == seccomp.program()
    if launch.can_unshare_net():
        assert cmd[1:3] == ["--net", "--"] and cmd[0].endswith("unshare")


@pytest.mark.skipif(os.geteuid() != 0, reason="the setpriv tier needs root")
def test_setpriv_refuses_where_the_sandbox_uid_reads_the_grader(isolation):
    isolation("setpriv")
    readable = [p for p in launch.trusted_paths() if os.stat(p).st_mode & 0o004]
    if not readable:
        pytest.skip("the grader's files are not world-readable here")
    probe = launch.probe(refresh=True)
    assert probe["ok"] is False and probe["tier"] == launch.SETPRIV
    assert "can read the grader's files" in probe["reason"]


SOCKETS = """
import socket
for name in ("AF_UNIX", "AF_INET", "AF_INET6"):
    try:
        socket.socket(getattr(socket, name), socket.SOCK_STREAM).close()
        print(name, "allowed")
    except OSError as exc:
        print(name, "refused", exc.errno)
"""


@pytest.mark.skipif(not seccomp.supported(), reason="the seccomp filter does not know this architecture")
def test_the_seccomp_filter_refuses_internet_sockets_only():
    proc = subprocess.run(seccomp.wrap(sys.executable, [sys.executable, "-c", SOCKETS + "import numpy"]),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["AF_UNIX allowed", "AF_INET refused 13", "AF_INET6 refused 13"]


@pytest.mark.skipif(os.geteuid() != 0 or not seccomp.supported(), reason="the setpriv tier needs root")
def test_setpriv_tier_has_no_internet_even_without_a_network_namespace(monkeypatch):
    monkeypatch.setitem(launch._netns_cache, "ok", False)        # as in a container without CAP_SYS_ADMIN
    cmd = launch.confine_command([sys.executable, "-I", "-c", SOCKETS], limits=Limits(uid=200_124, gid=200_124))
    assert not cmd[0].endswith("unshare")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(launch.BASE_ENV), cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert "AF_INET refused 13" in proc.stdout and "AF_UNIX allowed" in proc.stdout
