"""The Jupyter kernel in the sandbox: its environment, limits and command line, the kernel manager that
starts it, and the notebook client that talks to it with a cap on what it keeps.

The sandbox command line comes from ``grader.sandbox.launch.sandbox_command`` (the one place that builds
bwrap/setpriv/prlimit lines); this module only says what to mount where (the ``SANDBOX_*`` paths, the
kernel's view). Starting and stopping a run is ``grader.notebooks.run``'s.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from grader import caps
from grader.notebooks.outputs import output_bytes
from grader.sandbox import launch
from grader.sandbox.launch import SANDBOX_SHIMS, SANDBOX_SUBMISSION

#: Where things appear inside the sandbox (the kernel's view). The package is where the worker has it too
#: (``SANDBOX_SUBMISSION``: holds the package folder, e.g. cs231n/, read-only, on the import path), and so are
#: the grader's shims
#: (``SANDBOX_SHIMS``: trusted compatibility modules such as ``past.builtins``).
SANDBOX_WORKDIR = "/sandbox/work"                   # the kernel's cwd, read-write; <package> -> the package
SANDBOX_DATA = "/sandbox/data"                      # the data set, read-only; ``$CS231N_DATA_DIR``
#: The instructor's datasets folder (``grade --datasets``), read-only; its ``cifar-10-batches-py/`` is also
#: mounted at ``<package>/datasets/cifar-10-batches-py`` of the package, where every official notebook and
#: ``get_CIFAR10_data`` of 2016-2025 look for it.
SANDBOX_DATASETS = "/sandbox/datasets"
CIFAR10_DIRNAME = "cifar-10-batches-py"


def package_paths(package: str) -> tuple[str, str]:
    """Where the files of the student's package ``package`` (its folder's name) are, as a sandboxed kernel's
    tracebacks name them."""
    return f"{SANDBOX_SUBMISSION}/{package}/", f"{SANDBOX_WORKDIR}/{package}/"



def kernel_env(extra: dict[str, str] | None, *, sandboxed: bool, package_parent: str, data_dir: str, shims: str,
               mplconfig: str) -> dict[str, str]:
    """The kernel's whole environment (nothing is inherited from the grader's process). ``package_parent``,
    ``data_dir`` and ``shims`` are the host folders an unsandboxed kernel uses (a sandboxed one sees the
    ``SANDBOX_*`` paths); ``mplconfig``: its ``MPLCONFIGDIR``; ``extra``: more variables, set last."""
    env = dict(launch.BASE_ENV)
    env.update({
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{SANDBOX_SUBMISSION}:{SANDBOX_SHIMS}" if sandboxed else f"{package_parent}:{shims}",
        "CS231N_DATA_DIR": SANDBOX_DATA if sandboxed else data_dir,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": mplconfig,
    })
    env.update(extra or {})
    return env


def kernel_limits(total_timeout: float, base: Any = None):
    """The launch module's limits for a kernel: CPU time to match the notebook's total time, a bigger /tmp,
    and ``uid=None``: each kernel runs as a uid of its own from ``launch.UID_POOL``."""
    base = base or launch.Limits()
    return dataclasses.replace(base, cpu_seconds=max(base.cpu_seconds, int(total_timeout) + 60),
                               tmp_mb=max(base.tmp_mb, 256), uid=None, gid=None)


def kernel_command(argv: list[str], *, package_dir: Path, data_dir: Path, shims: Path, workdir: Path,
                   socket_dir: Path, limits: Any, env: dict[str, str], datasets_dir: Path | None = None) -> list[str]:
    """The full command line that starts ``argv`` (the kernel) inside the sandbox.

    Built by ``grader.sandbox.launch.sandbox_command`` (system, venv, a private /tmp, no network, an
    unprivileged uid, rlimits) with these mounts: ``package_dir`` read-only at ``SANDBOX_SUBMISSION/<its name>``,
    ``data_dir`` and the shims read-only, and read-write: ``workdir`` at ``SANDBOX_WORKDIR`` (the kernel's cwd) and
    ``socket_dir`` (ZeroMQ IPC sockets and the connection file) at its own path, so that the socket paths
    in the connection file are the same on both sides.
    """
    binds_ro = {f"{SANDBOX_SUBMISSION}/{Path(package_dir).name}": str(package_dir), SANDBOX_DATA: str(data_dir),
                SANDBOX_SHIMS: str(shims)}
    if datasets_dir is not None:
        binds_ro[SANDBOX_DATASETS] = str(datasets_dir)
        if (Path(datasets_dir) / CIFAR10_DIRNAME).is_dir():   # mount point made by the stage (run._make_stage)
            binds_ro[f"{SANDBOX_SUBMISSION}/{Path(package_dir).name}/datasets/{CIFAR10_DIRNAME}"] = str(Path(datasets_dir) / CIFAR10_DIRNAME)
    binds_rw = {SANDBOX_WORKDIR: str(workdir), str(socket_dir): str(socket_dir)}
    return launch.sandbox_command(argv, binds_ro=binds_ro, binds_rw=binds_rw, limits=limits, env=env,
                                  chdir=SANDBOX_WORKDIR)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped in the sandbox.

    The connection file (it holds the HMAC key) is owned by the kernel's uid with mode 0600, in a folder only
    that uid (and root, the grader) can enter.
    """

    def __init__(self, *, wrap, owner: int | None = None, **kwargs):
        super().__init__(transport="ipc", **kwargs)
        self._wrap = wrap
        self._owner = owner

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self._owner is not None:
            os.chown(self.connection_file, self._owner, self._owner)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
                "--HistoryManager.enabled=False", "--IPKernelApp.log_level=CRITICAL"]
        return self._wrap(argv)


class CappedClient(NotebookClient):
    """A NotebookClient that stops keeping a cell's outputs once they pass ``caps.NB_LIVE_OUTPUT_BYTES``."""

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self.kept_bytes: dict[int, int] = {}
        self.dropped: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):
        if self.kept_bytes.get(cell_index, 0) > caps.NB_LIVE_OUTPUT_BYTES:
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + 1
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self.kept_bytes[cell_index] = self.kept_bytes.get(cell_index, 0) + output_bytes(out)
        return out

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self.kept_bytes[cell_index] = 0


def note_dropped(client: CappedClient, cell, index: int) -> None:
    """Say in the cell's outputs how many of them ``client`` dropped (if any)."""
    if client.dropped.get(index):
        cell.outputs.append(nbformat.v4.new_output(
            "stream", name="stderr", text=f"[grader: {client.dropped[index]} further outputs of this cell dropped]\n"))


async def kernel_exit_code(client) -> int | str:
    """The exit status of the client's kernel process (waited for a second), or "unknown"."""
    provisioner = getattr(client.km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None:
        return "unknown"
    for _ in range(20):
        code = process.poll()
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    return "unknown"


def kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL the kernel's process group (setpriv/prlimit exec into bwrap; bwrap's children die with it)
    and reap it, if it is still there."""
    if process is None:
        return
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
