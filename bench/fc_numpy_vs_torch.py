"""One training epoch of the solutions' FullyConnectedNet (NumPy, driven by the Solver) against the
same model and update rule in PyTorch (CPU), measured side by side in one run, one BLAS thread.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/fc_numpy_vs_torch.py [--repeats 3] [--rule adam]
                                                                        [--flush-denormal]

Data: Fashion-MNIST's 59000 training images (flattened, float32) if installed, else random data
of that size. Models 784-100-10 and 784-300-100-10, batches of 100 and 200, float32 throughout.
Each measurement is the time of the epoch's training steps (59000 // batch minibatch updates:
sampling, forward, backward, update), interleaved NumPy / PyTorch. Both sides run on one thread,
so the CPU time of the process is the measure (it is not inflated when other processes share the
cores); wall time is printed beside it. The median of the repeats is reported with the ratio
numpy / torch of CPU times (below 1.0: NumPy is faster).

PyTorch is an optional dependency of this benchmark only (`pip install torch==2.13.0`).
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
from grader.pkgload import load_package  # noqa: E402

load_package(ROOT / "solutions" / "assignment2" / "cs231n", "_bench_cs231n")
from _bench_cs231n.classifiers.fc_net import FullyConnectedNet  # noqa: E402
from _bench_cs231n.data_utils import get_assignment_data  # noqa: E402
from _bench_cs231n.solver import Solver  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - optional dependency
    sys.exit("PyTorch is needed for this benchmark: .venv/bin/pip install torch==2.13.0")

torch.set_num_threads(1)

NUM_TRAIN = 59000
CONFIGS = [([100], 100), ([100], 200), ([300, 100], 100), ([300, 100], 200)]


def load_data():
    """(data dict for the Solver, name): Fashion-MNIST if installed, else random data."""
    try:
        data = get_assignment_data(dataset="fashion_mnist", flatten=True)
        name = "Fashion-MNIST"
    except FileNotFoundError:
        rng = np.random.RandomState(0)
        data = {"X_train": rng.randn(NUM_TRAIN, 784).astype(np.float32) * 80,
                "y_train": rng.randint(10, size=NUM_TRAIN),
                "X_val": rng.randn(1000, 784).astype(np.float32) * 80,
                "y_val": rng.randint(10, size=1000)}
        name = "random data"
    return data, name


def blas_name():
    try:
        return np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except (AttributeError, KeyError):
        return "unknown"


def numpy_solver(data, hidden_dims, batch_size, rule, lr):
    np.random.seed(0)
    model = FullyConnectedNet(hidden_dims, input_dim=784, num_classes=10, weight_scale="he",
                              dtype=np.float32)
    solver = Solver(model, data, update_rule=rule, optim_config={"learning_rate": lr},
                    batch_size=batch_size, num_epochs=1, verbose=False)
    return model, solver


def torch_model(np_model):
    """The same network in PyTorch, starting from the NumPy model's weights."""
    layers = []
    n = np_model.num_layers
    for i in range(1, n + 1):
        W, b = np_model.params["W%d" % i], np_model.params["b%d" % i]
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < n:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_optimizer(net, rule, lr):
    if rule == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    if rule == "sgd_momentum":
        # torch: v = 0.9 v + g, w -= lr v  ==  cs231n: v = 0.9 v - lr g, w += v (constant lr)
        return torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    if rule == "sgd":
        return torch.optim.SGD(net.parameters(), lr=lr)
    raise ValueError(rule)


def torch_step(net, opt, X, y, batch_size):
    idx = torch.randint(X.shape[0], (batch_size,))
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(net(X[idx]), y[idx])
    loss.backward()
    opt.step()
    return loss


def check_parity(data, hidden_dims, rule, lr):
    """Same weights, same batch, one update: the losses and new weights must agree."""
    model, solver = numpy_solver(data, hidden_dims, 64, rule, lr)
    net = torch_model(model)
    opt = torch_optimizer(net, rule, lr)
    Xb, yb = data["X_train"][:64], data["y_train"][:64]
    loss, grads = model.loss(Xb, yb)
    for p in model.params:
        model.params[p], solver.optim_configs[p] = solver.update_rule(
            model.params[p], grads[p], solver.optim_configs[p])
    opt.zero_grad()
    tloss = torch.nn.functional.cross_entropy(net(torch.from_numpy(Xb)), torch.from_numpy(yb))
    tloss.backward()
    opt.step()
    w_diff = np.abs(net[0].weight.detach().numpy().T - model.params["W1"]).max()
    return abs(loss - tloss.item()), w_diff


def timed(run, iterations):
    """(CPU seconds of this process, wall seconds) of `iterations` calls of run()."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(iterations):
        run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rule", default="adam", choices=["adam", "sgd_momentum", "sgd"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--flush-denormal", action="store_true",
                        help="set the CPU's flush-to-zero / denormals-are-zero mode for this "
                             "thread (torch.set_flush_denormal), which applies to both sides")
    args = parser.parse_args()
    if args.flush_denormal and not torch.set_flush_denormal(True):
        sys.exit("this CPU does not support flushing denormals")

    data, data_name = load_data()
    X_t = torch.from_numpy(data["X_train"])
    y_t = torch.from_numpy(np.asarray(data["y_train"], dtype=np.int64))
    print("numpy %s (BLAS: %s), torch %s; threads: BLAS 1, torch %d; data: %s %s; rule %s, lr %g;"
          " flush denormals: %s"
          % (np.__version__, blas_name(), torch.__version__, torch.get_num_threads(), data_name,
             data["X_train"].shape, args.rule, args.lr, "yes" if args.flush_denormal else "no"))
    loss_diff, w_diff = check_parity(data, [100], args.rule, args.lr)
    print("parity (one step, same batch): |loss diff| %.2e, max |W1 diff| %.2e" % (loss_diff, w_diff))
    print("seconds per epoch: CPU time (wall time), median of %d interleaved runs; ratio on CPU time"
          % args.repeats)
    print("%-16s %6s %17s %17s %9s" % ("model", "batch", "numpy", "torch", "np/torch"))

    ratios = []
    for hidden_dims, batch_size in CONFIGS:
        iterations = data["X_train"].shape[0] // batch_size
        model, solver = numpy_solver(data, hidden_dims, batch_size, args.rule, args.lr)
        net = torch_model(model)
        opt = torch_optimizer(net, args.rule, args.lr)
        np_step = solver._step
        torch_step_ = lambda: torch_step(net, opt, X_t, y_t, batch_size)  # noqa: E731
        timed(np_step, 20)  # warm-up
        timed(torch_step_, 20)
        np_times, torch_times = [], []
        for _ in range(args.repeats):
            np_times.append(timed(np_step, iterations))
            torch_times.append(timed(torch_step_, iterations))
        cpu_np = statistics.median(t[0] for t in np_times)
        cpu_torch = statistics.median(t[0] for t in torch_times)
        wall_np = statistics.median(t[1] for t in np_times)
        wall_torch = statistics.median(t[1] for t in torch_times)
        ratios.append(cpu_np / cpu_torch)
        name = "-".join(str(d) for d in [784] + hidden_dims + [10])
        print("%-16s %6d %8.3f (%6.3f) %8.3f (%6.3f) %9.2f"
              % (name, batch_size, cpu_np, wall_np, cpu_torch, wall_torch, cpu_np / cpu_torch))
        assert all(v.dtype == np.float32 for v in model.params.values()), "params left float32"
    print("geometric mean numpy/torch: %.2f" % float(np.exp(np.mean(np.log(ratios)))))


if __name__ == "__main__":
    main()
