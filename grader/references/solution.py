"""The reference solution of an assignment, imported under a private name (trusted side only).

``reference_package(solutions/A/cs231n, 'A')`` is a namespace whose attributes are the package's modules,
found by their file name: ``ref.layers`` is ``cs231n/layers.py``, ``ref.fc_net`` is
``cs231n/classifiers/fc_net.py``; ``ref.module('classifiers.fc_net')`` takes a dotted path. The package
uses relative imports only (``grader.pkgload``), so it never shadows a student's ``cs231n``.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from types import ModuleType


class ReferencePackage:
    """The reference solution's modules, imported on first use."""

    def __init__(self, package_dir: Path, alias: str):
        self.package_dir = Path(package_dir)
        self.alias = alias

    def module(self, dotted: str) -> ModuleType:
        """``module('classifiers.fc_net')`` -> the reference's ``cs231n/classifiers/fc_net.py``."""
        from grader.pkgload import load_module

        return load_module(self.package_dir, self.alias, dotted)

    def cls(self, dotted: str):
        """``cls('classifiers.fc_net.TwoLayerNet')`` -> the reference's class."""
        module, name = dotted.rsplit(".", 1)
        return getattr(self.module(module), name)

    def __getattr__(self, name: str) -> ModuleType:
        if name.startswith("_"):
            raise AttributeError(name)
        matches = sorted(self.package_dir.glob(f"{name}.py")) + sorted(self.package_dir.glob(f"*/{name}.py"))
        if not matches:
            raise AttributeError(f"the reference solution has no module {name!r} in {self.package_dir.name}/")
        rel = matches[0].relative_to(self.package_dir).with_suffix("")
        return self.module(".".join(rel.parts))


@lru_cache(maxsize=16)
def reference_package(package_dir: Path, assignment: str) -> ReferencePackage:
    return ReferencePackage(package_dir, f"_reference_{assignment}_{Path(package_dir).name}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def solution_hashes(package_dir: Path) -> dict[str, str]:
    """sha256 of every ``.py`` file of the reference package (what the reference outputs depend on)."""
    files = sorted(p for p in Path(package_dir).rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(package_dir).as_posix(): sha256_file(p) for p in files}
