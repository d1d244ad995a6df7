"""Load benchmark with hostile submissions: C concurrent clients upload N submissions (correct, partial and
hostile mixed) to a real service with W local workers, and every one must be graded exactly once.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/hostile_load.py [--submissions 500] [--clients 50]
        [--workers 2] [--hostile 0.25] [--partial 0.25] [--notebooks]

The assignment is the fixture course's ``tinynb`` (tests/fixtures/course: two functions, limits of seconds;
code questions only unless ``--notebooks``), so a correct grade takes about a second and a hostile one a few
(its time limits). The hostile submissions are cases of the hostile battery (``tests/support/hostile_cases.py``:
endless loops, sleeps, fork and thread bombs, 1 GB printed, a 20 GB allocation, os._exit, patched numpy...),
each with the score its code earns without the attack. Each client is one student uploading its share one
after the other (the per-student in-flight limit is raised so that nobody is refused).

Reports (printed, and written to bench/out/hostile_load.json):
* integrity: every acknowledged id distinct, graded, with exactly one 'graded' attempt, at its expected score
  (correct ones at full marks);
* throughput: graded submissions per minute, from the first upload to the last result;
* acknowledgement latency (request sent -> 202) and end-to-end latency (upload -> result stored): p50, p99, max;
* waiting: queue wait of honest jobs (p50, p99, max) and the longest time an honest job waited while hostile
  jobs of other students held the workers (hostile worker-seconds during its wait, divided by the workers),
  beside the grade times of honest and hostile jobs, so one reads it in "grades". Every upload arrives at
  once, so an honest job also waits, by right, for every student's earlier uploads, hostile ones included;
  what fair scheduling bounds is the wait behind hostile jobs *out of turn*: later uploads of other students
  (a later round of the round-robin by student) that started while it waited
  (``longest_wait_behind_later_hostile_in_honest_grades``; the goal: at most one grade).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]     # api, and the test helpers (support.*)

import httpx  # noqa: E402

from support.course import make_course  # noqa: E402
from support.hostile_cases import ASSIGNMENT, BY_NAME, CODE_POINTS, Target, package  # noqa: E402
from support.servers import Service, make_zips  # noqa: E402

HOSTILE = ["cpu_loop", "sleep", "fork_bomb", "thread_bomb", "print_1gb", "allocate_20gb", "os_exit_in_call",
           "monkeypatch_numpy", "cpu_loop_at_import", "nan_arrays", "signals_to_the_parent", "files_100000"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def stamp(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def build_mix(course: Path, zips: dict, n: int, hostile: float, partial: float, seed: int):
    """``n`` uploads: (kind, archive bytes, expected score), shuffled with ``seed``."""
    solution = (course / "solutions" / "tiny" / "cs231n" / "ops.py").read_text()
    starter = (course / "starter" / ASSIGNMENT / "cs231n" / "ops.py").read_text()
    t = Target(starter=starter, solution=solution, notebook="",
               helpers=(course / "starter" / ASSIGNMENT / "cs231n" / "helpers.py").read_text())
    correct = zips["solutions"].read_bytes()
    # partial: the starter's scale (0 of 2) and the solution's row_sums (3 of 3)
    row_sums = solution[solution.index("def row_sums"):]
    partial_zip = package(t, starter + "\n\n" + row_sums)
    rng = random.Random(seed)
    n_hostile, n_partial = round(n * hostile), round(n * partial)
    mix = []
    for i in range(n_hostile):
        case = BY_NAME[HOSTILE[i % len(HOSTILE)]]
        mix.append((f"hostile:{case.name}", case.build(t), case.expected))
    mix += [("partial", partial_zip, 3.0)] * n_partial
    mix += [("correct", correct, CODE_POINTS)] * (n - n_hostile - n_partial)
    rng.shuffle(mix)
    return mix


async def client(url: str, token: str, jobs: list, start: asyncio.Event, acks: list, failures: list):
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
        await start.wait()
        for kind, data, expected in jobs:
            t0 = time.monotonic()
            r = await c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                             files={"file": (f"{kind.replace(':', '-')}.zip", data, "application/zip")})
            if r.status_code != 202:
                failures.append((kind, r.status_code, r.text[:200]))
                continue
            acks.append({"id": r.json()["id"], "kind": kind, "expected": expected, "token": token,
                         "ack": time.monotonic() - t0})


async def run(svc: Service, tokens: list[str], mix: list) -> tuple[list, list, float, float]:
    shares = [mix[i::len(tokens)] for i in range(len(tokens))]
    start, acks, failures = asyncio.Event(), [], []
    tasks = [asyncio.create_task(client(svc.url, tok, share, start, acks, failures))
             for tok, share in zip(tokens, shares)]
    await asyncio.sleep(0.5)
    t0 = time.time()
    start.set()
    await asyncio.gather(*tasks)
    return acks, failures, t0, time.time()


def wait_all(svc: Service, ids: set[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with svc.client(svc.instructor_token) as t:
        while time.monotonic() < deadline:
            done = 0
            for status in ("graded", "error"):
                done += t.get("/api/v1/submissions", params={"status": status, "limit": 1}).json()["total"]
            if done >= len(ids):
                return
            time.sleep(2)
    raise TimeoutError(f"not every submission finished within {timeout:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=500)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--hostile", type=float, default=0.25, help="share of hostile submissions")
    ap.add_argument("--partial", type=float, default=0.25, help="share of partially correct ones")
    ap.add_argument("--notebooks", action="store_true", help="grade the notebook too (hostile ones have none)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "hostile_load.json"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hostile-load-") as tmp:
        tmp = Path(tmp)
        course = make_course(tmp)
        zips = make_zips(tmp / "zips", ASSIGNMENT, env={"GRADER_COURSE_DIRS": course})
        mix = build_mix(course, zips, args.submissions, args.hostile, args.partial, args.seed)
        if args.notebooks:
            print("note: hostile and partial uploads hold no notebook; correct ones do", file=sys.stderr)
        svc = Service(tmp / "svc", workers=args.workers, env={
            "GRADER_COURSE_DIRS": course, "GRADER_GRADE_NOTEBOOKS": int(args.notebooks),
            "GRADER_MAX_IN_FLIGHT": args.submissions + 1}).start()
        try:
            roster = tmp / "roster.csv"
            roster.write_text("name,role\n" + "".join(f"load-{i},student\n" for i in range(args.clients)))
            out = svc.cli("import-roster", str(roster)).stdout.strip().splitlines()[1:]
            tokens = [line.split(",")[2] for line in out]
            acks, failures, t0, t_sent = asyncio.run(run(svc, tokens, mix))
            ids = {a["id"] for a in acks}
            wait_all(svc, ids, args.timeout)
            with svc.client(svc.instructor_token) as t:
                views = {a["id"]: t.get(f"/api/v1/submissions/{a['id']}").json() for a in acks}
        finally:
            svc.stop()

    # ------------------------------------------------------------------------------------ integrity
    problems = list(failures)
    if len(ids) != len(acks):
        problems.append(("duplicate ids", len(acks) - len(ids)))
    for a in acks:
        v = views[a["id"]]
        outcomes = [h["outcome"] for h in v["history"] or []]
        if v["status"] != "graded" or outcomes.count("graded") != 1:
            problems.append((a["kind"], a["id"], v["status"], outcomes))
        elif abs(v["score"] - a["expected"]) > 1e-9:
            problems.append((a["kind"], a["id"], "score", v["score"], "expected", a["expected"],
                             "grading_seconds", v["grading_seconds"],
                             [(t["name"], t["score"], (t["output"] or "")[:300]) for t in v["tests"]]))

    # ------------------------------------------------------------------------------------- timings
    finished = [stamp(v["finished_at"]) for v in views.values() if v["finished_at"]]
    first = min(stamp(v["created_at"]) for v in views.values())
    span = max(finished) - first
    e2e = [stamp(v["finished_at"]) - stamp(v["created_at"]) for v in views.values() if v["finished_at"]]
    ack = [a["ack"] for a in acks]
    kind_of = {a["id"]: a["kind"] for a in acks}
    owner = {a["id"]: a["token"] for a in acks}
    runs = {sid: (stamp(v["started_at"]), stamp(v["finished_at"])) for sid, v in views.items()
            if v["started_at"] and v["finished_at"]}
    honest = [sid for sid in views if not kind_of[sid].startswith("hostile")]
    hostile = [sid for sid in views if kind_of[sid].startswith("hostile")]
    waits = {sid: views[sid]["queue_seconds"] or 0.0 for sid in honest}
    behind = {}
    for sid in honest:
        start_wait, end_wait = stamp(views[sid]["created_at"]), runs[sid][0] if sid in runs else first
        busy = 0.0
        for hid in hostile:
            if owner[hid] == owner[sid] or hid not in runs:
                continue
            a, b = runs[hid]
            busy += max(0.0, min(b, end_wait) - max(a, start_wait))
        behind[sid] = busy / args.workers
    # Out of turn: hostile jobs of other students that started while an honest job waited although they were
    # a later upload of their student than the honest job of its own (a later round of the round-robin).
    turn = {}
    for token in set(owner.values()):
        mine = sorted((sid for sid in views if owner[sid] == token), key=lambda s: (stamp(views[s]["created_at"]), s))
        turn.update({sid: i for i, sid in enumerate(mine, 1)})
    overtaken = {}
    for sid in honest:
        start_wait, end_wait = stamp(views[sid]["created_at"]), runs[sid][0] if sid in runs else first
        busy = 0.0
        for hid in hostile:
            if owner[hid] == owner[sid] or hid not in runs or turn[hid] <= turn[sid]:
                continue
            a, b = runs[hid]
            if start_wait <= a < end_wait:
                busy += min(b, end_wait) - a
        overtaken[sid] = busy / args.workers
    grade_honest = [views[s]["grading_seconds"] for s in honest if views[s]["grading_seconds"] is not None]
    grade_hostile = [views[s]["grading_seconds"] for s in hostile if views[s]["grading_seconds"] is not None]

    def p(values):
        return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3),
                "max": round(max(values), 3)} if values else {}

    summary = {
        "submissions": len(mix), "acknowledged": len(acks), "clients": args.clients, "workers": args.workers,
        "mix": {"hostile": len(hostile), "partial": sum(k == "partial" for k in kind_of.values()),
                "correct": sum(k == "correct" for k in kind_of.values())},
        "notebooks": args.notebooks,
        "integrity_problems": problems[:20], "integrity_ok": not problems,
        "throughput_per_minute": round(len(finished) / span * 60, 1),
        "span_seconds": round(span, 1), "upload_seconds": round(t_sent - t0, 2),
        "ack_seconds": p(ack), "end_to_end_seconds": p(e2e),
        "honest_queue_wait_seconds": p(list(waits.values())),
        "honest_wait_behind_hostile_seconds": p(list(behind.values())),
        "honest_wait_behind_later_hostile_seconds": p(list(overtaken.values())),
        "grade_seconds_honest": p(grade_honest), "grade_seconds_hostile": p(grade_hostile),
    }
    if grade_hostile:
        summary["longest_wait_behind_hostile_in_hostile_grades"] = round(
            max(behind.values()) / percentile(grade_hostile, 50), 2)
        summary["longest_wait_behind_later_hostile_in_honest_grades"] = round(
            max(overtaken.values()) / percentile(grade_honest, 50), 2)
    text = json.dumps(summary, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
