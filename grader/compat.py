"""What differs between CS231n years, so real submissions of any year are graded on what they got right.

Trusted side. Nothing here imports the student's code: signatures are read from the source with ``ast``,
and the dropout convention is measured by one call through the sandbox.

- ``FullyConnectedNet``'s keyword for dropout is ``dropout`` (2016-2020) or ``dropout_keep_ratio``
  (2021+); 2016/17 code has ``use_batchnorm=True`` where later code has ``normalization='batchnorm'``.
  ``init_parameters`` reads the student's ``__init__`` and ``adapt_kwargs`` renames the grader's
  canonical keywords (``dropout``, ``normalization``) to the names that ``__init__`` accepts.
- ``dropout_forward``'s ``p`` is the probability of DROPPING a unit in 2016/17 and of KEEPING it from
  2018 on. ``detect_dropout_semantics`` runs ``dropout_forward`` with ``p=0.3`` on 10,000 units: about
  70% zeroed means keep-probability code, about 30% drop-probability code. The manifest declares which
  convention the assignment uses; ``dropout_note`` is the message for results.json when they differ (the
  tests keep the manifest's convention: a submission written for the other one fails the dropout tests
  and is told why).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np

#: canonical keyword (the grader's) -> the names other years use for the same argument
KEYWORD_ALIASES = {
    "dropout": ("dropout", "dropout_keep_ratio", "dropout_ratio", "keep_prob"),
    "normalization": ("normalization", "use_batchnorm"),
}
SEMANTICS = ("keep", "drop")
PROBE_P = 0.3
PROBE_SHAPE = (100, 100)


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


def constructor_parameters(package_dir: str | Path,
                           classes: dict[str, str] | None = None) -> dict[str, list[str] | None]:
    """``{class name: init_parameters(...)}`` for the model classes of an (assembled) package folder.

    ``classes`` maps class names to their files (default: TwoLayerNet and FullyConnectedNet in
    ``classifiers/fc_net.py``, ThreeLayerConvNet in ``classifiers/cnn.py``). A missing file gives None.
    """
    classes = classes or {"TwoLayerNet": "classifiers/fc_net.py", "FullyConnectedNet": "classifiers/fc_net.py",
                          "ThreeLayerConvNet": "classifiers/cnn.py"}
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


def classify_fraction_zeroed(fraction: float, p: float = PROBE_P, tolerance: float = 0.08) -> str:
    """``keep`` when about ``1 - p`` of the units were zeroed, ``drop`` when about ``p``, else ``unknown``."""
    if abs(fraction - (1 - p)) < tolerance:
        return "keep"
    if abs(fraction - p) < tolerance:
        return "drop"
    return "unknown"


def detect_dropout_semantics(sandbox, target: str = "cs231n.layers.dropout_forward") -> dict[str, Any]:
    """Measure the student's dropout convention through ``sandbox`` (a ``grader.sandbox.proxy.Sandbox``).

    Returns ``{"semantics": "keep" | "drop" | "unknown", "fraction_zeroed": float | None, "error": str}``.
    Anything the student's code does wrong (raises, returns the placeholder None, times out) gives
    ``unknown`` with the reason in ``error``; this function never raises for the student's code.
    """
    x = np.full(PROBE_SHAPE, 10.0)
    try:
        sandbox.seed(231)
        result = sandbox.call(target, x, {"mode": "train", "p": PROBE_P, "seed": 231}, keep=(1,))
    except Exception as e:  # StudentError, StudentTimeout, SandboxCrash: all mean "cannot tell"
        return {"semantics": "unknown", "fraction_zeroed": None, "error": f"{type(e).__name__}: {e}"[:300]}
    out = result[0] if isinstance(result, (tuple, list)) and result else result
    if not isinstance(out, np.ndarray) or out.shape != PROBE_SHAPE:
        return {"semantics": "unknown", "fraction_zeroed": None,
                "error": "dropout_forward did not return an array of the input's shape"}
    fraction = float(np.mean(out == 0))
    return {"semantics": classify_fraction_zeroed(fraction), "fraction_zeroed": round(fraction, 4), "error": ""}


def dropout_note(detected: dict[str, Any], declared: str) -> str | None:
    """The note for results.json when the student's convention is not the manifest's ``declared`` one."""
    semantics = detected.get("semantics")
    if semantics not in SEMANTICS or semantics == declared:
        return None
    meaning = {"keep": "the probability of KEEPING a unit (CS231n 2018 and later)",
               "drop": "the probability of DROPPING a unit (CS231n 2016/2017)"}
    return (f"dropout_forward treats p as {meaning[semantics]}: with p={PROBE_P} it zeroed "
            f"{100 * detected['fraction_zeroed']:.0f}% of the units. This assignment defines p as "
            f"{meaning[declared]}, so the dropout tests use that convention.")
