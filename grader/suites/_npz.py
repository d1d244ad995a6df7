"""Reading a saved model (``.npz``) that a submission holds, on the trusted side: nothing of it runs.

The file is data. Its zip directory is checked before anything is loaded (member names and count, the
declared sizes and array headers: no entry may declare more data than it holds, no Python objects), then it
is read with ``allow_pickle=False``. Every refusal is a ``checks.CheckFailure`` that names the file.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from grader import checks

MAX_MEMBERS = 200


def _check_npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> int:
    """The array an entry declares must fit in the entry (no allocation bigger than the data) -> its
    number of entries."""
    name = info.filename[:80]
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError("unknown version")
            header = f.tell() if hasattr(f, "tell") else 0
    except Exception:  # noqa: BLE001 - malformed headers are the student's file
        checks.fail(f"{label}: entry {name!r} is not a valid .npy array")
    if dtype.hasobject:
        checks.fail(f"{label}: entry {name!r} holds Python objects; save only numeric arrays and strings")
    count = int(np.prod(shape, dtype=np.float64))
    if count * dtype.itemsize > info.file_size - header:
        checks.fail(f"{label}: entry {name!r} declares more data than it holds")
    return count


def read_npz(path: Path, max_bytes: int, *, max_elements: int, max_uncompressed: int, max_params: int,
             label: str | None = None, saver: str = "np.savez") -> dict[str, np.ndarray]:
    """The arrays of ``path``, refusing pickles, odd members and oversized content (``label``: the file as
    the messages name it, default its name; ``saver``: the function the messages suggest saving it with,
    besides ``np.savez``)."""
    label = label or Path(path).name
    savers = " or ".join(dict.fromkeys(["np.savez", saver]))
    try:
        size = path.stat().st_size
    except OSError:
        checks.fail(f"{label} could not be read")
    if size > max_bytes:
        checks.fail(f"{label} is {size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                checks.fail(f"{label} holds {len(infos)} entries (limit {MAX_MEMBERS})")
            if sum(i.file_size for i in infos) > max_uncompressed:
                checks.fail(f"{label} is too large once uncompressed (limit {max_uncompressed / 2**20:.0f} MiB)")
            elements = 0
            for info in infos:
                if not info.filename.endswith(".npy") or "/" in info.filename or info.is_dir():
                    checks.fail(f"{label} holds an entry that is not an array: {info.filename[:80]!r}")
                elements += _check_npy_header(zf, info, label)
            if elements > max_elements:
                checks.fail(f"{label} holds {elements:,} numbers; models of up to {max_params:,} "
                            "parameters are graded")
    except checks.CheckFailure:
        raise
    except zipfile.BadZipFile:
        checks.fail(f"{label} is not a valid .npz file (save it with {savers})")
    except Exception as exc:  # noqa: BLE001 - a corrupt file (NotImplementedError, OSError, ...) is the student's
        checks.fail(f"{label} could not be read ({type(exc).__name__}): save it again with {saver}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - pickled objects, corrupt members: all the student's file
        checks.fail(f"{label} could not be read without pickle ({type(exc).__name__}); "
                    "save only numeric arrays and strings")
    for k, v in arrays.items():
        if type(v) is not np.ndarray:
            checks.fail(f"{label}: entry {k!r} is not an array")
    return arrays
