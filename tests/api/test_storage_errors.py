"""Trouble of the service's storage is answered as such (api.errors.unavailable_error): a full disk is a 507,
an unreachable database a 503 with Retry-After, anything else stays the service's own 500. (The end-to-end
cases, a real full tmpfs and a real PostgreSQL stopped under the service, are in tests/hostile/test_faults.py.)"""
from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from api.errors import unavailable_error
from api.writer import refusal


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_a_507(err):
    answer = unavailable_error(OSError(err, "No space left on device"))
    assert (answer.status, answer.code) == (507, "insufficient_storage")
    assert "nothing was recorded" in answer.message


def test_a_full_sqlite_database_is_a_507():
    exc = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))
    assert unavailable_error(exc).status == 507


def test_an_unreachable_database_is_a_503_with_retry_after():
    exc = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    answer = unavailable_error(exc)
    assert (answer.status, answer.code) == (503, "database_unavailable")
    assert answer.headers["Retry-After"].isdigit()
    assert refusal(exc).status == 503                 # what an upload whose row could not be written gets


@pytest.mark.parametrize("exc", [ValueError("x"), OSError(errno.EACCES, "denied"), KeyError("k")])
def test_other_errors_are_not_storage_trouble(exc):
    assert unavailable_error(exc) is None
