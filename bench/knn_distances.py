"""kNN distances: assignment 1's ``compute_distances_no_loops`` against the two-loop version, against
scikit-learn's ``pairwise_distances`` and against the one matrix product it needs (its limit), measured side
by side in one run on 500 test x 5,000 training rows of 3,072 float32 numbers (CIFAR-10's size; random
data, the timings do not depend on the values).

The two-loop version is timed on the first ``--loop-rows`` test rows and scaled to 500 (it is linear in the
number of test rows). Each other figure is the best of ``--repeats`` interleaved runs. Goal: no-loops within
1.5x of the matrix product.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/knn_distances.py [--repeats 5] [--loop-rows 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.assignments import load_assignment  # noqa: E402

NUM_TRAIN, NUM_TEST, DIM = 5000, 500, 3072
GOAL = 1.5


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loop-rows", type=int, default=5, help="test rows the two-loop version is timed on")
    args = parser.parse_args()

    from sklearn.metrics import pairwise_distances

    ref = load_assignment("assignment1").reference()
    rng = np.random.RandomState(0)
    X_train = (rng.rand(NUM_TRAIN, DIM) * 255).astype(np.float32)
    X_test = (rng.rand(NUM_TEST, DIM) * 255).astype(np.float32)
    knn = ref.k_nearest_neighbor.KNearestNeighbor()
    knn.train(X_train, np.zeros(NUM_TRAIN, dtype=np.int64))

    # the values first: every version computes the same matrix
    d0 = knn.compute_distances_no_loops(X_test)
    d_sk = pairwise_distances(X_test, X_train)
    d_loop = knn.compute_distances_two_loops(X_test[:args.loop_rows])
    print(f"{NUM_TEST} x {NUM_TRAIN} distances of {DIM} float32 numbers; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; best of {args.repeats}")
    print(f"  max |no_loops - pairwise_distances| / max distance = {np.abs(d0 - d_sk).max() / d_sk.max():.1e}; "
          f"vs two loops (first {args.loop_rows} rows, float64 sums) {np.abs(d0[:args.loop_rows] - d_loop).max() / d_loop.max():.1e}")

    fns = {"matrix product X_test @ X_train.T": lambda: X_test.dot(X_train.T),
           "compute_distances_no_loops": lambda: knn.compute_distances_no_loops(X_test),
           "sklearn pairwise_distances": lambda: pairwise_distances(X_test, X_train)}
    timings = {k: float("inf") for k in fns}
    for _ in range(args.repeats):            # interleaved: a slow moment of the machine hits every version
        for k, fn in fns.items():
            timings[k] = min(timings[k], best_of(fn, 1))
    loop = best_of(lambda: knn.compute_distances_two_loops(X_test[:args.loop_rows]), 1) * NUM_TEST / args.loop_rows
    timings["compute_distances_two_loops (scaled)"] = loop

    limit = timings["matrix product X_test @ X_train.T"]
    print(f"  {'version':40s} {'seconds':>10s} {'x matrix product':>17s}")
    for k, t in timings.items():
        print(f"  {k:40s} {t:10.4f} {t / limit:17.2f}")
    ratio = timings["compute_distances_no_loops"] / limit
    print(f"no-loops / matrix product = {ratio:.2f} (goal <= {GOAL}): {'met' if ratio <= GOAL else 'NOT met'}; "
          f"two loops / no-loops = {loop / timings['compute_distances_no_loops']:.0f}; "
          f"pairwise_distances / no-loops = {timings['sklearn pairwise_distances'] / timings['compute_distances_no_loops']:.2f}")


if __name__ == "__main__":
    main()
