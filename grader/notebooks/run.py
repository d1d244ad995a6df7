"""Running one notebook: ``run_notebook``, each time in a fresh stage, its kernel in the sandbox.

Trusted side (the grader)                       Sandbox (bwrap, a uid of its own, no network)
-------------------------                       ---------------------------------------------
nbclient drives the notebook cell by cell  <--> ipykernel (``python -m ipykernel_launcher -f kernel.json``)
over ZeroMQ's IPC transport: the sockets            sees /usr and the venv (read-only), the student's
are files in a private folder, bind-mounted         package as ``cs231n`` (read-only, on the import path
read-write at the same path inside, so the          and linked from its cwd), the data set (read-only, at
connection file names the same paths on             ``$CS231N_DATA_DIR``; the hidden test split cut off),
both sides.                                         the grader's shims (read-only), its cwd (read-write),
                                                    a private size-limited /tmp.

Each run gets a fresh folder (a *stage*, ``_Stage``: package copy, cwd, IPC folder) under the system temp
folder, owned by the kernel's uid where needed and removed afterwards; what the kernel writes there is
capped in total (``_DiskWatch``) and nothing it creates is ever followed (only regular files are copied
back). The kernel process group is killed at the end whatever happened. What the kernel sees and how it
starts is ``grader.notebooks.kernel``'s.
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import zmq
import zmq.asyncio
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from grader import caps
from grader.notebooks.caches import matplotlib_cache, public_data_dir
from grader.notebooks.kernel import (CIFAR10_DIRNAME, SANDBOX_SUBMISSION, CappedClient, package_paths,
                                     SandboxedKernelManager, kernel_command, kernel_env, kernel_exit_code,
                                     kernel_limits, kill_group, note_dropped)
from grader.notebooks.outputs import student_traceback, write_artifact
from grader.notebooks.read import (InvalidNotebook, extract_inline_answers, find_shell_escapes, heading_above,
                                   load_notebook)
from grader.notebooks.result import NOT_GRADABLE_CIFAR, NotebookInfraError, NotebookResult
from grader.sandbox import launch
from grader.sandbox.processes import acquire_uid, kill_uid

KERNEL_START_ATTEMPTS = 3           # a kernel that cannot start is tried again (nothing of the notebook ran)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SlowCode:
    """What the code questions learnt: ``names`` of the student's functions, methods and modules that did not
    finish in time there. A cell whose source uses one of them gets ``cell_timeout`` seconds instead of the
    notebook's own limit, so code known to hang costs seconds, not the full cell limit, in every notebook."""

    names: frozenset[str]
    cell_timeout: float

    def used_by(self, source: str) -> list[str]:
        return sorted(self.names.intersection(_NAME.findall(source)))


# ----------------------------------------------------------------------------------------------------------
# The folders a kernel gets
# ----------------------------------------------------------------------------------------------------------

@dataclass
class _Stage:
    """Everything one kernel run needs on the host, in one fresh folder under the system temp folder (so
    the kernel's uid can reach it whatever the caller's folders' permissions):

    - ``package``: a copy of the package (``launch.stage_package``), mounted read-only;
    - ``shims``: the stage's copy of the sandbox's shims (``grader/sandbox/inside/shims``), mounted read-only;
    - ``work``: the kernel's cwd (owned by the kernel's uid), with a link named after the package to it;
    - ``ipc``: the connection file and the IPC sockets (owned by the kernel's uid, mode 0700), and
      ``ipc/matplotlib``, the kernel's ``MPLCONFIGDIR`` (a copy of ``matplotlib_cache()``);
    - ``stderr``: the kernel process's stderr (bwrap's own errors land there), for NotebookInfraError.
    """

    root: Path
    package: Path
    shims: Path
    work: Path
    ipc: Path
    stderr: Path


def _make_stage(package_dir: Path, sandboxed: bool, owner: int | None, datasets_dir: Path | None = None) -> _Stage:
    """A fresh stage; ``owner``: the kernel's uid when the grader runs as root (None: leave ownership);
    ``datasets_dir``: the instructor's datasets folder, whose ``cifar-10-batches-py/`` appears as the package's
    ``datasets/cifar-10-batches-py`` (a mount point here, bound read-only by ``kernel_command``; a link when
    not sandboxed)."""
    root = launch.stage_package(package_dir)
    stage = _Stage(root, launch.staged_package(root), root / "harness" / "shims", root / "work", root / "ipc",
                   root / "kernel-stderr.log")
    cifar = Path(datasets_dir) / CIFAR10_DIRNAME if datasets_dir is not None else None
    if cifar is not None and cifar.is_dir():
        target = stage.package / "datasets" / CIFAR10_DIRNAME
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(mode=0o755, exist_ok=True)
        if sandboxed:
            target.mkdir(mode=0o755)
        else:
            target.symlink_to(cifar.resolve())
    for folder in (stage.work, stage.ipc):
        folder.mkdir(mode=0o700)
        if owner is not None:
            os.chown(folder, owner, owner)
    name = stage.package.name
    (stage.work / name).symlink_to(f"{SANDBOX_SUBMISSION}/{name}" if sandboxed else str(stage.package))
    _copy_regular(matplotlib_cache(), stage.ipc / "matplotlib", owner)
    return stage


def _copy_regular(src: Path, dest: Path, owner: int | None) -> None:
    """Copy the regular files and folders of ``src`` into ``dest`` (links, fifos, devices are skipped:
    the trusted side never follows what the kernel created)."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        dirs[:] = [d for d in dirs if stat.S_ISDIR(os.lstat(os.path.join(root, d)).st_mode)]
        target = dest / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            path = os.path.join(root, name)
            if not stat.S_ISREG(os.lstat(path).st_mode) or (target / name).is_symlink():
                continue
            shutil.copyfile(path, target / name, follow_symlinks=False)
            if owner is not None:
                os.chown(target / name, owner, owner)
        if owner is not None:
            os.chown(target, owner, owner)


class _DiskWatch:
    """Bounds what the kernel writes to the host folders bind-mounted read-write (its cwd, the IPC folder).

    RLIMIT_FSIZE caps each file; this caps their sum (``caps.NB_WORK_BYTES``) and their number
    (``caps.NB_WORK_FILES``), checked every second while the notebook runs (``_watch_disk``). ``over()`` says
    what was exceeded (or None).
    """

    def __init__(self, folders: Iterable[Path]):
        self.folders = list(folders)
        self.max_bytes = caps.NB_WORK_BYTES
        self.max_files = caps.NB_WORK_FILES

    def over(self) -> str | None:
        total = files = 0
        for folder in self.folders:
            for root, dirs, names in os.walk(folder):
                files += len(names) + len(dirs)
                if files > self.max_files:
                    return f"created more than {self.max_files} files in its folder"
                for name in names:
                    try:
                        total += os.lstat(os.path.join(root, name)).st_blocks * 512
                    except OSError:
                        continue
                if total > self.max_bytes:
                    return f"wrote more than {self.max_bytes // 2**20} MiB to its folder"
        return None


async def _watch_disk(client, watch: _DiskWatch, tripped: dict[str, str], period: float = 1.0) -> None:
    while True:
        await asyncio.sleep(period)
        reason = await asyncio.to_thread(watch.over)
        if reason:
            tripped["reason"] = reason
            with contextlib.suppress(Exception):
                await client.km.signal_kernel(signal.SIGKILL)
            return


# ----------------------------------------------------------------------------------------------------------
# Running the cells
# ----------------------------------------------------------------------------------------------------------

async def _execute(nb, client: CappedClient, result: NotebookResult, *, cell_timeout: float,
                   total_timeout: float, started: float, popen_kwargs: dict[str, Any], watch: _DiskWatch,
                   processes: list, package_paths: tuple[str, ...], slow: SlowCode | None = None) -> None:
    """Run the code cells of ``nb`` one by one; fill in ``result`` (status, cell, message, cells_run).

    ``popen_kwargs``: keyword arguments for starting the kernel process (env, cwd, stderr); the started process
    is appended to ``processes`` (the caller makes sure it is gone).
    """
    deadline = started + total_timeout
    current: dict[str, float] = {"limit": cell_timeout}
    client.timeout_func = lambda _cell: current["limit"]
    client.startup_timeout = max(5, int(min(60.0, total_timeout)))
    tripped: dict[str, str] = {}
    try:
        # cleanup_kc: nbclient only stops kernels it created itself; this one must be killed as well.
        async with client.async_setup_kernel(stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cleanup_kc=True,
                                             **popen_kwargs):
            processes.append(client.km.provisioner.process)
            watcher = asyncio.ensure_future(_watch_disk(client, watch, tripped))
            try:
                await _run_cells(nb, client, result, cell_timeout, total_timeout, deadline, current, tripped,
                                 package_paths, slow)
            finally:
                watcher.cancel()
    except (RuntimeError, TimeoutError, zmq.ZMQError) as e:
        if result.cells_run == 0 and result.status == "ok":
            raise NotebookInfraError(f"the kernel did not start in the sandbox: {e}") from e
        raise


async def _run_cells(nb, client, result, cell_timeout, total_timeout, deadline, current, tripped,
                     package_paths, slow: SlowCode | None) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            _fail(result, nb, index, "timeout",
                  f"the notebook ran out of its total time ({total_timeout:.0f} s) before this cell")
            return
        known_slow = slow.used_by(cell.source) if slow is not None else []
        limit = min(cell_timeout, slow.cell_timeout) if known_slow else cell_timeout
        current["limit"] = max(0.1, min(limit, remaining))
        whole = current["limit"] < limit
        try:
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellTimeoutError:
            if whole:
                what = f"the notebook's total time ({total_timeout:.0f} s)"
            elif known_slow:
                what = (f"the {limit:g} s given to a cell that calls code which did not finish in time in the "
                        f"code questions either ({', '.join(known_slow)})")
            else:
                what = f"the time limit of one cell ({cell_timeout:.0f} s)"
            _fail(result, nb, index, "timeout", f"this cell exceeded {what} and was stopped")
        except DeadKernelError:
            if tripped.get("reason"):
                _fail(result, nb, index, "error", f"the kernel was stopped: this cell {tripped['reason']}")
            else:
                code = await kernel_exit_code(client)
                _fail(result, nb, index, "error", f"the kernel died while running this cell (exit status {code}); "
                                                  "for example os._exit(), a crash, or the memory limit")
        except CellExecutionError:
            error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
            message = ("the cell raised an error" if error is None else
                       student_traceback(error.get("ename", "Error"), error.get("evalue", ""),
                                         error.get("traceback", []), package_paths))
            _fail(result, nb, index, "error", message)
        else:
            result.cells_run += 1
        note_dropped(client, cell, index)
        if result.status != "ok":
            return


def _fail(result: NotebookResult, nb, index: int, status: str, message: str) -> None:
    result.status = status
    result.cell = index
    result.heading = heading_above(nb, index)
    result.message = message


def _run_staged(nb, result: NotebookResult, *, package_dir: Path, data_dir: Path, workdir: str | Path | None,
                limits: Any, sandboxed: bool, env: dict[str, str] | None, cell_timeout: float,
                total_timeout: float, slow: SlowCode | None = None, datasets_dir: Path | None = None) -> None:
    """One kernel run of ``nb`` in a fresh stage (see ``_Stage``), filling in ``result``."""
    started = time.monotonic()
    uid_lock = None
    if sandboxed and limits.uid is None:
        # a uid of its own (RLIMIT_NPROC counts per uid: another sandbox's fork bomb cannot starve this one)
        uid, uid_lock = acquire_uid()
        limits = dataclasses.replace(limits, uid=uid, gid=uid)
    kernel_uid = limits.uid if sandboxed and os.geteuid() == 0 else None
    # bubblewrap: the kernel sees the SANDBOX_* mounts; setpriv tier (or no sandbox): the host's paths
    mounted = sandboxed and launch.mounts_paths()
    stage = _make_stage(package_dir, mounted, kernel_uid, datasets_dir)
    try:
        if workdir is not None and Path(workdir).is_dir():
            _copy_regular(Path(workdir), stage.work, kernel_uid)
        kenv = kernel_env(env, sandboxed=mounted, package_parent=str(stage.package.parent),
                          data_dir=str(data_dir), shims=str(stage.shims), mplconfig=str(stage.ipc / "matplotlib"))
        if not sandboxed:
            kenv["HOME"] = str(stage.root / "home")
        elif not mounted:
            kenv["HOME"] = str(stage.work)

        def wrap(argv: list[str]) -> list[str]:
            if not sandboxed:
                return argv
            if not mounted:
                return launch.confine_command(argv, limits=limits)
            return kernel_command(argv, package_dir=stage.package, data_dir=data_dir, shims=stage.shims,
                                  workdir=stage.work, socket_dir=stage.ipc, limits=limits, env=kenv,
                                  datasets_dir=datasets_dir)

        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, caps.NB_MESSAGE_BYTES)
        km = SandboxedKernelManager(wrap=wrap, owner=kernel_uid, context=context,
                                    connection_file=str(stage.ipc / "kernel.json"))
        km.ip = str(stage.ipc / "k")
        client = CappedClient(nb, km=km, shutdown_kernel="immediate", allow_errors=False,
                              record_timing=False, iopub_timeout=5, raise_on_iopub_timeout=False)
        with open(stage.stderr, "wb") as stderr:
            popen_kwargs = {"env": {"PATH": kenv["PATH"]} if mounted else kenv,
                             "cwd": "/" if mounted else str(stage.work), "stderr": stderr}
            processes: list[subprocess.Popen] = []
            try:
                asyncio.run(_execute(nb, client, result, cell_timeout=cell_timeout, total_timeout=total_timeout,
                                     started=started, popen_kwargs=popen_kwargs,
                                     watch=_DiskWatch([stage.work, stage.ipc]), processes=processes,
                                     package_paths=package_paths(stage.package.name) if mounted else
                                     (f"{stage.package}/", f"{stage.work}/{stage.package.name}/"), slow=slow))
            except NotebookInfraError as e:
                tail = stage.stderr.read_bytes()[-1500:].decode("utf-8", "replace").strip()
                raise NotebookInfraError(f"{e}{': ' + tail if tail else ''}") from None
            finally:
                atexit.unregister(client._cleanup_kernel)  # nbclient leaves it registered when the start fails
                context.destroy(linger=0)
                for process in processes:
                    kill_group(process)
                if sandboxed and not mounted:
                    kill_uid(limits.uid)       # no pid namespace: what left the group, found by its uid
        (stage.work / stage.package.name).unlink(missing_ok=True)
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
            _copy_regular(stage.work, Path(workdir), None)
    finally:
        shutil.rmtree(stage.root, ignore_errors=True)
        if uid_lock is not None:
            uid_lock.close()


def wants_cifar10(result: NotebookResult) -> bool:
    """True when the notebook stopped because CIFAR-10 is not there: a missing file or folder named for it
    (``load_CIFAR10('cs231n/datasets/cifar-10-batches-py')``, ``get_CIFAR10_data()``)."""
    if result.status != "error" or not result.message:
        return False
    last = result.message.strip().splitlines()[-1]
    return last.startswith(("FileNotFoundError", "OSError", "IOError")) and "cifar" in last.lower()


def run_notebook(path: str | Path | None, *, data_dir: str | Path | None = None, package_dir: str | Path,
                 cell_timeout: float = 120.0, total_timeout: float = 600.0, workdir: str | Path | None = None,
                 artifact: str | Path | None = None, limits: Any = None, name: str | None = None,
                 sandboxed: bool = True, env: dict[str, str] | None = None,
                 slow: SlowCode | None = None, datasets_dir: str | Path | None = None) -> NotebookResult:
    """Execute the notebook at ``path`` with its kernel in the sandbox.

    - path: the submission's ``.ipynb`` (None or a missing file gives status ``missing``)
    - data_dir: folder with the data set files, read-only (default: ``public_data_dir()``, Fashion-MNIST
      without the hidden split)
    - package_dir: the ``cs231n`` folder to import (already assembled: graded files of the student,
      provided files of the grader); a copy is mounted read-only
    - cell_timeout / total_timeout: seconds for one cell / for the whole notebook, kernel start included
    - workdir: a folder standing for the notebook's own folder: its files are copied into the kernel's cwd
      before the run, and the files the notebook saved (``best_model.npz``) are copied back after it
      (regular files only). None: the notebook's files are discarded
    - artifact: where to write the executed notebook (outputs capped, ``outputs.write_artifact``); None
      writes nothing
    - limits: ``grader.sandbox.launch.Limits`` for the kernel (default: ``kernel_limits(total_timeout)``)
    - name: the name reported (default ``path``'s file name)
    - sandboxed: False runs the kernel as a plain subprocess (``--no-sandbox``: no isolation at all)
    - env: extra environment variables for the kernel
    - slow: the student's code known to hang (``SlowCode``): cells that use it get its short time limit
    - datasets_dir: the instructor's datasets folder (``cifar-10-batches-py/`` in its official format), read-only
      at every path the official notebooks use; None: a notebook that stops for want of CIFAR-10 is
      ``not_gradable`` (left out of the maximum, never charged to the student)

    Never raises for anything the notebook does; raises ``NotebookInfraError`` if the kernel cannot start.
    """
    path = Path(path) if path is not None else None
    name = name or (path.name if path is not None else "notebook")
    started = time.monotonic()
    if path is None or not path.is_file():
        return NotebookResult(name=name, status="missing", message=f"{name} is not in the submission")
    try:
        nb = load_notebook(path)
    except InvalidNotebook as e:
        return NotebookResult(name=name, status="invalid", message=str(e))

    result = NotebookResult(
        name=name, status="ok",
        cells_total=sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip()),
        shell_escapes=find_shell_escapes(nb),
        inline_answers=extract_inline_answers(nb, name),
    )
    data_dir = Path(data_dir).resolve() if data_dir is not None else public_data_dir()
    limits = limits or kernel_limits(total_timeout)
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            _run_staged(nb, result, package_dir=Path(package_dir).resolve(), data_dir=data_dir, workdir=workdir,
                        limits=limits, sandboxed=sandboxed, env=env, cell_timeout=cell_timeout,
                        total_timeout=total_timeout, slow=slow,
                        datasets_dir=Path(datasets_dir).resolve() if datasets_dir is not None else None)
            break
        except NotebookInfraError:
            # Nothing of the notebook ran: a transient failure (another sandbox of the same uid holding all
            # of RLIMIT_NPROC, say) is worth one more try.
            if attempt == KERNEL_START_ATTEMPTS:
                raise
            time.sleep(1.0 * attempt)
    result.duration = round(time.monotonic() - started, 3)
    has_cifar = datasets_dir is not None and (Path(datasets_dir) / CIFAR10_DIRNAME).is_dir()
    if not has_cifar and wants_cifar10(result):
        result.status = "not_gradable"
        result.message = (f"{NOT_GRADABLE_CIFAR} (the notebook loads it at cell {result.cell}; the instructor "
                          f"can give the grader a datasets folder holding {CIFAR10_DIRNAME}/)\n{result.message}")
    if artifact is not None:
        result.executed = str(write_artifact(nb, artifact))
    return result
