"""Fashion-MNIST (gzipped IDX, Debian's ``dataset-fashion-mnist``), read on the trusted side only."""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ReferenceError
from .solution import sha256_file

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _idx_path(kind: str, what: str) -> Path:
    if kind not in ("train", "t10k") or what not in ("images", "labels"):
        raise ValueError(f"unknown Fashion-MNIST file {kind} {what}")
    suffix = "idx3-ubyte.gz" if what == "images" else "idx1-ubyte.gz"
    return FASHION_DIR / f"{kind}-{what}-{suffix}"


def dataset_hashes() -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(FASHION_DIR.glob("*.gz"))} if FASHION_DIR.is_dir() else {}


@lru_cache(maxsize=16)
def fashion_mnist(kind: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 28, 28)`` uint8 and labels ``(n,)`` int64 of ``kind`` ('train'/'t10k')[start:stop].

    Only the prefix up to ``stop`` is decompressed. Read-only arrays (cached).
    """
    images_path, labels_path = _idx_path(kind, "images"), _idx_path(kind, "labels")
    if not images_path.is_file():
        raise ReferenceError(f"Fashion-MNIST not found at {images_path} (Debian package dataset-fashion-mnist)")
    with gzip.open(images_path, "rb") as f:
        magic, count, rows, cols = np.frombuffer(f.read(16), dtype=">u4")
        if magic != 2051 or not 0 <= start <= stop <= count:
            raise ReferenceError(f"{images_path.name}: bad header or range [{start}:{stop}] of {count}")
        f.read(int(start * rows * cols))
        images = np.frombuffer(f.read(int((stop - start) * rows * cols)), dtype=np.uint8)
    with gzip.open(labels_path, "rb") as f:
        magic, count = np.frombuffer(f.read(8), dtype=">u4")
        if magic != 2049 or stop > count:
            raise ReferenceError(f"{labels_path.name}: bad header or range")
        f.read(start)
        labels = np.frombuffer(f.read(stop - start), dtype=np.uint8)
    images = images.reshape(stop - start, int(rows), int(cols))
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
