"""A small data set in the official CIFAR-10 "python version" format (pickled batches), for the tests."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def world_readable_dir(prefix: str = "cifar-") -> Path:
    """A fresh folder every uid can read (the sandboxed kernels run as uids of their own); the caller removes
    it."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def write_cifar10(root: Path, per_batch: int = 40, test: int = 40, seed: int = 0) -> Path:
    """``root/cifar-10-batches-py/`` with data_batch_1..5, test_batch and batches.meta, readable by every uid;
    -> ``root``."""
    rng = np.random.RandomState(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, mode=0o755)

    def batch(name: str, n: int, label: str) -> None:
        data = {"batch_label": label, "labels": [int(v) for v in rng.randint(0, 10, n)],
                "data": rng.randint(0, 256, (n, 3072)).astype(np.uint8),
                "filenames": [f"img_{i}.png" for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(data, f, protocol=2)

    for b in range(1, 6):
        batch(f"data_batch_{b}", per_batch, f"training batch {b} of 5")
    batch("test_batch", test, "testing batch 1 of 1")
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": LABEL_NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072}, f, protocol=2)
    for path in [Path(root), folder, *folder.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(root)
