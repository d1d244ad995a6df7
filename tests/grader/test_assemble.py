"""grader.assemble: finding the package in a submission, assembling what the sandbox imports."""
from __future__ import annotations

import os
import stat

import pytest

from grader.assemble import assemble_package, locate_file, locate_notebooks, locate_package
from grader.unpack import ArchiveError

from support.archives import GRADED, PACKAGE_FILES, files_under, write_tree


# ------------------------------------------------------------------------------------------------
# locating the package and the notebooks
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["", "assignment2/", "Assignments/a2/", "My Drive/cs231n-hw/"])
def test_package_is_found_in_common_layouts(tmp_path, prefix):
    write_tree(tmp_path, {prefix + k: v for k, v in PACKAGE_FILES.items()})
    assert locate_package(tmp_path, GRADED) == tmp_path / prefix / "cs231n"


def test_package_content_at_the_root_is_found(tmp_path):
    write_tree(tmp_path, {k.removeprefix("cs231n/"): v for k, v in PACKAGE_FILES.items()})
    assert locate_package(tmp_path, GRADED) == tmp_path


def test_the_most_complete_then_shallowest_package_wins(tmp_path):
    write_tree(tmp_path, {"old/cs231n/layers.py": "x", **{"deep/er/" + k: v for k, v in PACKAGE_FILES.items()}})
    assert locate_package(tmp_path, GRADED) == tmp_path / "deep/er/cs231n"
    write_tree(tmp_path, {"a/" + k: v for k, v in PACKAGE_FILES.items()})
    assert locate_package(tmp_path, GRADED) == tmp_path / "a/cs231n"


def test_equally_good_packages_are_reported(tmp_path):
    write_tree(tmp_path, {p + k: v for p in ("copy1/", "copy2/") for k, v in PACKAGE_FILES.items()})
    with pytest.raises(ArchiveError) as info:
        locate_package(tmp_path, GRADED)
    assert "'copy1/cs231n', 'copy2/cs231n'" in str(info.value)
    assert "keep only the one" in str(info.value)


def test_missing_package_lists_the_top_level(tmp_path):
    write_tree(tmp_path, {"hw/notes.txt": "x", "readme.md": "x", "hw/layers_backup.py": "x"})
    with pytest.raises(ArchiveError) as info:
        locate_package(tmp_path, GRADED)
    message = str(info.value)
    assert "looked for a folder named 'cs231n' containing one of" in message
    assert "'hw/', 'readme.md'" in message


def test_notebooks_beside_the_package_come_first(tmp_path):
    write_tree(tmp_path, {
        **{"sub/" + k: v for k, v in PACKAGE_FILES.items()},
        "Dropout.ipynb": "{}", "sub/Dropout.ipynb": "{}",
        "other/deep/BatchNormalization.ipynb": "{}",
        "x/convolutionalnetworks.IPYNB": "{}",
    })
    package = locate_package(tmp_path, GRADED)
    found = locate_notebooks(tmp_path, ["Dropout.ipynb", "BatchNormalization", "ConvolutionalNetworks.ipynb",
                                        "FullyConnectedNets.ipynb"], package)
    assert found == {
        "Dropout.ipynb": tmp_path / "sub/Dropout.ipynb",
        "BatchNormalization": tmp_path / "other/deep/BatchNormalization.ipynb",
        "ConvolutionalNetworks.ipynb": tmp_path / "x/convolutionalnetworks.IPYNB",
    }
    assert locate_file(tmp_path, "Dropout.ipynb") == tmp_path / "Dropout.ipynb"  # shallowest without `near`


# ------------------------------------------------------------------------------------------------
# assembling the package
# ------------------------------------------------------------------------------------------------
PROVIDED = {
    **PACKAGE_FILES,
    "cs231n/solver.py": "class Solver:\n    pass\n",
    "cs231n/data_utils.py": "def get_assignment_data():\n    pass\n",
    "cs231n/datasets/get_datasets.sh": "#!/bin/sh\n",
}


def test_assembly_takes_graded_files_from_the_submission_only(tmp_path):
    provided = write_tree(tmp_path / "starter", PROVIDED) / "cs231n"
    student = write_tree(tmp_path / "sub", {
        "a2/cs231n/layers.py": "# mine\n",
        "a2/cs231n/layer_utils.py": "# mine too\n",
        "a2/cs231n/classifiers/fc_net.py": "# my net\n",
        "a2/cs231n/solver.py": "import os; os.system('rm -rf /')\n",
        "a2/cs231n/data_utils.py": PROVIDED["cs231n/data_utils.py"],
        "a2/cs231n/extra.py": "# extra\n",
        "a2/best_model.npz": "npz",
    }) / "a2" / "cs231n"
    dest = tmp_path / "run" / "cs231n"
    report = assemble_package(student, provided, GRADED, dest, best_model="best_model.npz")

    assert files_under(dest) == sorted(k.removeprefix("cs231n/") for k in PROVIDED)
    assert (dest / "layers.py").read_text() == "# mine\n"
    assert (dest / "classifiers/fc_net.py").read_text() == "# my net\n"
    assert (dest / "optim.py").read_text() == PROVIDED["cs231n/optim.py"]  # missing -> starter's version
    assert (dest / "solver.py").read_text() == PROVIDED["cs231n/solver.py"]  # provided -> grader's copy
    assert not (dest / "extra.py").exists()
    assert report.from_submission == ["classifiers/fc_net.py", "layer_utils.py", "layers.py"]
    assert report.missing == ["optim.py"] and report.substituted == ["optim.py"]
    assert report.ignored == ["data_utils.py", "extra.py", "solver.py"]
    assert report.extra == ["extra.py"]
    assert report.provided_changed == ["solver.py"]
    assert report.best_model == student.parent / "best_model.npz"
    assert report.created == []
    for path in [dest, *dest.rglob("*")]:
        st = path.lstat()
        assert not stat.S_ISLNK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == (0o755 if path.is_dir() else 0o644)
        if path.is_file():
            assert st.st_nlink == 1  # a copy, not a hard link
    assert (student / "layers.py").stat().st_ino != (dest / "layers.py").stat().st_ino


def test_assembly_rejects_links_and_oversized_graded_files_and_creates_inits(tmp_path):
    provided_files = {k: v for k, v in PROVIDED.items() if k != "cs231n/classifiers/__init__.py"}
    provided = write_tree(tmp_path / "starter", provided_files) / "cs231n"
    student = write_tree(tmp_path / "sub", {
        "cs231n/layers.py": "x = 1\n" * 100_000,
        "cs231n/classifiers/fc_net.py": "# net\n",
    }) / "cs231n"
    (tmp_path / "secret").write_text("secret")
    os.symlink(tmp_path / "secret", student / "optim.py")
    os.mkdir(student / "layer_utils.py")
    report = assemble_package(student, provided, GRADED, tmp_path / "run" / "cs231n",
                              max_file_bytes=100_000, search_root=tmp_path / "sub")
    dest = report.package
    assert report.rejected == {
        "layer_utils.py": "it is not a regular file",
        "layers.py": "it is larger than 97.7 KiB",
        "optim.py": "it is (or is inside) a link",
    }
    assert report.from_submission == ["classifiers/fc_net.py"]
    assert report.substituted == ["layer_utils.py", "layers.py", "optim.py"]
    assert (dest / "optim.py").read_text() == PROVIDED["cs231n/optim.py"]
    assert (dest / "layers.py").read_text() == PROVIDED["cs231n/layers.py"]
    assert report.created == ["classifiers/__init__.py"]
    assert (dest / "classifiers/__init__.py").read_bytes() == b""
    assert report.best_model is None


def test_assembly_without_a_submitted_package_uses_the_starter(tmp_path):
    provided = write_tree(tmp_path / "starter", PROVIDED) / "cs231n"
    write_tree(tmp_path / "sub", {"notes/best_model.npz": "npz"})
    report = assemble_package(None, provided, GRADED, tmp_path / "run" / "cs231n", search_root=tmp_path / "sub",
                              best_model="best_model.npz")
    assert report.missing == sorted(GRADED) and report.from_submission == []
    assert files_under(report.package) == sorted(k.removeprefix("cs231n/") for k in PROVIDED)
    assert report.best_model == tmp_path / "sub/notes/best_model.npz"
