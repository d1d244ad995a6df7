"""The battery's catalogue (support.hostile_cases), without a service: every kind of attack the battery must
cover is there, and each case builds the upload it claims (quick: part of ``make test-quick``)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from support.hostile_cases import CASES, CODE_POINTS, NB_POINTS, Target

REQUIRED = {
    "resources": {"cpu_loop", "sleep", "allocate_20gb", "fork_bomb", "disk_fill", "print_1gb", "files_100000",
                  "thread_bomb"},
    "leak": {"read_hidden_suites", "read_references", "read_solutions", "read_other_uploads", "read_database",
             "environment_and_tokens", "proc_of_other_processes", "exfiltrate_by_print"},
    "forgery": {"monkeypatch_numpy", "patch_the_checker", "patch_builtins", "always_equal_object",
                "ndarray_subclass", "nan_arrays", "cached_answers", "write_results_file", "sys_exit_at_import",
                "os_exit_at_import", "signals_to_the_parent", "fake_results_on_stdout"},
    "network": {"connect_to_the_service", "connect_to_redis", "connect_to_postgres", "dns"},
    "archive": {"zip_bomb_flat", "zip_bomb_nested", "path_traversal", "absolute_path", "symlink_entry",
                "duplicate_names", "non_utf8_names", "not_a_zip", "empty_file", "junk_49mb"},
    "notebook": {"notebook_malformed_json", "notebook_500mb_stored_outputs", "notebook_shell_escapes",
                 "notebook_kills_its_kernel", "notebook_never_ends"},
}
HEAVY = {"zip_bomb_flat", "junk_49mb", "junk_49mb_beside_the_code", "notebook_500mb_stored_outputs"}


def test_every_required_attack_is_a_case():
    assert len(CASES) >= 40
    by_group = {}
    for c in CASES:
        by_group.setdefault(c.group, set()).add(c.name)
    for group, names in REQUIRED.items():
        assert names <= by_group.get(group, set()), (group, names - by_group.get(group, set()))
    for c in CASES:
        assert c.prop and (c.expected is None) == (c.status != 202), c.name
        assert c.expected is None or 0 <= c.expected <= CODE_POINTS + NB_POINTS, c.name


@pytest.fixture(scope="module")
def target():
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "course"
    ops = (fixture / "solutions" / "tiny" / "cs231n" / "ops.py").read_text()
    notebook = (fixture / "solutions" / "tinynb" / "Ops.ipynb").read_text()
    return Target(starter=ops, solution=ops, helpers="", notebook=notebook,
                  secret_files={k: [Path("/nonexistent/a"), Path("/nonexistent/b")] for k in
                                ("symlink", "shell", "escape")},
                  ports={"service": 1, "redis": 2, "postgres": 3, "listener": 4},
                  cached={"scale": [1.0], "row_sums": [2.0]})


@pytest.mark.parametrize("case", [c for c in CASES if c.name not in HEAVY], ids=lambda c: c.name)
def test_each_case_builds_its_upload(case, target):
    data = case.build(target)
    if case.status == 202:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
        assert names, case.name
    else:
        assert not data.startswith(b"PK\x03\x04"), case.name
