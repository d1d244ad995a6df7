"""Handcrafted archives and trees for the tests of unpacking and assembling submissions."""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from grader.unpack import ArchiveError, ArchiveLimits, safe_extract

MiB = 1024 * 1024
GRADED = ["classifiers/fc_net.py", "layer_utils.py", "layers.py", "optim.py"]


def make_zip(path: Path, entries, compression=zipfile.ZIP_DEFLATED) -> Path:
    """Write ``entries`` = [(name or ZipInfo, data)] to a zip at ``path``."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = compression
            zf.writestr(name, data)
    return path


def zip_bytes(files: dict[str, str | bytes]) -> bytes:
    """A zip archive in memory holding ``files`` (name -> text or bytes)."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def patch_headers(path: Path, *, flags_or: int = 0, file_size: int | None = None) -> None:
    """Rewrite the local and central headers of every member: OR general-purpose flags, set the
    declared uncompressed size (a lying header)."""
    data = bytearray(path.read_bytes())
    for signature, flag_at, size_at in ((b"PK\x03\x04", 6, 22), (b"PK\x01\x02", 8, 24)):
        start = 0
        while (i := data.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", data, i + flag_at)[0]
            struct.pack_into("<H", data, i + flag_at, flags | flags_or)
            if file_size is not None:
                struct.pack_into("<I", data, i + size_at, file_size)
            start = i + 4
    path.write_bytes(bytes(data))


def special_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def refused(archive: Path, dest: Path, *fragments: str, limits: ArchiveLimits = ArchiveLimits()) -> str:
    """Assert ``safe_extract`` refuses ``archive`` with a message holding ``fragments`` and leaves nothing."""
    with pytest.raises(ArchiveError) as info:
        safe_extract(archive, dest, limits)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not dest.exists(), "a refused archive must leave nothing behind"
    return message


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


PACKAGE_FILES = {
    "cs231n/__init__.py": "",
    "cs231n/layers.py": "def affine_forward(x, w, b):\n    return x\n",
    "cs231n/layer_utils.py": "from .layers import *\n",
    "cs231n/optim.py": "def sgd(w, dw, config=None):\n    return w, config\n",
    "cs231n/classifiers/__init__.py": "",
    "cs231n/classifiers/fc_net.py": "class TwoLayerNet:\n    pass\n",
}
