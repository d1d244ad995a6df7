"""Convolution and max pooling: naive NumPy vs fast NumPy (fast_layers.py) vs PyTorch CPU, side by side.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/conv_numpy_vs_torch.py [--repeats 20]

Workload (float32, one thread on every side):
- conv: x (50, 3, 32, 32), w (32, 3, 3, 3), stride 1, pad 1 -> (50, 32, 32, 32); forward + backward
  (dx, dw, db). PyTorch: torch.nn.functional.conv2d, backward by autograd.
- max pool 2x2 stride 2 on the conv output (50, 32, 32, 32) -> (50, 32, 16, 16); forward + backward.
  PyTorch: torch.nn.functional.max_pool2d, backward by autograd.

Every figure is the median of several repeats (after a warm-up). The naive layers are slow: when one
naive forward+backward at full N takes more than --naive-budget seconds they are timed on a smaller N and
scaled linearly to N=50 (the output says so). PyTorch is optional (`pip install torch==2.13.0`); without
it only naive and fast are compared. The goal for the fast conv is at most 3x PyTorch's time.
"""
from __future__ import annotations

import os

# Pin every BLAS / OpenMP pool to one thread *before* NumPy (or torch) is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grader.pkgload import load_module  # noqa: E402

try:
    import torch
    import torch.nn.functional as F_torch
except ImportError:  # optional bench dependency
    torch = None

N, C, H, W = 50, 3, 32, 32
F, HH, WW = 32, 3, 3
CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}
GOAL = 3.0   # fast conv forward+backward at most GOAL x PyTorch


def median_time(fn, repeats, warmup=2):
    """Median wall time of fn() in seconds over ``repeats`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_fwd_bwd(forward, backward, repeats):
    """(forward time, backward time) medians; backward reuses one forward's cache."""
    t_fwd = median_time(forward, repeats)
    cache = forward()[1]
    t_bwd = median_time(lambda: backward(cache), repeats)
    return t_fwd, t_bwd


def naive_n(fwd_bwd_at, budget):
    """The batch size to time the naive layer on: N, or a smaller one if one run exceeds the budget."""
    t0 = time.perf_counter()
    fwd_bwd_at(N)
    once = time.perf_counter() - t0
    if once <= budget:
        return N
    return max(1, int(N * budget / once))


def scaling_note(n):
    """How the naive figures were obtained."""
    return "(timed at full N)" if n == N else "(timed at N=%d, scaled x%.1f)" % (n, N / n)


def fmt_ms(seconds):
    return "%9.2f ms" % (1e3 * seconds)


def print_table(title, rows, torch_total):
    """rows: list of (name, fwd, bwd, note)."""
    print("\n" + title)
    print("  %-14s %12s %12s %12s %10s  %s" % ("", "forward", "backward", "fwd+bwd", "vs torch", ""))
    for name, t_fwd, t_bwd, note in rows:
        total = t_fwd + t_bwd
        ratio = "%9.2fx" % (total / torch_total) if torch_total else "%10s" % "-"
        print("  %-14s %s %s %s %s  %s"
              % (name, fmt_ms(t_fwd), fmt_ms(t_bwd), fmt_ms(total), ratio, note))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats for fast and torch")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed repeats for naive")
    parser.add_argument("--naive-budget", type=float, default=2.0,
                        help="seconds one naive fwd+bwd may take at full N before N is reduced")
    args = parser.parse_args()

    pkg = ROOT / "solutions" / "assignment2" / "cs231n"
    naive = load_module(pkg, "_bench_cs231n", "layers")
    fast = load_module(pkg, "_bench_cs231n", "fast_layers")

    rng = np.random.RandomState(231)
    x = rng.randn(N, C, H, W).astype(np.float32)
    w = rng.randn(F, C, HH, WW).astype(np.float32)
    b = rng.randn(F).astype(np.float32)
    out, conv_cache = fast.conv_forward_fast(x, w, b, CONV_PARAM)
    dout = rng.randn(*out.shape).astype(np.float32)
    pool_in = np.maximum(out, 0)                      # what the pool sees in conv-relu-pool
    pooled, pool_cache = fast.max_pool_forward_fast(pool_in, POOL_PARAM)
    dpool = rng.randn(*pooled.shape).astype(np.float32)

    print("conv / max-pool benchmark: naive NumPy vs fast NumPy vs PyTorch CPU (float32, 1 thread)")
    print("python %s, numpy %s, torch %s, %s" % (
        platform.python_version(), np.__version__, torch.__version__ if torch else "not installed",
        platform.machine()))
    print("conv: x %s, w %s, stride 1, pad 1 -> out %s; pool 2x2/2: %s -> %s; median of %d repeats"
          % ((N, C, H, W), (F, C, HH, WW), out.shape, pool_in.shape, pooled.shape, args.repeats))

    # ----------------------------------------------------------------------------- convolution
    fast_conv = time_fwd_bwd(lambda: fast.conv_forward_fast(x, w, b, CONV_PARAM),
                             lambda cache: fast.conv_backward_fast(dout, cache), args.repeats)

    def naive_conv_at(n):
        cache = naive.conv_forward_naive(x[:n], w, b, CONV_PARAM)[1]
        naive.conv_backward_naive(dout[:n], cache)

    n_conv = naive_n(naive_conv_at, args.naive_budget)
    naive_conv = time_fwd_bwd(lambda: naive.conv_forward_naive(x[:n_conv], w, b, CONV_PARAM),
                              lambda cache: naive.conv_backward_naive(dout[:n_conv], cache),
                              args.naive_repeats)
    naive_conv = tuple(t * N / n_conv for t in naive_conv)
    naive_conv_note = scaling_note(n_conv)

    # ----------------------------------------------------------------------------- pooling
    fast_pool = time_fwd_bwd(lambda: fast.max_pool_forward_fast(pool_in, POOL_PARAM),
                             lambda cache: fast.max_pool_backward_fast(dpool, cache), args.repeats)

    def naive_pool_at(n):
        cache = naive.max_pool_forward_naive(pool_in[:n], POOL_PARAM)[1]
        naive.max_pool_backward_naive(dpool[:n], cache)

    n_pool = naive_n(naive_pool_at, args.naive_budget)
    naive_pool = time_fwd_bwd(lambda: naive.max_pool_forward_naive(pool_in[:n_pool], POOL_PARAM),
                              lambda cache: naive.max_pool_backward_naive(dpool[:n_pool], cache),
                              args.naive_repeats)
    naive_pool = tuple(t * N / n_pool for t in naive_pool)
    naive_pool_note = scaling_note(n_pool)

    # ----------------------------------------------------------------------------- torch
    torch_conv = torch_pool = None
    if torch is not None:
        torch.set_num_threads(1)
        xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        dout_t = torch.from_numpy(dout)
        pool_in_t = torch.from_numpy(pool_in).requires_grad_()
        dpool_t = torch.from_numpy(dpool)

        def torch_conv_fwd():
            return F_torch.conv2d(xt, wt, bt, stride=1, padding=1), None

        def torch_conv_fwd_bwd():
            o = F_torch.conv2d(xt, wt, bt, stride=1, padding=1)
            return torch.autograd.grad(o, (xt, wt, bt), dout_t)

        def torch_pool_fwd():
            return F_torch.max_pool2d(pool_in_t, 2, 2), None

        def torch_pool_fwd_bwd():
            o = F_torch.max_pool2d(pool_in_t, 2, 2)
            return torch.autograd.grad(o, (pool_in_t,), dpool_t)

        t_fwd = median_time(torch_conv_fwd, args.repeats)
        t_all = median_time(torch_conv_fwd_bwd, args.repeats)
        torch_conv = (t_fwd, t_all - t_fwd)
        t_fwd = median_time(torch_pool_fwd, args.repeats)
        t_all = median_time(torch_pool_fwd_bwd, args.repeats)
        torch_pool = (t_fwd, t_all - t_fwd)

        # Sanity: the three implementations compute the same thing.
        dx_t, dw_t, db_t = torch_conv_fwd_bwd()
        dx_f, dw_f, db_f = fast.conv_backward_fast(dout, conv_cache)
        conv_err = max(float(np.abs(out - torch_conv_fwd()[0].detach().numpy()).max()),
                       float(np.abs(dx_f - dx_t.numpy()).max()),
                       float(np.abs(dw_f - dw_t.numpy()).max() / np.abs(dw_f).max()),
                       float(np.abs(db_f - db_t.numpy()).max() / np.abs(db_f).max()))
        (dpi_t,) = torch_pool_fwd_bwd()
        dpi_f = fast.max_pool_backward_fast(dpool, pool_cache)
        pool_err = max(float(np.abs(pooled - torch_pool_fwd()[0].detach().numpy()).max()),
                       float(np.abs(dpi_f - dpi_t.numpy()).max()))

    conv_torch_total = sum(torch_conv) if torch_conv else None
    pool_torch_total = sum(torch_pool) if torch_pool else None
    conv_rows = [("naive", *naive_conv, naive_conv_note), ("fast (numpy)", *fast_conv, "")]
    pool_rows = [("naive", *naive_pool, naive_pool_note), ("fast (numpy)", *fast_pool, "")]
    if torch_conv:
        conv_rows.append(("pytorch", *torch_conv, "(backward = fwd+bwd - fwd)"))
        pool_rows.append(("pytorch", *torch_pool, "(backward = fwd+bwd - fwd)"))
    print_table("convolution 3x3, stride 1, pad 1", conv_rows, conv_torch_total)
    print_table("max pool 2x2, stride 2", pool_rows, pool_torch_total)

    print("\nsummary")
    print("  conv fwd+bwd: fast is %.1fx faster than naive" % (sum(naive_conv) / sum(fast_conv)))
    print("  pool fwd+bwd: fast is %.1fx faster than naive" % (sum(naive_pool) / sum(fast_pool)))
    if torch_conv:
        ratio = sum(fast_conv) / conv_torch_total
        print("  conv fwd+bwd: fast / pytorch = %.2fx (goal <= %.0fx: %s)"
              % (ratio, GOAL, "met" if ratio <= GOAL else "NOT met"))
        print("  pool fwd+bwd: fast / pytorch = %.2fx" % (sum(fast_pool) / pool_torch_total))
        print("  max difference fast vs pytorch (float32): conv %.1e, pool %.1e" % (conv_err, pool_err))
    else:
        print("  pytorch not installed (pip install torch==2.13.0): no pytorch column")


if __name__ == "__main__":
    main()
