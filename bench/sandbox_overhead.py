"""What the sandbox costs: start time and per-call round trips, measured side by side in one run.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/sandbox_overhead.py [--repeat 200]

Three ways of calling the same tiny student package are timed:
  direct      the function called in this process (what an unsafe grader would do)
  subprocess  the worker as a plain subprocess (sandboxed=False, --no-sandbox): protocol cost only
  sandbox     the worker in bubblewrap (sandboxed=True): protocol + isolation
Reported: the median of each measurement, and the sandbox/direct and sandbox/subprocess ratios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from grader.pkgload import load_module  # noqa: E402
from grader.sandbox.launch import probe  # noqa: E402
from grader.sandbox.proxy import Sandbox  # noqa: E402

LAYERS = '''
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def echo(x):
    return x
'''


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def measure(pkg: Path, repeat: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    big = rng.standard_normal((100, 3072))
    results: dict[str, dict[str, float]] = {}

    layers = load_module(pkg, "_bench_cs231n", "layers")
    results["direct"] = {
        "start": float("nan"),
        "ping": float("nan"),
        "small call": median_ms(lambda: layers.affine_forward(x, w, b), repeat),
        "(100,3072) echo": median_ms(lambda: layers.echo(big).copy(), repeat),
    }
    modes = [("subprocess", False)] + ([("sandbox", True)] if probe()["ok"] else [])
    for name, sandboxed in modes:
        starts = []
        for _ in range(5):
            sb = Sandbox(pkg, sandboxed=sandboxed)
            t0 = time.perf_counter()
            sb.start()
            starts.append(time.perf_counter() - t0)
            sb.close()
        with Sandbox(pkg, sandboxed=sandboxed) as sb:
            out, _ = sb.call("cs231n.layers.affine_forward", x, w, b)
            assert np.allclose(out, x @ w + b)
            assert np.array_equal(sb.call("cs231n.layers.echo", big), big)
            results[name] = {
                "start": statistics.median(starts) * 1000,
                "ping": median_ms(sb.ping, repeat),
                "small call": median_ms(lambda: sb.call("cs231n.layers.affine_forward", x, w, b), repeat),
                "(100,3072) echo": median_ms(lambda: sb.call("cs231n.layers.echo", big), max(20, repeat // 4)),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    try:
        pkg = tmp / "cs231n"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "layers.py").write_text(textwrap.dedent(LAYERS))
        results = measure(pkg, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = ["start", "ping", "small call", "(100,3072) echo"]
    cols = list(results)
    print(f"median milliseconds ({args.repeat} calls; (100,3072) float64 = 2.4 MB each way)")
    print(f"{'':18}" + "".join(f"{c:>12}" for c in cols)
          + ("   sandbox/direct  sandbox/subprocess" if "sandbox" in results else ""))
    for r in rows:
        line = f"{r:18}" + "".join(f"{results[c][r]:12.3f}" for c in cols)
        if "sandbox" in results:
            s = results["sandbox"][r]
            d = results["direct"][r]
            line += f"   {s / d:14.1f}" if d == d else f"   {'-':>14}"
            line += f"  {s / results['subprocess'][r]:18.2f}"
        print(line)
    if "sandbox" not in results:
        print("bubblewrap sandbox not available here:", probe()["reason"])


if __name__ == "__main__":
    main()
