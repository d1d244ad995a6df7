"""One training epoch of the mlp solutions' ThreeLayerNet (784-300-300-10, leaky ReLUs, NumPy) with Adam
against the same network and update rule in PyTorch (CPU), measured side by side in one run, one thread.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/mlp_numpy_vs_torch.py [--repeats 3]

Data: the 60000 Fashion-MNIST training images (``common.mnist.load_mnist``: rows of 784 float32 in [0, 1]),
or random data of that size when it is not installed. Batches of 100, float32 throughout, Adam with lr 1e-3.
Each measurement is one epoch of training steps (600 mini-batch updates: sampling, forward, backward, update;
the Trainer's per-iteration loss and per-epoch evaluation are left out on both sides), NumPy and PyTorch
interleaved. Both sides run on one thread, so the CPU time of the process is the measure (other processes
on the cores do not inflate it); wall time is printed beside it. The median of the repeats is reported with
the ratio numpy / torch of CPU times (the goal: at most 1.0).

PyTorch is an optional dependency of the benchmarks only (`pip install torch==2.13.0`).
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grader.pkgload import load_module  # noqa: E402

PACKAGE = ROOT / "solutions" / "mlp" / "common"
ThreeLayerNet = load_module(PACKAGE, "_bench_mlp_common", "three_layer_net").ThreeLayerNet
Adam = load_module(PACKAGE, "_bench_mlp_common", "optimizer").Adam
load_mnist = load_module(PACKAGE, "_bench_mlp_common", "mnist").load_mnist

try:
    import torch
except ImportError:  # pragma: no cover - optional dependency
    sys.exit("PyTorch is needed for this benchmark: .venv/bin/pip install torch==2.13.0")

torch.set_num_threads(1)
BATCH = 100
LR = 1e-3


def load_data():
    try:
        (x, t), _ = load_mnist(normalize=True, flatten=True)
        return x, t, "Fashion-MNIST"
    except FileNotFoundError:
        rng = np.random.RandomState(0)
        return rng.rand(60000, 784).astype(np.float32), rng.randint(10, size=60000), "random data"


def numpy_net():
    np.random.seed(0)
    return ThreeLayerNet(784, 300, 300, 10, weight_init_std="he", dtype=np.float32)


def torch_net(net):
    """The same network in PyTorch, starting from the NumPy net's weights."""
    layers = []
    for i in (1, 2, 3):
        W, b = net.params[f"W{i}"], net.params[f"b{i}"]
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < 3:
            layers.append(torch.nn.LeakyReLU(0.01))
    return torch.nn.Sequential(*layers)


def torch_adam(model):
    # common.optimizer.Adam: p -= lr_t m / (sqrt(v) + 1e-7), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); torch's eps
    # is added to the bias-corrected root instead (a difference of the order of 1e-7 in the step).
    return torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-7)


def check_parity(x, t):
    """Same weights, same batch, one update: the losses and the new weights must agree. At the first step
    common's 1e-7 added to sqrt(v) is torch's eps = 1e-7 / sqrt(1 - beta2) added to the bias-corrected root."""
    net = numpy_net()
    model = torch_net(net)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-7 / np.sqrt(1 - 0.999))
    xb, tb = x[:BATCH], t[:BATCH]
    loss = net.loss(xb, tb)
    Adam(lr=LR).update(net.params, net.gradient(xb, tb))
    opt.zero_grad()
    tloss = torch.nn.functional.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(tb))
    tloss.backward()
    opt.step()
    return abs(float(loss) - tloss.item()), float(np.abs(model[0].weight.detach().numpy().T - net.params["W1"]).max())


def timed(run, iterations):
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(iterations):
        run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x, t, name = load_data()
    t = np.asarray(t, dtype=np.int64)
    x_t, t_t = torch.from_numpy(x), torch.from_numpy(t)
    print("numpy %s, torch %s; threads: BLAS 1, torch %d; data: %s %s; Adam lr %g, batch %d, float32"
          % (np.__version__, torch.__version__, torch.get_num_threads(), name, x.shape, LR, BATCH))
    print("parity (one step, same batch): |loss diff| %.2e, max |W1 diff| %.2e" % check_parity(x, t))

    net = numpy_net()
    opt = Adam(lr=LR)
    model = torch_net(net)
    topt = torch_adam(model)

    def np_step():
        batch = np.random.choice(x.shape[0], BATCH)
        opt.update(net.params, net.gradient(x[batch], t[batch]))

    def torch_step():
        idx = torch.randint(x_t.shape[0], (BATCH,))
        topt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x_t[idx]), t_t[idx]).backward()
        topt.step()

    iterations = x.shape[0] // BATCH
    timed(np_step, 20)
    timed(torch_step, 20)
    np_times, torch_times = [], []
    for _ in range(args.repeats):
        np_times.append(timed(np_step, iterations))
        torch_times.append(timed(torch_step, iterations))
    cpu_np, cpu_torch = (statistics.median(r[0] for r in ts) for ts in (np_times, torch_times))
    wall_np, wall_torch = (statistics.median(r[1] for r in ts) for ts in (np_times, torch_times))
    assert all(v.dtype == np.float32 for v in net.params.values()), "the parameters left float32"
    print("seconds per epoch (%d steps): CPU time (wall time), median of %d interleaved runs" % (iterations, args.repeats))
    print("%-18s %17s %17s %9s" % ("model", "numpy", "torch", "np/torch"))
    print("%-18s %8.3f (%6.3f) %8.3f (%6.3f) %9.2f"
          % ("784-300-300-10", cpu_np, wall_np, cpu_torch, wall_torch, cpu_np / cpu_torch))


if __name__ == "__main__":
    main()
