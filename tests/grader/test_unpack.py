"""grader.unpack: safe unpacking of submissions.

Every refusal is tested with a handcrafted archive; each test asserts the student-facing message and that
nothing was left behind.
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import subprocess
import tarfile
import zipfile

import pytest

from grader.assemble import locate_notebooks, locate_package
from grader.unpack import ArchiveError, ArchiveLimits, Budget, safe_extract

from support.archives import GRADED, MiB, PACKAGE_FILES, files_under, make_zip, patch_headers, refused, special_info, write_tree


# ------------------------------------------------------------------------------------------------
# accepted archives
# ------------------------------------------------------------------------------------------------
def test_nested_zip_is_extracted_without_junk_and_readable(tmp_path):
    entries = [(f"assignment2/{k}", v) for k, v in PACKAGE_FILES.items()]
    entries += [
        ("assignment2/FullyConnectedNets.ipynb", "{}"),
        ("assignment2/", ""),
        ("__MACOSX/assignment2/._layers.py", "junk"),
        ("assignment2/.DS_Store", "junk"),
        ("assignment2/cs231n/__pycache__/layers.cpython-311.pyc", "junk"),
        ("assignment2/cs231n/layers.cpython-311.pyc", "junk"),
        ("assignment2/.ipynb_checkpoints/FullyConnectedNets-checkpoint.ipynb", "junk"),
        ("assignment2/.git/config", "junk"),
        ("assignment2\\cs231n\\optim_notes.txt", "windows separators"),
    ]
    root = safe_extract(make_zip(tmp_path / "sub.zip", entries), tmp_path / "out")
    assert files_under(root) == sorted(
        [f"assignment2/{k}" for k in PACKAGE_FILES]
        + ["assignment2/FullyConnectedNets.ipynb", "assignment2/cs231n/optim_notes.txt"]
    )
    assert (root / "assignment2/cs231n/layers.py").read_text() == PACKAGE_FILES["cs231n/layers.py"]
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert not path.is_symlink()
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
    package = locate_package(root, GRADED)
    assert package == root / "assignment2" / "cs231n"
    assert locate_notebooks(root, ["FullyConnectedNets", "Dropout.ipynb"], package) == {
        "FullyConnectedNets": root / "assignment2" / "FullyConnectedNets.ipynb"
    }


def test_folder_submission_is_copied_under_the_same_rules(tmp_path):
    src = write_tree(tmp_path / "src", {**PACKAGE_FILES, "cs231n/__pycache__/x.pyc": "junk", ".DS_Store": "j"})
    root = safe_extract(src, tmp_path / "out")
    assert files_under(root) == sorted(PACKAGE_FILES)
    assert stat.S_IMODE((root / "cs231n/layers.py").stat().st_mode) == 0o644


def test_folder_with_a_symlink_is_refused(tmp_path):
    src = write_tree(tmp_path / "src", PACKAGE_FILES)
    os.symlink("/etc/passwd", src / "cs231n" / "solver.py")
    refused(src, tmp_path / "out", "link 'cs231n/solver.py' -> '/etc/passwd'", "links are not accepted")


def test_folder_with_a_fifo_is_refused(tmp_path):
    src = write_tree(tmp_path / "src", PACKAGE_FILES)
    os.mkfifo(src / "cs231n" / "pipe")
    refused(src, tmp_path / "out", "special file 'cs231n/pipe'")


def test_tar_gz_is_accepted_and_links_in_it_refused(tmp_path):
    src = write_tree(tmp_path / "src", PACKAGE_FILES)
    good = tmp_path / "sub.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        tf.add(src / "cs231n", arcname="cs231n")
    root = safe_extract(good, tmp_path / "out")
    assert files_under(root) == sorted(PACKAGE_FILES)

    bad = tmp_path / "link.tar"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("cs231n/layers.py")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    refused(bad, tmp_path / "out2", "link 'cs231n/layers.py' -> '/etc/passwd'")

    escape = tmp_path / "escape.tar"
    with tarfile.open(escape, "w") as tf:
        info = tarfile.TarInfo("../../evil.py")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    refused(escape, tmp_path / "out3", "'..'")


# ------------------------------------------------------------------------------------------------
# refusals: names
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "names, fragments",
    [
        (["/etc/passwd"], ["absolute path '/etc/passwd'"]),
        (["//server/share/x.py"], ["absolute path"]),
        (["../evil.py"], ["'..'"]),
        (["cs231n/../../evil.py"], ["'..'", "cs231n/../../evil.py"]),
        (["..\\..\\evil.py"], ["'..'"]),
        (["C:/Windows/evil.py"], ["drive letter"]),
        (["C:\\evil.py"], ["drive letter"]),
        (["cs231n/la\nyers.py"], ["control characters"]),
        (["cs231n/layers.py", "cs231n/layers.py"], ["'cs231n/layers.py' appears twice"]),
        (["cs231n/layers.py", "cs231n/./layers.py"], ["'cs231n/layers.py' and 'cs231n/./layers.py' name the same file"]),
        (["cs231n//layers.py", "cs231n/layers.py"], ["name the same file"]),
        (["cs231n/layers.py", "cs231n\\layers.py"], ["name the same file"]),
        (["cs231n/Layers.py", "cs231n/layers.py"], ["differ only in letter case"]),
        (["CS231N/optim.py", "cs231n/layers.py"], ["differ only in letter case"]),
        (["cs231n/layers.py", "cs231n/layers.py/x.py"], ["both a file and a folder"]),
    ],
)
def test_unsafe_or_ambiguous_names_are_refused(tmp_path, names, fragments):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we write on purpose
        archive = make_zip(tmp_path / "bad.zip", [(n, "x = 1\n") for n in names])
    refused(archive, tmp_path / "out", *fragments)


def test_depth_and_name_length_limits(tmp_path):
    deep = make_zip(tmp_path / "deep.zip", [("/".join(["d"] * 40) + "/x.py", "x")])
    refused(deep, tmp_path / "o1", "nested 41 folders deep (limit 32)")
    long_name = make_zip(tmp_path / "long.zip", [("cs231n/" + "a" * 300 + ".py", "x")])
    refused(long_name, tmp_path / "o2", "characters long (limit 255)")
    long_path = make_zip(tmp_path / "longpath.zip", [("/".join(["b" * 200] * 6) + "/x.py", "x")])
    refused(long_path, tmp_path / "o3", "(limit 1024)")


# ------------------------------------------------------------------------------------------------
# refusals: entry types
# ------------------------------------------------------------------------------------------------
def test_symlink_entry_is_refused_with_its_target(tmp_path):
    link = special_info("cs231n/x", stat.S_IFLNK | 0o777)
    archive = make_zip(tmp_path / "link.zip", [("cs231n/layers.py", "x"), (link, "/etc/passwd")])
    refused(archive, tmp_path / "out",
            "the archive holds a link 'cs231n/x' -> '/etc/passwd'; links are not accepted")


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP's zip is not installed")
def test_symlink_made_by_info_zip_is_refused(tmp_path):
    src = write_tree(tmp_path / "src", PACKAGE_FILES)
    os.symlink("../../../../etc/shadow", src / "cs231n" / "optim.py.bak")
    archive = tmp_path / "real.zip"
    subprocess.run(["zip", "-q", "-r", "--symlinks", str(archive), "cs231n"], cwd=src, check=True)
    refused(archive, tmp_path / "out", "link 'cs231n/optim.py.bak' -> '../../../../etc/shadow'")


def test_windows_reparse_point_is_refused(tmp_path):
    info = zipfile.ZipInfo("cs231n/junction")
    info.external_attr = 0x400 | 0x20
    refused(make_zip(tmp_path / "rp.zip", [(info, "C:\\secret")]), tmp_path / "out", "link 'cs231n/junction'")


@pytest.mark.parametrize("mode", [stat.S_IFIFO | 0o644, stat.S_IFCHR | 0o644, stat.S_IFBLK | 0o644,
                                  stat.S_IFSOCK | 0o644])
def test_device_and_fifo_entries_are_refused(tmp_path, mode):
    archive = make_zip(tmp_path / "dev.zip", [("cs231n/layers.py", "x"), (special_info("cs231n/dev", mode), "")])
    refused(archive, tmp_path / "out", "special file 'cs231n/dev'")


def test_encrypted_entry_is_refused(tmp_path):
    archive = make_zip(tmp_path / "enc.zip", [("cs231n/layers.py", "x = 1\n")])
    patch_headers(archive, flags_or=0x1)
    refused(archive, tmp_path / "out", "'cs231n/layers.py' is encrypted")


def test_unsupported_compression_method_is_refused(tmp_path):
    archive = make_zip(tmp_path / "m.zip", [("cs231n/layers.py", "x = 1\n")], compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    for signature, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = data.find(signature)
        struct.pack_into("<H", data, i + method_at, 99)  # AES / unknown
    archive.write_bytes(bytes(data))
    refused(archive, tmp_path / "out", "unsupported compression method")


# ------------------------------------------------------------------------------------------------
# refusals: not an archive, corrupt, empty
# ------------------------------------------------------------------------------------------------
def test_non_zip_files_are_refused(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7 not a zip")
    refused(pdf, tmp_path / "o1", "'report.pdf' is not a zip archive", "a PDF document")
    rar = tmp_path / "sub.rar"
    rar.write_bytes(b"Rar!\x1a\x07\x00" + b"\x00" * 50)
    refused(rar, tmp_path / "o2", "a RAR archive")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    refused(empty, tmp_path / "o3", "not a zip archive", "an empty file")
    truncated = tmp_path / "truncated.zip"
    whole = make_zip(tmp_path / "whole.zip", [("cs231n/layers.py", os.urandom(5000))]).read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    refused(truncated, tmp_path / "o4", "not a zip archive")


def test_corrupt_member_data_is_refused(tmp_path):
    archive = make_zip(tmp_path / "c.zip", [("cs231n/layers.py", b"x = 1\n" * 200)], compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    data[40:50] = b"#" * 10  # inside the stored data of the only member: CRC no longer matches
    archive.write_bytes(bytes(data))
    refused(archive, tmp_path / "out", "'cs231n/layers.py' is corrupt", "create the archive again")


def test_empty_archives_are_refused(tmp_path):
    refused(make_zip(tmp_path / "e.zip", []), tmp_path / "o1", "holds no files")
    only_junk = make_zip(tmp_path / "j.zip", [("__MACOSX/._x", "j"), (".DS_Store", "j"), ("folder/", "")])
    refused(only_junk, tmp_path / "o2", "holds no files")


# ------------------------------------------------------------------------------------------------
# refusals: sizes and bombs
# ------------------------------------------------------------------------------------------------
def test_entry_count_limit(tmp_path):
    archive = make_zip(tmp_path / "many.zip", [(f"cs231n/f{i}.py", "") for i in range(30)])
    refused(archive, tmp_path / "out", "30 entries (limit 20)", limits=ArchiveLimits(max_entries=20))
    # A lying end-of-central-directory record does not get past zipfile's own count.
    data = bytearray(archive.read_bytes())
    struct.pack_into("<HH", data, data.rfind(b"PK\x05\x06") + 8, 3, 3)
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):
        safe_extract(archive, tmp_path / "out2", ArchiveLimits(max_entries=20))
    assert not (tmp_path / "out2").exists()


def test_file_and_total_size_limits(tmp_path):
    big = make_zip(tmp_path / "big.zip", [("cs231n/data.bin", os.urandom(300_000))])
    refused(big, tmp_path / "o1", "'cs231n/data.bin' is 293.0 KiB once unpacked",
            limits=ArchiveLimits(max_file_bytes=100_000))
    total = make_zip(tmp_path / "total.zip", [(f"cs231n/d{i}.bin", os.urandom(60_000)) for i in range(5)])
    refused(total, tmp_path / "o2", "once unpacked (limit", limits=ArchiveLimits(max_total_bytes=200_000))


def test_zip_bomb_entry_is_refused_before_writing(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("cs231n/layers.py", "x"), ("cs231n/bomb.bin", bytes(40 * MiB))])
    assert archive.stat().st_size < 100_000
    refused(archive, tmp_path / "out", "'cs231n/bomb.bin' expands from", "looks like a zip bomb")


def test_many_small_compressible_members_trip_the_overall_ratio(tmp_path):
    entries = [(f"cs231n/part{i}.bin", bytes(MiB - 1)) for i in range(12)]  # each under the per-entry floor
    refused(make_zip(tmp_path / "b.zip", entries), tmp_path / "out", "the archive as a whole expands")


def test_lying_header_is_refused(tmp_path):
    """The central directory declares 100 bytes; the member really holds 300 KB."""
    archive = make_zip(tmp_path / "lie.zip", [("cs231n/layers.py", os.urandom(300_000))],
                       compression=zipfile.ZIP_STORED)
    patch_headers(archive, file_size=100)
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("cs231n/layers.py").file_size == 100
    refused(archive, tmp_path / "out", "'cs231n/layers.py' is corrupt", limits=ArchiveLimits(max_file_bytes=1000))


def test_byte_budget_counts_actual_bytes_and_stops(tmp_path):
    """The streaming copy never trusts a declared size: it stops at the limit."""
    limits = ArchiveLimits(max_file_bytes=200_000)
    budget = Budget(limits, archive_bytes=None)
    target = tmp_path / "out.bin"
    with pytest.raises(ArchiveError, match="larger than 195.3 KiB once unpacked"):
        budget.copy(io.BytesIO(bytes(1_000_000)), target, "cs231n/x.bin", compressed=None)
    assert target.stat().st_size <= limits.max_file_bytes
    total_budget = Budget(ArchiveLimits(max_total_bytes=150_000), archive_bytes=None)
    total_budget.copy(io.BytesIO(bytes(100_000)), tmp_path / "a", "a", None)
    with pytest.raises(ArchiveError, match="larger than 146.5 KiB once unpacked"):
        total_budget.copy(io.BytesIO(bytes(100_000)), tmp_path / "b", "b", None)
    assert (tmp_path / "b").stat().st_size <= 50_000


def test_dest_must_be_empty(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("cs231n/layers.py", "x")])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    with pytest.raises(ValueError):
        safe_extract(archive, tmp_path / "busy")
    (tmp_path / "empty").mkdir()
    bad = make_zip(tmp_path / "bad.zip", [("cs231n/layers.py", "x"), ("../x", "y")])
    with pytest.raises(ArchiveError):
        safe_extract(bad, tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []
