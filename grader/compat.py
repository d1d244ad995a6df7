"""What differs between CS231n years, so real submissions of any year are graded on what they got right.

Trusted side. Nothing here imports the student's code: signatures are read from the source with ``ast``.

- ``FullyConnectedNet``'s keyword for dropout is ``dropout`` (2016-2020) or ``dropout_keep_ratio``
  (2021+); 2016/17 code has ``use_batchnorm=True`` where later code has ``normalization='batchnorm'``.
  ``init_parameters`` reads the student's ``__init__`` and ``adapt_kwargs`` renames the grader's
  canonical keywords (``dropout``, ``normalization``) to the names that ``__init__`` accepts.
- Conventions that need a call of the student's code (``dropout_forward``'s ``p``) are measured by an
  assignment's probes (``grader/assignments/<assignment>/probes.py``).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

#: canonical keyword (the grader's) -> the names other years use for the same argument
KEYWORD_ALIASES = {
    "dropout": ("dropout", "dropout_keep_ratio", "dropout_ratio", "keep_prob"),
    "normalization": ("normalization", "use_batchnorm"),
}


def init_parameters(source: str | Path, class_name: str = "FullyConnectedNet") -> list[str] | None:
    """The parameter names of ``class_name.__init__`` (``self`` excluded) in a Python source or file.

    ``None`` when the source does not parse or has no such class/method, or when ``__init__`` takes
    ``**kwargs`` (then any keyword may be fine: the caller should pass its canonical names).
    """
    text = Path(source).read_text(encoding="utf-8", errors="replace") if isinstance(source, Path) else source
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    if args.kwarg is not None:
                        return None
                    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
                    return names[1:] if names and names[0] == "self" else names
    return None


def constructor_parameters(package_dir: str | Path, classes: dict[str, str]) -> dict[str, list[str] | None]:
    """``{class name: init_parameters(...)}`` for the model classes of an (assembled) package folder.

    ``classes`` maps class names to their files (the manifest's ``model_classes``, e.g.
    ``{"TwoLayerNet": "classifiers/fc_net.py"}``). A missing file gives None.
    """
    found = {}
    for name, rel in classes.items():
        path = Path(package_dir) / rel
        found[name] = init_parameters(path, name) if path.is_file() and not path.is_symlink() else None
    return found


def adapt_kwargs(kwargs: dict[str, Any], parameters: list[str] | None) -> dict[str, Any]:
    """Rename the canonical keywords of ``kwargs`` to the ones ``parameters`` accepts.

    - ``dropout`` goes to whichever of ``dropout`` / ``dropout_keep_ratio`` / ... the signature has;
    - ``normalization='batchnorm'`` becomes ``use_batchnorm=True`` for 2016/17 code
      (``normalization=None`` becomes ``use_batchnorm=False``; ``'layernorm'`` stays as it is and fails
      clearly, since that code has no layer norm).

    Keywords the signature lacks are passed unchanged (the call then fails with the student's own
    TypeError, which is the honest outcome). ``parameters=None`` (unknown) changes nothing.
    """
    if parameters is None:
        return dict(kwargs)
    adapted = {}
    for key, value in kwargs.items():
        if key in parameters or key not in KEYWORD_ALIASES:
            adapted[key] = value
            continue
        alias = next((a for a in KEYWORD_ALIASES[key] if a in parameters), None)
        if alias == "use_batchnorm":
            if value in (None, "batchnorm"):
                adapted[alias] = value == "batchnorm"
            else:
                adapted[key] = value
        elif alias is not None:
            adapted[alias] = value
        else:
            adapted[key] = value
    return adapted
