"""Command line of the grading service.

    python -m api serve [--host H] [--port P] [--data-dir DIR] [--workers N] [--queue local|rq]
                        [--http-workers N]                   # N > 1: N HTTP processes, one supervisor
    python -m api worker [--queue local|rq] [--burst]        # a grading worker (RQ: on any machine)
    python -m api add-user NAME --role student|instructor    # prints the new token as the last line
    python -m api import-roster FILE.csv [--out TOKENS.csv]  # CSV: header row name,role; then a user per row
    python -m api migrate                                    # apply the schema migrations
    python -m api ping [--url URL] [--sandbox]               # health check (containers)

Settings not given on the command line come from the environment (``GRADER_*``, ``DATABASE_URL``,
``REDIS_URL``; see ``api/settings.py``); data live under ``--data-dir``, ``$GRADER_DATA_DIR`` or ``./var``.
"""
from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import socket
import sys
from pathlib import Path

from .settings import Settings, load_settings


def _settings(args) -> Settings:
    return load_settings(data_dir=getattr(args, "data_dir", None), workers=getattr(args, "workers", None),
                         http_workers=getattr(args, "http_workers", None),
                         queue=getattr(args, "queue", None), database_url=getattr(args, "database_url", None),
                         redis_url=getattr(args, "redis_url", None))


def _migrated_engine(settings: Settings):
    from .db import make_engine, migrate
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    migrate(engine)
    return engine


def cmd_serve(args) -> int:
    from .app import create_app
    from .auth import count_users, create_user
    from .db import make_session_factory

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    settings = _settings(args)
    engine = _migrated_engine(settings)
    with make_session_factory(engine)() as session:
        fresh = count_users(session) == 0
        if fresh:
            instructor_token = create_user(session, "instructor", "instructor")
            student_token = create_user(session, "demo-student", "student")
            session.commit()
    engine.dispose()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without it a keep-alive
    # response written in two segments waits for the client's delayed ACK (~40 ms per request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    url = f"http://{host}:{port}/"
    print(f"data directory: {settings.data_dir}", flush=True)
    print(f"database: {engine.url.render_as_string(hide_password=True)}", flush=True)
    print(f"queue: {settings.queue}" + (f" ({settings.workers} local workers)" if settings.queue == "local"
                                        else f" ({settings.redis_url})")
          + f"; {settings.http_workers} HTTP process(es)", flush=True)
    if fresh:
        print("no users yet; created:", flush=True)
        print(f"instructor token (user 'instructor'): {instructor_token}", flush=True)
        print(f"demo student token (user 'demo-student'): {student_token}", flush=True)
    print(f"grading service at {url}  (API docs: {url}docs)", flush=True)

    if settings.http_workers > 1:
        from .supervisor import run_supervisor
        return run_supervisor(settings, sock, settings.http_workers, args.log_level, args.access_log)
    return _serve_on(create_app(settings, start_workers=True), sock, args)


def cmd_http_worker(args) -> int:
    """One HTTP process of ``serve --http-workers N`` (started by the supervisor, not by hand)."""
    from .app import create_app

    settings = load_settings()
    sock = socket.socket(fileno=args.fd)          # inherited listening socket (family/type/proto detected)
    return _serve_on(create_app(settings, supervised=True), sock, args)


def _serve_on(app, sock, args) -> int:
    """Run ``app`` with uvicorn on the listening socket ``sock`` until it is told to stop."""
    import uvicorn

    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log,
                            timeout_graceful_shutdown=10, backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def cmd_worker(args) -> int:
    from .db import make_engine, wait_for_schema

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    settings = _settings(args)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    wait_for_schema(engine)
    engine.dispose()
    if settings.queue == "rq":
        from .queue.rq import run_rq_worker
        # the RQ job reads its settings from the environment: hand over the command line's choices
        os.environ.update(settings.to_env())
        run_rq_worker(settings, burst=args.burst, name=args.name)
    else:
        from .jobs import JobContext
        from .queue.local import run_local_worker
        run_local_worker(JobContext(settings, kind="local"))
    return 0


def cmd_add_user(args) -> int:
    from .auth import create_user
    from .db import make_session_factory

    settings = _settings(args)
    engine = _migrated_engine(settings)
    with make_session_factory(engine)() as session:
        try:
            token = create_user(session, args.name, args.role)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        session.commit()
    print(f"created {args.role} {args.name!r}; their token (shown only now):")
    print(token)
    return 0


ROSTER_FORMAT = """the roster is a CSV file whose first row is the header; then one user per row:
    name,role
    alice,student
    bob,instructor
'role' is student (the default when the cell or the column is missing) or instructor; other columns are
ignored; a row repeating the header is skipped"""


def roster_rows(text: str) -> str:
    """The roster ``text`` checked for its header row (``name`` and optionally ``role`` columns, any case,
    any order), with rows that repeat the header (files joined together) blanked out: the importer skips
    them instead of creating a user called 'name'. Raises ValueError (with the format) without a header."""
    rows = list(csv.reader(io.StringIO(text)))
    first = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    header = [cell.strip().lower() for cell in rows[first]] if first is not None else []
    if "name" not in header:
        found = ",".join(rows[first]) if first is not None else "an empty file"
        raise ValueError(f"no header row (found {found!r})\n{ROSTER_FORMAT}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i, row in enumerate(rows[first:]):           # from the header on (blank lines before it dropped)
        repeated = i > 0 and [cell.strip().lower() for cell in row] == header
        writer.writerow([] if repeated else row)
    return out.getvalue()


def cmd_import_roster(args) -> int:
    from .auth import import_roster
    from .db import make_session_factory

    settings = _settings(args)
    try:
        text = roster_rows(Path(args.file).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, csv.Error) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    engine = _migrated_engine(settings)
    with make_session_factory(engine)() as session:
        try:
            rows = import_roster(session, text)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        session.commit()
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    writer = csv.writer(out)
    writer.writerow(["name", "role", "token"])
    for name, role, token in rows:
        writer.writerow([name, role, token or ""])
    if args.out:
        out.close()
    created = sum(1 for r in rows if r[2])
    print(f"{created} user(s) created, {len(rows) - created} already existed (token unchanged)", file=sys.stderr)
    return 0


def cmd_migrate(args) -> int:
    settings = _settings(args)
    engine = _migrated_engine(settings)
    print(f"schema up to date: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_ping(args) -> int:
    """Health check for containers: the API's /healthz (--url), or the database, queue and sandbox."""
    if args.url:
        import urllib.request
        try:
            with urllib.request.urlopen(args.url, timeout=5) as r:
                ok = r.status == 200
        except Exception as exc:
            print(f"{args.url}: {exc}", file=sys.stderr)
            return 1
        print(f"{args.url}: {'ok' if ok else 'not ok'}")
        return 0 if ok else 1
    from .db import make_engine, schema_is_current
    settings = _settings(args)
    checks = {"database": schema_is_current(make_engine(settings.db_url))}
    if settings.queue == "rq":
        from redis import Redis
        try:
            checks["redis"] = bool(Redis.from_url(settings.redis_url, socket_timeout=5).ping())
        except Exception:
            checks["redis"] = False
    if args.sandbox:
        try:
            from grader.sandbox.launch import probe
            result = probe()
            checks["sandbox"] = bool(result.get("ok"))
            if not checks["sandbox"]:
                print(f"sandbox: {result.get('reason')}", file=sys.stderr)
        except Exception as exc:
            print(f"sandbox probe failed: {exc}", file=sys.stderr)
            checks["sandbox"] = False
    print(" ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()))
    return 0 if all(checks.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="CS231n grading service")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--data-dir", type=Path,
                       help="uploads, logs, default SQLite (default $GRADER_DATA_DIR or ./var)")
        p.add_argument("--database-url", help="SQLAlchemy URL (default $DATABASE_URL or SQLite in the data dir)")

    p = sub.add_parser("serve", help="run the service (API, web page, local workers)")
    common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    p.add_argument("--workers", type=int, help="local grading worker processes (default $GRADER_WORKERS or 2)")
    p.add_argument("--http-workers", type=int, help="HTTP processes (default $GRADER_HTTP_WORKERS or 1)")
    p.add_argument("--queue", choices=["local", "rq"], help="default $GRADER_QUEUE or local")
    p.add_argument("--redis-url", help="for --queue rq (default $REDIS_URL)")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("http-worker", help=argparse.SUPPRESS)
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--log-level", default="warning")
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_http_worker)

    p = sub.add_parser("worker", help="run one grading worker")
    common(p)
    p.add_argument("--queue", choices=["local", "rq"], help="default $GRADER_QUEUE or local")
    p.add_argument("--redis-url")
    p.add_argument("--burst", action="store_true", help="RQ: exit when the queue is empty")
    p.add_argument("--name", help="RQ worker name")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("add-user", help="create a user and print their token (last line)")
    common(p)
    p.add_argument("name")
    p.add_argument("--role", choices=["student", "instructor"], required=True)
    p.set_defaults(func=cmd_add_user)

    p = sub.add_parser("import-roster", help="create the users of a roster CSV; prints name,role,token",
                       description="Create the users of a roster; prints name,role,token (token empty for names "
                                   "that already existed).\n\n" + ROSTER_FORMAT,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    common(p)
    p.add_argument("file")
    p.add_argument("--out", help="write the tokens CSV here instead of stdout")
    p.set_defaults(func=cmd_import_roster)

    p = sub.add_parser("ping", help="health check: --url URL, or database/queue (and --sandbox)")
    common(p)
    p.add_argument("--url", help="check this /healthz URL instead")
    p.add_argument("--queue", choices=["local", "rq"])
    p.add_argument("--redis-url")
    p.add_argument("--sandbox", action="store_true", help="also run the grader's sandbox probe")
    p.set_defaults(func=cmd_ping)

    p = sub.add_parser("migrate", help="apply database migrations")
    common(p)
    p.set_defaults(func=cmd_migrate)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
