"""The grader as a child process (``grader.child``), as the service's workers and ``grade-batch`` run it.

Stand-in grader commands (small Python scripts) stand for ``python -m grader grade``: one that writes
valid results, one that fails, one that hangs with a grandchild, one that floods its log. The real grader
runs under the same code in test_service.py, test_recovery.py and test_scheduling.py.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from grader import batch
from grader.child import (GradeFailed, Priority, ResultsError, child_env, grade_argv, read_results,
                          run_grade)
from grader.scoring import ExtraData, QuestionScore, Results
from grader.scoring import TestResult as GraderTest


def valid_results(score: float = 3.0) -> Results:
    return Results(score=score, execution_time=0.5, output="Score: 3 / 4",
                   tests=[GraderTest(name="Q1 One: t", number="1.1", score=score, max_score=4.0,
                                     status="passed" if score == 4.0 else "failed")],
                   extra_data=ExtraData(assignment="some", max_score=4.0,
                                        questions=[QuestionScore(id="Q1", title="One", score=score, max_score=4.0)]))


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    """``[python, tmp_path/name.py]``: a stand-in grade command whose arguments follow (``--out`` ...)."""
    path = tmp_path / f"{name}.py"
    path.write_text("import os, sys, time\nargs = sys.argv[1:]\nout = args[args.index('--out') + 1]\n" + body)
    return [sys.executable, str(path)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_command_line_and_environment():
    argv = grade_argv("sub.zip", "some", "r.json", command=["grade-it", "-v"], notebooks=False, train_ahead=False)
    assert argv == ["grade-it", "-v", "grade", "sub.zip", "--assignment", "some", "--out", "r.json",
                    "--no-notebooks", "--no-train-ahead"]
    assert grade_argv("s", "a", "o")[:3] == [sys.executable, "-m", "grader"] and "--no-notebooks" not in grade_argv(
        "s", "a", "o")
    env = child_env({"PYTHONPATH": "elsewhere", "KEEP": "1"})
    assert env["KEEP"] == "1" and env["OPENBLAS_NUM_THREADS"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONPATH"].split(os.pathsep)[1:] == ["elsewhere"]


def test_a_grade_returns_its_validated_results(tmp_path):
    canned = tmp_path / "canned.json"
    canned.write_text(valid_results().model_dump_json())
    out = tmp_path / "results.json"
    out.write_text("stale")                          # never taken for this run's results
    argv = script(tmp_path, "ok", f"print('grading', args[0]); open(out, 'w').write(open({str(canned)!r}).read())\n")
    graded = run_grade(argv + ["grade", "s.zip", "--out", str(out)], out, tmp_path / "log", timeout=30,
                       cwd=tmp_path)
    assert isinstance(graded.results, Results) and graded.results.score == 3.0
    assert graded.results.extra_data.questions[0].id == "Q1" and graded.seconds > 0
    assert "grading grade" in graded.log_tail()

    quiet = script(tmp_path, "quiet", "pass\n")
    with pytest.raises(GradeFailed, match=r"no valid results file \(there is no results.json\)") as err:
        run_grade(quiet + ["--out", str(out)], out, tmp_path / "log", timeout=30)
    assert err.value.returncode == 0 and not err.value.retryable and not err.value.timed_out


def test_invalid_results_are_a_clear_error(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{not json")
    with pytest.raises(ResultsError, match="results.json is not valid results: .*(JSON|json)"):
        read_results(path)
    path.write_text('{"score": 1, "tests": []}')
    with pytest.raises(ResultsError, match="execution_time: Field required") as err:
        read_results(path)
    assert "more" in str(err.value) or "extra_data" in str(err.value)
    with pytest.raises(ResultsError, match="there is no"):
        read_results(tmp_path / "absent.json")
    path.write_text(valid_results().model_dump_json())
    assert read_results(path) == valid_results()


def test_failures_say_what_happened(tmp_path):
    out = tmp_path / "results.json"
    for code, retryable in ((3, False), (2, True)):
        argv = script(tmp_path, f"exit{code}", f"print('trouble {code}'); sys.exit({code})\n")
        with pytest.raises(GradeFailed, match=f"the grader exited with status {code}") as err:
            run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=30)
        assert err.value.returncode == code and err.value.retryable is retryable
        assert f"trouble {code}" in err.value.log_tail()
    argv = script(tmp_path, "killed", "os.kill(os.getpid(), 9)\n")
    with pytest.raises(GradeFailed, match="killed by signal SIGKILL"):
        run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=30)


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    out, pid_file = tmp_path / "results.json", tmp_path / "grandchild.pid"
    argv = script(tmp_path, "hang", "import subprocess\n"
                  "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                  f"open({str(pid_file)!r}, 'w').write(str(p.pid))\ntime.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(GradeFailed, match="timed out after 2 s") as err:
        run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=2)
    assert err.value.timed_out and err.value.returncode is None and time.monotonic() - started < 10
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "the grader's child outlived the timeout"


def test_what_the_watch_raises_stops_the_grade(tmp_path):
    out = tmp_path / "results.json"
    argv = script(tmp_path, "slow", "print(os.getpid(), flush=True); time.sleep(60)\n")
    calls = []

    def watch():
        calls.append(time.monotonic())
        if len(calls) == 3:
            raise SystemExit("asked to stop")

    started = time.monotonic()
    with pytest.raises(SystemExit, match="asked to stop"):
        run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=60, watch=watch, watch_every=0.1)
    assert time.monotonic() - started < 5 and len(calls) == 3
    assert not alive(int((tmp_path / "log").read_text().split()[0]))


def test_priority_and_log_cap(tmp_path):
    out = tmp_path / "results.json"
    argv = script(tmp_path, "report", "print('policy', os.sched_getscheduler(0), 'nice', os.nice(0))\n"
                  "sys.stdout.write('y' * 3_000_000)\nsys.exit(3)\n")
    with pytest.raises(GradeFailed) as err:
        run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=30,
                  priority=Priority(die_with_parent=True, sched_idle=True), log_cap=1 << 20)
    log = (tmp_path / "log").read_bytes()
    assert f"policy {os.SCHED_IDLE} ".encode() in log[:100]
    assert len(log) < (1 << 20) + 100 and b"[log truncated]" in log and log.endswith(b"y" * 1000)
    assert err.value.log_tail(10) == "y" * 10
    with pytest.raises(GradeFailed):
        run_grade(argv + ["--out", str(out)], out, tmp_path / "log", timeout=30, priority=Priority(nice=4))
    assert f"policy 0 nice {min(19, os.nice(0) + 4)}".encode() in (tmp_path / "log").read_bytes()[:100]


def test_grade_batch_runs_its_grades_the_same_way(tmp_path):
    """grader.batch.grade_one through grader.child: graded, failed (exit status and log in the message), timeout."""
    canned = tmp_path / "canned.json"
    canned.write_text(valid_results(4.0).model_dump_json())
    commands = {
        "good": script(tmp_path, "good", f"open(out, 'w').write(open({str(canned)!r}).read())\n"),
        "crash": script(tmp_path, "crash", "print('boom'); os._exit(3)\n"),
        "hang": script(tmp_path, "hang", "time.sleep(60)\n"),
    }
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in commands:
        (subs / f"{name}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)

    def command(sub, assignment, results_path):
        assert batch.grade_command(sub, assignment, results_path)[-1] == "--no-train-ahead"
        return commands[sub.name] + ["grade", str(sub.path), "--assignment", assignment, "--out", str(results_path)]

    summary = batch.grade_batch(subs, assignment="some", out_dir=tmp_path / "out", jobs=3, timeout=3,
                                progress=False, command=command)
    by_name = {o.submission.name: o for o in summary.outcomes}
    assert {n: o.status for n, o in by_name.items()} == {"good": "graded", "crash": "failed", "hang": "timeout"}
    assert by_name["good"].results["score"] == 4.0 and by_name["good"].results["extra_data"]["questions"]
    assert "status 3" in by_name["crash"].message and "boom" in by_name["crash"].message
    assert "longer than 3 s" in by_name["hang"].message
    assert batch.already_graded(batch.Submission("good", subs / "good.zip"), tmp_path / "out" / "good")["score"] == 4.0
    (tmp_path / "out" / "good" / "results.json").write_text('{"score": 4}')       # damaged: graded again
    assert batch.already_graded(batch.Submission("good", subs / "good.zip"), tmp_path / "out" / "good") is None
