"""Placeholders for the modules a submission's file imports at its top level that do not exist here.

A graded file may import a module the grader does not have (a helper file the student wrote and did not
submit, a compiled extension, a library not installed): ``from cs231n.my_helpers import *`` at the top of
``layers.py`` would otherwise make the whole file fail to import, and every test of it score zero. With
:func:`install`, such an import (a module-level ``import`` statement of a file under the submission's root,
not inside a ``try`` that catches ``ImportError``) gets a placeholder module instead: the file imports, and
only the code that uses a name of the missing module fails, with a ``ModuleNotFoundError`` naming the
module, the file and the line. :func:`report` lists the placeholders made (the trusted side puts them in the
feedback). Imports inside a ``try`` keep failing as usual, so ``try: import x / except ImportError:``
fallbacks work.

Runs inside the sandbox only, imported by ``worker.py`` before any student code.
"""
from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import os
import sys
import types

_ROOT = ""
_MADE: list[tuple[str, str, int]] = []      # (module, file relative to the root, line)
_GUARDED: dict[str, list[tuple[int, int]]] = {}
_CATCHING = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
MAX_REPORTED = 50


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types_ = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((isinstance(t, ast.Name) and t.id in _CATCHING)
               or (isinstance(t, ast.Attribute) and t.attr in _CATCHING) for t in types_)


def _guarded_lines(filename: str) -> list[tuple[int, int]]:
    """The line ranges of the bodies of ``try`` statements of ``filename`` that catch ImportError."""
    if filename not in _GUARDED:
        ranges = []
        try:
            with open(filename, "rb") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Try) and node.body and any(_catches_import_error(h) for h in node.handlers):
                    ranges.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
        except (OSError, SyntaxError, ValueError, RecursionError):
            ranges = [(0, 10 ** 9)]   # unreadable: treat every import as guarded (the normal error)
        _GUARDED[filename] = ranges
    return _GUARDED[filename]


def _importer() -> types.FrameType | None:
    """The frame of the code running the import statement (skipping the import machinery and this file)."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                 or frame.f_code.co_filename == __file__):
        frame = frame.f_back
    return frame


class _Missing:
    """What a placeholder module gives for any name: using it raises the import's error."""

    def __init__(self, message: str):
        object.__setattr__(self, "_message", message)

    def _fail(self, *args, **kwargs):
        raise ModuleNotFoundError(object.__getattribute__(self, "_message"))

    __call__ = _fail

    def __getattr__(self, name):
        self._fail()

    def __repr__(self) -> str:
        return "<missing: %s>" % object.__getattribute__(self, "_message")


class _Placeholder(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Missing("%s (so %s.%s is not available)" % (self.__dict__["_why"], self.__name__, name))


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: asked only for modules that no other finder has."""

    def find_spec(self, fullname, path=None, target=None):
        frame = _importer()
        if frame is None or frame.f_code.co_name != "<module>":
            return None
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_ROOT):
            return None
        line = frame.f_lineno or 0
        parent, _, name = fullname.rpartition(".")
        if name in getattr(sys.modules.get(parent), "__all__", ()):
            return None   # a name the package exports (``import *`` asks for it as a submodule first)
        if any(lo <= line <= hi for lo, hi in _guarded_lines(filename)):
            return None
        rel = filename[len(_ROOT):]
        if len(_MADE) < MAX_REPORTED:
            _MADE.append((fullname, rel, line))
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        spec.why = "No module named %r (imported by %s line %d; the grader does not have it)" % (fullname, rel, line)
        return spec

    def create_module(self, spec):
        module = _Placeholder(spec.name)
        module.__dict__["_why"] = spec.why
        return module

    def exec_module(self, module):
        module.__path__ = []


def install(root: str) -> None:
    """Make placeholders for the missing module-level imports of the files under ``root``."""
    global _ROOT
    _ROOT = os.path.abspath(root).rstrip("/") + "/"
    sys.meta_path.append(_Finder())


def report() -> list[list]:
    """``[[module, file, line], ...]``: the placeholders made so far (file relative to the root)."""
    return [[m, f, n] for m, f, n in _MADE]
