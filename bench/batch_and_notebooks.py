"""Batch throughput and notebook overhead, measured side by side in one run.

1. Batch throughput: ``grade-batch`` on 20 copies of the solutions' zip with ``--jobs 1`` and with
   ``--jobs 2`` (goal: a speed-up of at least 1.8x on 2 cores). By default the copies hold the package and
   best_model.npz but not the notebooks, so the figure is the throughput of the grade flow itself;
   ``--with-notebooks`` keeps them (minutes per copy once the grade flow runs notebooks).
2. Notebook overhead: the check cells of each solution notebook (every cell before the first one that
   trains with a Solver) executed by ``grader.notebooks.run_notebook`` (kernel in the sandbox) and the same
   cells as one plain ``python`` script in the same layout (cwd beside a ``cs231n`` copy, same data
   folder, MPLBACKEND=Agg, IPython magics dropped). Overhead = notebook time - plain time, the median of
   ``--repeats`` interleaved runs (goal: at most 1.5 s per notebook).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/batch_and_notebooks.py [--copies 20] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader import authoring, batch, notebooks  # noqa: E402
from grader.assignments import load_assignment  # noqa: E402

NOTEBOOKS = ["FullyConnectedNets", "BatchNormalization", "Dropout", "ConvolutionalNetworks"]


def make_copies(out: Path, copies: int, with_notebooks: bool) -> Path:
    zips = authoring.build_assignment_zips(out / "zips", load_assignment("assignment2"))
    subs = out / "submissions"
    subs.mkdir()
    with zipfile.ZipFile(zips["solutions"]) as zin:
        entries = [(i, zin.read(i)) for i in zin.infolist() if with_notebooks or not i.filename.endswith(".ipynb")]
    for k in range(copies):
        with zipfile.ZipFile(subs / f"student{k:02d}.zip", "w", zipfile.ZIP_DEFLATED) as zout:
            for info, data in entries:
                zout.writestr(info, data)
    return subs


def bench_batch(tmp: Path, copies: int, with_notebooks: bool) -> dict[int, float]:
    subs = make_copies(tmp, copies, with_notebooks)
    seconds = {}
    for jobs in (1, 2):
        load = os.getloadavg()[0]
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        summary = batch.grade_batch(subs, assignment="assignment2", out_dir=tmp / f"out{jobs}", jobs=jobs,
                                    progress=False)
        seconds[jobs] = time.monotonic() - started
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
        print(f"--jobs {jobs}: load average before {load:.1f}; CPU of the grader processes {cpu:.1f} s "
              f"({cpu / seconds[jobs]:.2f} cores busy on average)")
        graded = summary.count("graded")
        full = sum(1 for o in summary.outcomes
                   if o.results and o.results["score"] == o.results["extra_data"]["max_score"])
        print(f"--jobs {jobs}: {graded}/{copies} graded ({full} at full marks) in {seconds[jobs]:.1f} s = "
              f"{60 * copies / seconds[jobs]:.1f} submissions/min", flush=True)
        if graded != copies:
            bad = [o for o in summary.outcomes if o.status != "graded"][:3]
            print("   failures:", [(o.submission.name, o.status, o.message[:200]) for o in bad])
    print(f"speed-up --jobs 2 vs --jobs 1: {seconds[1] / seconds[2]:.2f}x (goal >= 1.8x)\n", flush=True)
    return seconds


def check_cells(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` cut before its first cell that trains with a Solver."""
    nb = nbformat.read(str(ROOT / "solutions" / "assignment2" / f"{name}.ipynb"), as_version=4)
    cut = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "Solver(" in c.source), len(nb.cells))
    nb.cells = nb.cells[:cut]
    return nb


def as_script(nb: nbformat.NotebookNode) -> str:
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            lines.append("")
    return "\n".join(lines)


def run_plain(script: Path, folder: Path, data_dir: Path) -> float:
    """``python script`` in ``folder``; like the kernel it starts from a copy of the matplotlib font cache."""
    mpl = folder / "mpl"
    shutil.rmtree(mpl, ignore_errors=True)
    shutil.copytree(notebooks.matplotlib_cache(), mpl)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(mpl), "CS231N_DATA_DIR": str(data_dir)}
    started = time.monotonic()
    subprocess.run([sys.executable, str(script)], cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def bench_notebooks(tmp: Path, repeats: int) -> list[float]:
    data_dir = notebooks.public_data_dir()
    package = ROOT / "solutions" / "assignment2" / "cs231n"
    folder = tmp / "plain"
    shutil.copytree(package, folder / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    overheads = []
    print(f"{'notebook (check cells)':<34}{'cells':>6}{'notebook s':>12}{'python s':>10}{'overhead s':>12}")
    for name in ["(one empty cell)", *NOTEBOOKS]:
        if name in NOTEBOOKS:
            nb = check_cells(name)
        else:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        name = name if name in NOTEBOOKS else "empty"
        path = tmp / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        script = folder / f"{name}.py"
        script.write_text(as_script(nb))
        nb_times, py_times = [], []
        for _ in range(repeats):
            result = notebooks.run_notebook(path, package_dir=package, data_dir=data_dir, cell_timeout=300,
                                            total_timeout=900)
            if result.status != "ok":
                raise SystemExit(f"{name}: {result.status} at cell {result.cell}: {result.message}")
            nb_times.append(result.duration)
            py_times.append(run_plain(script, folder, data_dir))
        t_nb, t_py = statistics.median(nb_times), statistics.median(py_times)
        if name != "empty":
            overheads.append(t_nb - t_py)
        code_cells = sum(c.cell_type == "code" for c in nb.cells)
        print(f"{name:<34}{code_cells:>6}{t_nb:>12.2f}{t_py:>10.2f}{t_nb - t_py:>12.2f}", flush=True)
    print(f"notebook overhead (the four notebooks): median {statistics.median(overheads):.2f} s, max "
          f"{max(overheads):.2f} s per notebook (goal <= 1.5 s)\n", flush=True)
    return overheads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-notebooks", action="store_true", help="keep the notebooks in the copies")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args(argv)
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        if not args.skip_notebooks:
            bench_notebooks(Path(tmp), args.repeats)
        if not args.skip_batch:
            bench_batch(Path(tmp), args.copies, args.with_notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
