"""Import a copy of the ``cs231n`` package from a folder under a private module name.

The solutions use relative imports only, so the same package can be loaded twice in one process
(for example the reference solution as ``_reference_cs231n`` beside the starter as ``_starter_cs231n``)
without either shadowing the other or the name ``cs231n`` itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_package(pkg_dir: str | Path, alias: str, *, fresh: bool = True) -> ModuleType:
    """Import the package in ``pkg_dir`` (a folder with ``__init__.py``) as module ``alias``.

    With ``fresh`` every module previously imported under ``alias`` is dropped first, so edits on disk
    are picked up. Submodules are imported lazily as usual: ``importlib.import_module(alias + '.layers')``.
    """
    pkg_dir = Path(pkg_dir).resolve()
    if fresh:
        for name in [m for m in sys.modules if m == alias or m.startswith(alias + ".")]:
            del sys.modules[name]
    elif alias in sys.modules:
        return sys.modules[alias]
    spec = importlib.util.spec_from_file_location(
        alias, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"no package at {pkg_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[alias]
        raise
    return module


def load_module(pkg_dir: str | Path, alias: str, submodule: str) -> ModuleType:
    """``load_package`` (not fresh) then import ``alias.submodule``, e.g. ``submodule='classifiers.fc_net'``."""
    load_package(pkg_dir, alias, fresh=False)
    return importlib.import_module(f"{alias}.{submodule}")
