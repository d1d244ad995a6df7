"""Pipelined requests (``Sandbox(pipeline=True)``): sent ahead without waiting, answered in order.

The requests whose answer is known in advance (new, put, keep=True calls, setattr, setitem) return at
once; the first error among them is raised by the next request that waits, or by ``flush()``, and each
keeps its own time limit. Runs the real worker (sandboxed when bubblewrap works here).
"""
from __future__ import annotations

import shutil
import textwrap
import time

import numpy as np
import pytest

from grader.sandbox.proxy import (PIPELINE_DEPTH, Handle, Limits, RequestError, Sandbox, StaleHandle, StudentError,
                                  StudentTimeout)

SANDBOXED = shutil.which("bwrap") is not None

CODE = '''
import time
import numpy as np


class Box:
    def __init__(self, value=0, fail=False, sleep=0.0, talk=0):
        if talk:
            print("x" * talk)
        if sleep:
            time.sleep(sleep)
        if fail:
            raise ValueError("the constructor refused")
        self.value = value
        self.params = {"W": np.zeros(3)}

    def total(self):
        return float(self.value + self.params["W"].sum())


class Frozen:
    def __setattr__(self, name, value):
        raise AttributeError(f"{name} is read-only")


def identity(x):
    return x
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    pkg = tmp_path_factory.mktemp("pipeline_pkg") / "cs231n"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "things.py").write_text(textwrap.dedent(CODE))
    return pkg


@pytest.fixture()
def sb(package):
    with Sandbox(package, sandboxed=SANDBOXED, pipeline=True, limits=Limits(timeout=20)) as box:
        box.ping()
        yield box


def test_requests_with_known_answers_do_not_wait_and_run_in_order(sb):
    seq = sb._seq
    box = sb.new("cs231n.things.Box", 2)
    stored = sb.put({"a": np.arange(4.0)})
    sb.setattr(box, "value", 5)
    sb.setitem(box, ("params", "W"), np.ones(3))
    kept = sb.call("cs231n.things.identity", stored, keep=True)
    assert all(isinstance(h, Handle) for h in (box, stored, kept))
    assert len(sb._pending) == 5 and sb._seq == seq + 5    # all sent, none answered yet
    assert sb.call_method(box, "total") == 8.0               # 5 + sum(ones(3)): applied in order
    assert not sb._pending
    np.testing.assert_array_equal(sb.fetch(kept)["a"], np.arange(4.0))


def test_the_first_error_is_raised_by_the_next_waiting_request(sb):
    bad = sb.new("cs231n.things.Box", fail=True)             # returns a Handle at once
    frozen = sb.new("cs231n.things.Frozen")
    sb.setattr(frozen, "x", 1)                               # fails too, but later
    with pytest.raises(StudentError) as e:
        sb.call("cs231n.things.identity", 3)                 # would succeed on its own
    assert e.value.exc_type == "ValueError" and "constructor refused" in e.value.message
    assert "Traceback" in e.value.traceback and "things.py" in e.value.traceback
    with pytest.raises(StaleHandle):                         # the failed constructor left nothing behind
        sb.call_method(bad, "total")
    assert sb.call("cs231n.things.identity", 4) == 4        # nothing left over
    assert sb.starts == 1


def test_flush_raises_the_first_error_and_leaves_nothing_pending(sb):
    frozen = sb.new("cs231n.things.Frozen")
    sb.setattr(frozen, "y", 2)
    with pytest.raises(StudentError, match="read-only"):
        sb.flush()
    assert not sb._pending
    sb.flush()                                               # nothing to wait for: no error, no request
    assert sb.ping() == "pong"


def test_a_hanging_request_sent_ahead_keeps_its_own_time_limit(sb):
    sb.new("cs231n.things.Box", sleep=30, timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(StudentTimeout, match="new cs231n.things.Box exceeded its 1 s"):
        sb.call("cs231n.things.identity", 1, timeout=20)
    assert time.monotonic() - t0 < 5
    assert sb.call("cs231n.things.identity", 2) == 2         # a fresh worker
    assert sb.starts == 2


def test_many_requests_ahead_with_big_arguments_and_output_do_not_deadlock(sb):
    box = sb.new("cs231n.things.Box", talk=60_000)           # about 60 KB of output in its answer
    for i in range(5 * PIPELINE_DEPTH):
        sb.setitem(box, ("params", f"k{i}"), np.full(100_000, float(i)))   # 800 KB per request
        sb.new("cs231n.things.Box", talk=60_000)
        assert len(sb._pending) <= PIPELINE_DEPTH + 1
    params = sb.getattr(box, "params")
    assert sorted(params) == sorted(["W"] + [f"k{i}" for i in range(5 * PIPELINE_DEPTH)])
    assert params["k7"][0] == 7.0


def test_the_worker_refuses_ids_it_does_not_expect(sb):
    def call_as(hid):      # a call that waits for its answer, with an id of the caller's choice
        return sb._request("call", {"target": "cs231n.things.identity", "args": [1], "kwargs": {}, "as": hid}, None)

    for bad in (5, -1, 1.5, "x"):
        with pytest.raises(RequestError, match="'as'"):
            call_as(bad)
    h = sb.new("cs231n.things.Box")
    sb.flush()
    with pytest.raises(RequestError, match="already in use"):
        call_as(h.id)
    assert call_as(h.id + 100) is None                      # kept: the answer is None
    with pytest.raises(RequestError, match="not allowed"):
        sb._request("ping", {"as": h.id + 1}, None)
    assert sb.call_method(h, "total") == 0.0


def test_without_pipeline_every_request_waits(package):
    with Sandbox(package, sandboxed=SANDBOXED, limits=Limits(timeout=20)) as plain:
        with pytest.raises(StudentError, match="constructor refused"):
            plain.new("cs231n.things.Box", fail=True)
        box = plain.new("cs231n.things.Box", 1)
        assert box.id < (1 << 40) and not plain._pending


SUITE = '''
import pytest

from grader.sandbox.proxy import StudentError


@pytest.fixture(scope="session")
def sb():
    return pytest.PIPELINED


def test_ends_with_a_failing_request_sent_ahead(sb):
    frozen = sb.new("cs231n.things.Frozen")
    sb.setattr(frozen, "z", 3)          # fails in the worker; this test waits for nothing else


def test_next(sb):
    assert sb.call("cs231n.things.identity", 7) == 7
'''


def test_the_suite_plugin_charges_a_late_error_to_the_test_that_sent_it(sb, tmp_path):
    """``SuitePlugin.pytest_pyfunc_call`` flushes at the end of each test that used the sandbox."""
    from grader.suites.plugin import SuitePlugin

    suite = tmp_path / "test_late.py"
    suite.write_text(SUITE)
    class FlushOnly:                              # SuitePlugin's own hook, without the rest of the plugin
        _guarded = sb
        pytest_pyfunc_call = SuitePlugin.pytest_pyfunc_call

    plugin = FlushOnly()
    reports = {}

    class Collect:
        @staticmethod
        def pytest_runtest_logreport(report):
            if report.when == "call":
                reports[report.nodeid.split("::")[-1]] = report

    pytest.PIPELINED = sb
    try:
        pytest.main([str(suite), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
                    plugins=[plugin, Collect()])
    finally:
        del pytest.PIPELINED
    first, second = reports["test_ends_with_a_failing_request_sent_ahead"], reports["test_next"]
    assert first.failed and "read-only" in first.longreprtext
    assert second.passed
