"""Load benchmark of the grading service: N concurrent clients upload M submissions over loopback.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/service_load.py [--clients 100] [--submissions 100]
        [--workers 2] [--http-workers 2] [--queue local|rq] [--grader-command CMD]

Starts `python -m api serve` (SQLite + local worker pool by default, 2 HTTP processes; `--queue rq` adds a
redis-server and RQ workers) in a temporary data directory, creates one student per client, builds
starter.zip and solutions.zip with `python -m grader make-zips`, makes a few warm-up uploads, then opens one
connection per client and releases all clients at once. Each client uploads its share of the M
submissions (alternating starter/solutions) one after the other. The client is a minimal HTTP/1.1 client on
asyncio streams so that it costs little CPU next to the server it measures on the same machine.

Reports
* acknowledgement latency (request sent -> 202 received): p50 / p95 / p99 / max,
* end-to-end time (first upload -> last submission graded) and graded submissions per minute,
* integrity: every acknowledged id is distinct, appears in the instructor's list, ends `graded` with the
  right score (starter 0, solutions full marks) and has exactly one `graded` attempt in its history
  (nothing lost, nothing graded twice).
Goal: 100 concurrent uploads acknowledged with p99 <= 200 ms, zero lost. The graders run at the CPU priority
the environment sets (``GRADER_GRADER_SCHED_IDLE``, default on; see api/README.md), recorded in the summary.
The summary is printed and written to bench/out/service_load.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]     # api, and the test helpers (support.servers)

import httpx  # noqa: E402

from support.servers import RedisServer, Service, Worker, make_zips  # noqa: E402
from api.settings import load_settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def multipart_request(host: str, port: int, token: str, kind: str, data: bytes) -> bytes:
    """The exact bytes of one upload request (HTTP/1.1, keep-alive, multipart/form-data)."""
    boundary = "----service-load-" + os.urandom(8).hex()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"assignment\"\r\n\r\nassignment2\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{kind}.zip\"\r\n"
            f"Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(v) for k, _, v in (l.partition(":") for l in lines[1:]) if k.lower() == "content-length")
    return status, await reader.readexactly(length)


async def client_run(host: str, port: int, token: str, jobs: list[tuple[str, bytes]], ready: list,
                     start: asyncio.Event, acks: list, failures: list) -> None:
    """One student on its own keep-alive connection: wait for the start signal, then upload one by one.

    A minimal HTTP/1.1 client on asyncio streams (requests prepared in advance), so that the benchmark
    client costs little CPU next to the server it measures on the same machine.
    """
    requests = [(kind, multipart_request(host, port, token, kind, data)) for kind, data in jobs]
    reader, writer = await asyncio.open_connection(host, port)
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # like the web page: who am I, before uploading (connection open, token known to the server)
    writer.write(f"GET /api/v1/me HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    await writer.drain()
    status, _ = await read_response(reader)
    ready.append(1)
    if status != 200:
        failures.append(f"GET /api/v1/me: HTTP {status}")
        writer.close()
        return
    await start.wait()
    try:
        for kind, raw in requests:
            t0 = time.perf_counter()
            try:
                writer.write(raw)
                await writer.drain()
                status, body = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
                failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                return
            dt = time.perf_counter() - t0
            if status != 202:
                failures.append(f"{kind}: HTTP {status} {body[:200]!r}")
                continue
            acks.append((json.loads(body)["id"], kind, dt, time.time()))
    finally:
        writer.close()


async def upload_all(url: str, tokens: list[str], zips: dict[str, Path], total: int):
    """All clients connect, then upload at the same moment; returns (start time, acks, failures)."""
    host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    payload = {k: Path(p).read_bytes() for k, p in zips.items()}
    per_client: list[list[tuple[str, bytes]]] = [[] for _ in tokens]
    for i in range(total):
        kind = "solutions" if i % 2 else "starter"
        per_client[i % len(tokens)].append((kind, payload[kind]))
    start, ready, acks, failures = asyncio.Event(), [], [], []
    tasks = [asyncio.create_task(client_run(host, int(port), tok, jobs, ready, start, acks, failures))
             for tok, jobs in zip(tokens, per_client) if jobs]
    while len(ready) < len(tasks):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    t0 = time.time()
    start.set()
    await asyncio.gather(*tasks)
    return t0, acks, failures


def wait_all_done(client: httpx.Client, ids: set[int], timeout: float) -> tuple[dict[int, dict], float]:
    """Poll the instructor's list until every id is graded or error; returns the rows and the finish time."""
    deadline = time.monotonic() + timeout
    rows: dict[int, dict] = {}
    done: list[dict] = []
    while time.monotonic() < deadline:
        items = client.get("/api/v1/submissions", params={"limit": 1000}).json()["items"]
        rows = {s["id"]: s for s in items if s["id"] in ids}
        done = [s for s in rows.values() if s["status"] in ("graded", "error")]
        if len(done) == len(ids):
            break
        time.sleep(1.0)
    else:
        raise TimeoutError(f"only {len(done)} of {len(ids)} finished after {timeout:.0f} s")
    return rows, time.time()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100, help="concurrent clients (one student each)")
    ap.add_argument("--submissions", type=int, default=100, help="total uploads")
    ap.add_argument("--workers", type=int, default=2, help="grading workers")
    ap.add_argument("--http-workers", type=int, default=2, help="HTTP processes of the service")
    ap.add_argument("--warmup", type=int, default=4, help="uploads before the measured burst (first-use costs)")
    ap.add_argument("--queue", choices=["local", "rq"], default="local")
    ap.add_argument("--grader-command", default=None,
                    help="grader command prefix for the service (default: python -m grader)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds to wait for all grades")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "service_load.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory (job logs)")
    args = ap.parse_args(argv)

    grader_settings = load_settings()        # what the service will read from this environment
    tmp = Path(tempfile.mkdtemp(prefix="service-load-"))
    zips = make_zips(tmp / "zips")
    env = {"GRADER_MAX_IN_FLIGHT": max(5, args.submissions + args.warmup), "GRADER_HTTP_WORKERS": args.http_workers,
           "GRADER_GRADER_COMMAND": args.grader_command}
    started = []
    try:
        if args.queue == "rq":
            redis = RedisServer(tmp / "redis").start()
            started.append(redis)
            env.update(REDIS_URL=redis.url, GRADER_QUEUE="rq")
        svc = Service(tmp / "data", workers=0 if args.queue == "rq" else args.workers, queue=args.queue,
                      env=env).start()
        started.append(svc)
        if args.queue == "rq":
            for i in range(args.workers):
                started.append(Worker(tmp / f"worker-{i}.log", dict(env, GRADER_DATA_DIR=svc.data_dir)).start())
        roster = tmp / "roster.csv"
        roster.write_text("name,role\n" + "".join(f"student{i:03d},student\n" for i in range(args.clients))
                          + "warmup,student\n")
        lines = svc.cli("import-roster", str(roster)).stdout.strip().splitlines()[1:]
        tokens = [line.split(",")[2] for line in lines if line.startswith("student")]
        warm_token = next(line.split(",")[2] for line in lines if line.startswith("warmup"))
        warm_ids = set()
        if args.warmup:                      # first-use costs (imports, statement caches) out of the burst
            _, warm, warm_fail = asyncio.run(upload_all(svc.url, [warm_token] * args.warmup, zips, args.warmup))
            assert not warm_fail, warm_fail
            warm_ids = {a[0] for a in warm}

        print(f"service {svc.url} ({args.queue}, {args.workers} workers); {args.clients} clients upload "
              f"{args.submissions} submissions", flush=True)
        t0, acks, failures = asyncio.run(upload_all(svc.url, tokens, zips, args.submissions))
        lat_ms = [a[2] * 1000 for a in acks]
        acked_at = max(a[3] for a in acks) if acks else t0
        print(f"acknowledged {len(acks)} in {acked_at - t0:.2f} s; p50 {percentile(lat_ms, 50):.0f} ms, "
              f"p95 {percentile(lat_ms, 95):.0f} ms, p99 {percentile(lat_ms, 99):.0f} ms", flush=True)

        ids = {a[0] for a in acks}
        with svc.client(svc.instructor_token, timeout=60) as teacher:
            rows, t_end = wait_all_done(teacher, ids | warm_ids, args.timeout)
            listed_total = teacher.get("/api/v1/submissions", params={"limit": 1}).json()["total"]
            histories = {i: teacher.get(f"/api/v1/submissions/{i}").json() for i in sorted(ids)}
        kinds = {a[0]: a[1] for a in acks}
        graded_once = sum(1 for v in histories.values()
                          if [h["outcome"] for h in v["history"]].count("graded") == 1)
        wrong = [i for i, v in histories.items() if v["status"] != "graded" or v["max_score"] is None
                 or (v["score"] != 0 if kinds[i] == "starter" else abs(v["score"] - v["max_score"]) > 1e-9)]
        grading = [v["grading_seconds"] for v in histories.values() if v["grading_seconds"] is not None]
        summary = {
            "clients": args.clients, "submissions": args.submissions, "workers": args.workers,
            "queue": args.queue, "cpus": os.cpu_count(),
            "grader_command": args.grader_command or "python -m grader",
            # how the graders yield the CPU (GRADER_GRADER_SCHED_IDLE / GRADER_GRADER_NICE, from the environment)
            "grader_priority": "SCHED_IDLE" if grader_settings.grader_sched_idle
            else f"nice {grader_settings.grader_nice}",
            "acknowledged": len(acks), "upload_failures": failures[:10], "n_upload_failures": len(failures),
            "ack_ms": {"p50": percentile(lat_ms, 50), "p95": percentile(lat_ms, 95),
                       "p99": percentile(lat_ms, 99), "max": max(lat_ms), "mean": statistics.fmean(lat_ms)},
            "all_acknowledged_s": acked_at - t0,
            "end_to_end_s": t_end - t0,
            "graded_per_minute": 60 * len(ids) / (t_end - t0),
            "grading_s_median": statistics.median(grading) if grading else None,
            "distinct_ids": len(ids), "listed_total": listed_total, "warmup_uploads": len(warm_ids),
            "http_workers": args.http_workers,
            "lost": sum(1 for i in ids if i not in rows),               # acknowledged, then gone
            "unexpected_rows": listed_total - len(ids) - len(warm_ids),
            "duplicated": len(acks) - len(ids),
            "graded_exactly_once": graded_once, "wrong_or_failed": wrong[:20], "n_wrong_or_failed": len(wrong),
        }
        summary["goal_met"] = (summary["ack_ms"]["p99"] <= 200 and summary["lost"] == 0
                               and summary["duplicated"] == 0 and summary["acknowledged"] == args.submissions)
    finally:
        for thing in reversed(started):
            thing.stop()
        if args.keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    ok = (summary["lost"] == 0 and summary["duplicated"] == 0 and summary["unexpected_rows"] == 0
          and graded_once == len(ids) and not wrong and not failures)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
