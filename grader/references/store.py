"""Writing and checking ``reference_outputs/<assignment>/`` (``refresh-references``, ``--check``, ``selftest``).

Every case of the assignment's ``CASES`` is run on the reference solution with its own (unsalted) seed and
written as

- ``<question>.npz``: for each case ``<case>/in/<name>`` (the inputs) and ``<case>/out/<name>`` (the
  expected values), in a zip whose entries are sorted, stored (not deflated) and dated 1980-01-01, without
  pickles, so regenerating gives identical bytes;
- ``manifest.json``: each case's recipe, seed, the shapes and dtypes of its arrays, the sha256 of the
  solution files and datasets used, and the calibration of the training checks.

The stored cases are a regression guard: grading draws every case again from the submission's salt.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .cases import Case, run_case
from .datasets import dataset_hashes
from .errors import ReferenceError
from .solution import solution_hashes
from .training import CALIBRATION_SEEDS, calibrate

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST_VERSION = 1


def to_array(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ReferenceError(f"cannot store a value of dtype {arr.dtype}")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray would make 0-d 1-d)


def npz_bytes(arrays: dict[str, Any]) -> bytes:
    """A deterministic ``.npz``: sorted entries, stored, fixed dates, no pickles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, to_array(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, member.getvalue())
    return buffer.getvalue()


def _describe(values: dict[str, Any], kind: str, prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, dict]:
    described = {}
    for k, v in values.items():
        arr = to_array(v)
        arrays[f"{prefix}/{kind}/{k}"] = arr
        described[f"{kind}/{k}"] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
    return described


def compute_question(assignment, question: str) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """All arrays of ``question``'s stored cases and their manifest entries."""
    ref = assignment.reference()
    arrays: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}
    for c in assignment.cases.of(question):
        if isinstance(c, Case):
            inputs, expected = run_case(c, c.seed, ref)
            described = {**_describe(inputs, "in", c.name, arrays), **_describe(expected, "out", c.name, arrays)}
            entries[c.name] = {"recipe": c.recipe, "seed": c.seed, "arrays": described}
        else:
            entries[c.name] = {"recipe": c.recipe, "seed": None,
                               "arrays": _describe(c.compute(ref), "out", c.name, arrays)}
    return arrays, entries


def generate(assignment, *, calibration: dict | None = None, calibrate_checks: bool = True) -> dict[str, bytes]:
    """``{file name: bytes}`` of the reference outputs of ``assignment``.

    ``calibration``: reuse these calibration results (by check name) instead of training again.
    """
    files: dict[str, bytes] = {}
    manifest: dict[str, Any] = {"version": MANIFEST_VERSION, "assignment": assignment.name,
                                "solution_sha256": solution_hashes(assignment.solution_package),
                                "dataset_sha256": dataset_hashes(), "questions": {}, "calibration": {}}
    for q in assignment.cases.questions():
        arrays, entries = compute_question(assignment, q)
        data = npz_bytes(arrays)
        files[f"{q}.npz"] = data
        manifest["questions"][q] = {"file": f"{q}.npz", "sha256": hashlib.sha256(data).hexdigest(), "cases": entries}
    for name, check in assignment.training_checks.items():
        if calibration is not None and name in calibration:
            manifest["calibration"][name] = calibration[name]
        elif calibrate_checks:
            # a check of another kind (not trained by the Solver) calibrates itself
            own = getattr(check, "calibrate", None)
            manifest["calibration"][name] = own(assignment.reference()) if own else calibrate(check, assignment.reference())
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def refresh(assignment, *, recalibrate: bool = True) -> list[Path]:
    """Regenerate and write the reference outputs; returns the files written.

    Without ``recalibrate`` the stored calibration is kept when its spec and the solution are unchanged.
    """
    out = assignment.references_dir
    reuse = None if recalibrate else reusable_calibration(assignment)
    files = generate(assignment, calibration=reuse)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(files.items()):
        path = out / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    for stale in out.glob("*.npz"):
        if stale.name not in files:
            stale.unlink()
    return written


def stored_manifest(directory: Path) -> dict | None:
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def reusable_calibration(assignment, directory: Path | None = None) -> dict:
    stored = stored_manifest(directory or assignment.references_dir)
    if not stored or stored.get("solution_sha256") != solution_hashes(assignment.solution_package) \
            or stored.get("dataset_sha256") != dataset_hashes():
        return {}
    reuse = {}
    for name, check in assignment.training_checks.items():
        entry = stored.get("calibration", {}).get(name)
        if entry and entry.get("spec") == json.loads(json.dumps(check.spec())) \
                and list(entry.get("seeds", [])) == list(CALIBRATION_SEEDS):
            reuse[name] = entry
    return reuse


def check(assignment, directory: Path | None = None) -> list[str]:
    """Why the stored reference outputs are stale (empty list: fresh).

    Compares the solution and dataset hashes, regenerates every case and compares bytes, and checks that
    each training check's stored calibration matches its current spec (calibration itself is not re-run:
    it depends only on the solution files, the datasets and the spec, all compared).
    """
    problems = []
    out = Path(directory or assignment.references_dir)
    stored = stored_manifest(out)
    if stored is None:
        return [f"{assignment.name}: reference_outputs/{assignment.name}/manifest.json is missing or unreadable"]
    if stored.get("solution_sha256") != solution_hashes(assignment.solution_package):
        problems.append("the solution files changed since the reference outputs were generated")
    if stored.get("dataset_sha256") != dataset_hashes():
        problems.append("the datasets changed since the reference outputs were generated")
    reuse = reusable_calibration(assignment, out)
    for name in assignment.training_checks:
        if name not in reuse:
            problems.append(f"the calibration of training check {name!r} is missing or stale")
    fresh = generate(assignment, calibration=stored.get("calibration", {}), calibrate_checks=False)
    for name, data in sorted(fresh.items()):
        path = out / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.read_bytes() != data:
            problems.append(f"{name} differs from a fresh regeneration")
    for extra in sorted(p.name for p in out.glob("*.npz")):
        if extra not in fresh:
            problems.append(f"{extra} is not generated any more")
    return problems
