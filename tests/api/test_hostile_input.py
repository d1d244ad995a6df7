"""The service against a hostile client, on SQLite and on a real PostgreSQL (``initdb`` + ``postgres``).

* An upload whose file name the database refuses (a NUL byte: PostgreSQL text cannot hold one) must not
  take the honest uploads written in the same batch (one transaction per batch, ``api/writer.py``) down
  with it: the name is cleaned, and a row the database still refuses fails alone.
* Values out of the database's range (ids, offsets) or that it cannot hold (NUL in a query value) are
  answered at the edge: 404 for an id that cannot exist, 422 (the documented ``{"detail", "code"}``) for a
  bad query value, never a 500.
* ``OPTIONS`` and 405 answers list every method the path allows (``Allow``).
"""
from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter

import httpx
import psycopg
import pytest

from api.auth import create_user
from api.db import make_engine, make_session_factory, migrate
from api.errors import APIError
from api.models import Submission, User
from api.settings import load_settings
from api.storage import clean_filename
from api.writer import SubmissionWriter
from sqlalchemy import func, select
from support.hostile import apost_raw, assert_error, post_raw, tiny_zip
from support.servers import PostgresServer, Service, postgres_bindir

needs_postgres = pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL binaries not installed")
IN_FLIGHT = 10_000                     # these tests upload a lot and grade nothing


# ---------------------------------------------------------------------------------------------- servers

@pytest.fixture(scope="module")
def pg():
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL binaries not installed")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_service(pg, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-pg")
    svc = Service(root / "data", workers=0,
                  env={"DATABASE_URL": pg.url, "GRADER_MAX_IN_FLIGHT": IN_FLIGHT}).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def sqlite_service(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-sqlite")
    svc = Service(root / "data", workers=0,
                  env={"GRADER_MAX_IN_FLIGHT": IN_FLIGHT}).start()
    yield svc
    svc.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def service(request):
    return request.getfixturevalue("pg_service" if request.param == "postgresql" else "sqlite_service")


def pg_rows(pg: PostgresServer, sql: str, *params):
    with psycopg.connect(pg.url.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute(sql, params).fetchall()


# ------------------------------------------------------------------------------ 1. one bad row, one batch

def test_clean_filename_strips_control_characters_and_caps_the_length():
    assert clean_filename("a\x00b.zip") == "ab.zip"
    assert clean_filename("\x1b[31mred\x7f.zip\r\n") == "[31mred.zip"
    assert clean_filename("\u202egpj.zip\u2066") == "gpj.zip"                 # bidi overrides / isolates
    assert clean_filename("C:\\Users\\x\\..\\sub.zip") == "sub.zip"
    assert clean_filename("../../etc/passwd") == "passwd"
    for empty in ("", "\x00\x01", " / ", "..", "a/.", "\u200f"):
        assert clean_filename(empty) == "submission.zip", repr(empty)
    long = clean_filename("x" * 1000 + ".zip")
    assert len(long) == 255 and long.endswith(".zip")
    assert clean_filename("é" * 300) == "é" * 255                               # characters, not bytes
    assert clean_filename("ordinary name (2).zip") == "ordinary name (2).zip"


@pytest.mark.parametrize("db", ["sqlite-driver", "sqlite-core", pytest.param("postgresql", marks=needs_postgres)])
def test_a_row_the_database_refuses_fails_alone_in_its_batch(db, request, tmp_path):
    """One batch (the rows are queued before the writer's thread starts): honest rows of three students, a
    file name with a NUL byte (which PostgreSQL refuses) and a row of a user who no longer exists (the
    foreign key refuses it). Each honest row is recorded exactly once; the NUL row is a 422 where the
    database cannot store it; the orphan fails alone."""
    if db == "postgresql":                        # a database of its own in the cluster (not the service's)
        server = request.getfixturevalue("pg")
        with psycopg.connect(server.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'writer'").fetchone():
                conn.execute("CREATE DATABASE writer")
        url = server.url.rsplit("/", 1)[0] + "/writer"
    else:
        settings = load_settings(data_dir=tmp_path)
        settings.ensure_dirs()
        url = settings.db_url
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    tag = f"{db}-{secrets.token_hex(4)}"
    with sessions() as s:
        for i in range(3):
            create_user(s, f"writer-{tag}-{i}", "student")
        s.commit()
        uids = s.scalars(select(User.id).where(User.name.like(f"writer-{tag}-%")).order_by(User.id)).all()
        ghost = (s.scalar(select(func.max(User.id))) or 0) + 1000
    writer = SubmissionWriter(engine, max_in_flight=IN_FLIGHT)
    writer._sqlite = writer._sqlite and db == "sqlite-driver"
    rows = [(uids[i % 3], f"{tag}-honest-{i}.zip") for i in range(12)]
    rows.insert(4, (uids[0], f"{tag}-evil\x00.zip"))
    rows.insert(9, (ghost, f"{tag}-orphan.zip"))

    async def burst():
        tasks = [asyncio.ensure_future(writer.add(user_id=uid, assignment="assignment2", filename=name,
                                                  sha256="a" * 64, size=10, queue_ref=None))
                 for uid, name in rows]
        await asyncio.sleep(0)                      # every row is queued: they form one batch
        writer.start()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        outcomes = asyncio.run(burst())
    finally:
        writer.stop()
    try:
        by_name = dict(zip((name for _, name in rows), outcomes))
        evil, orphan = by_name.pop(f"{tag}-evil\x00.zip"), by_name.pop(f"{tag}-orphan.zip")
        assert all(isinstance(o, tuple) for o in by_name.values()), by_name
        assert len({o[0] for o in by_name.values()}) == len(by_name)
        with sessions() as s:
            stored = Counter(s.scalars(select(Submission.original_name)
                                       .where(Submission.original_name.like(f"{tag}-%"))).all())
        for name in by_name:
            assert stored[name] == 1, (name, stored)
        assert isinstance(orphan, Exception) and f"{tag}-orphan.zip" not in stored
        if db == "postgresql":
            assert isinstance(evil, APIError) and evil.status == 422, evil
            assert evil.code == "unstorable_upload"
        else:                                      # SQLite stores any text
            assert isinstance(evil, tuple) and stored[f"{tag}-evil\x00.zip"] == 1
    finally:
        engine.dispose()


@needs_postgres
def test_concurrent_honest_uploads_survive_one_with_a_nul_in_its_file_name(pg_service, pg):
    """Real HTTP, real PostgreSQL: three students upload at the same moment as a fourth whose file names
    carry NUL and control bytes. Every honest upload is acknowledged (202) and recorded exactly once; the
    hostile ones are stored under their cleaned names."""
    svc = pg_service
    tokens = [svc.add_user(f"honest-{i}") for i in range(3)]
    evil_token = svc.add_user("mallory")
    content = tiny_zip()
    rounds, per_student = 3, 8

    async def one_round(r: int):
        clients = [httpx.AsyncClient(base_url=svc.url, timeout=60, headers={"Authorization": f"Bearer {t}"})
                   for t in tokens]
        evil = httpx.AsyncClient(base_url=svc.url, timeout=60, headers={"Authorization": f"Bearer {evil_token}"})
        try:
            calls, names = [], []
            for k in range(per_student):
                for c, client in enumerate(clients):
                    name = f"r{r}-s{c}-{k}.zip"
                    names.append(name)
                    calls.append(apost_raw(client, name.encode(), content))
                if k in (2, 5):
                    names.append(None)
                    calls.append(apost_raw(evil, b"ev\x00il\x01\x1b-" + str(r * 10 + k).encode() + b".zip", content))
            return names, await asyncio.gather(*calls)
        finally:
            for client in (*clients, evil):
                await client.aclose()

    honest: dict[str, int] = {}
    evil_ids = []
    for r in range(rounds):
        names, answers = asyncio.run(one_round(r))
        for name, answer in zip(names, answers):
            assert answer.status_code == 202, (name, answer.status_code, answer.text)
            if name is None:
                evil_ids.append(answer.json()["id"])
            else:
                honest[name] = answer.json()["id"]
    assert len(honest) == rounds * per_student * len(tokens)
    counts = dict(pg_rows(pg, "SELECT original_name, count(*) FROM submissions s JOIN users u ON u.id = s.user_id "
                              "WHERE u.name LIKE 'honest-%%' GROUP BY original_name"))
    assert counts == {name: 1 for name in honest}
    stored = dict(pg_rows(pg, "SELECT id, original_name FROM submissions WHERE id = ANY(%s)", evil_ids))
    assert len(stored) == len(evil_ids) == 2 * rounds
    assert all(n.startswith("evil-") and n.endswith(".zip") and n.isprintable() for n in stored.values()), stored
    with svc.client(evil_token) as c:
        assert c.get(f"/api/v1/submissions/{evil_ids[0]}").json()["filename"] == stored[evil_ids[0]]


# ------------------------------------------------------------------------------ 3. values out of range

@pytest.mark.parametrize("sid", [2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**30, -1, 0, -(2**63) - 1])
def test_an_id_that_cannot_exist_is_a_404(service, sid):
    with service.client(service.instructor_token) as teacher, service.client(service.student_token) as student:
        for client in (teacher, student):
            assert_error(client.get(f"/api/v1/submissions/{sid}"), 404, "not_found")
        assert_error(httpx.get(f"{service.url}api/v1/submissions/{sid}"), 401, "missing_token")   # auth first


BAD_QUERIES = [
    ("/api/v1/submissions", {"offset": str(2**63)}),
    ("/api/v1/submissions", {"offset": str(10**30)}),
    ("/api/v1/submissions", {"limit": str(2**64)}),
    ("/api/v1/submissions", {"student": "a\x00b"}),
    ("/api/v1/submissions", {"assignment": "\x00"}),
    ("/api/v1/submissions", {"status": "queued\x00"}),
    ("/api/v1/gradebook.csv", {"assignment": "assignment2\x00"}),
    ("/api/v1/gradebook.csv", {"policy": "best\x00"}),
]


@pytest.mark.parametrize("path,params", BAD_QUERIES, ids=[f"{p.rsplit('/', 1)[1]}-{list(q)[0]}-{i}"
                                                           for i, (p, q) in enumerate(BAD_QUERIES)])
def test_a_query_value_the_database_cannot_take_is_a_422_in_the_documented_shape(service, path, params):
    with service.client(service.instructor_token) as teacher:
        body = assert_error(teacher.get(path, params=params), 422, "validation_error")
        assert list(params)[0] in body["detail"]


def test_the_largest_offset_is_answered(service):
    with service.client(service.instructor_token) as teacher:
        r = teacher.get("/api/v1/submissions", params={"offset": str(2**63 - 1), "student": "nobody"})
        assert r.status_code == 200, r.text
        assert r.json()["items"] == [] and r.json()["offset"] == 2**63 - 1


def test_documented_422_of_every_operation_is_the_error_schema(sqlite_service):
    """The OpenAPI document promises for each 422 the body the service sends: ``ErrorOut``."""
    spec = httpx.get(sqlite_service.url + "openapi.json").json()
    seen = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "422" in op.get("responses", {}):
                seen += 1
                schema = op["responses"]["422"]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, schema)
    assert seen >= 3
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_the_document_says_which_values_are_valid(sqlite_service):
    """What schemathesis found (tests/hostile/test_openapi_fuzz.py): requests valid by the document that the
    service refused. The document lists the assignments offered where an unknown one is refused, bounds
    ``offset`` to 64 bits and says the upload's file is not empty."""
    spec = httpx.get(sqlite_service.url + "openapi.json").json()
    with sqlite_service.client(sqlite_service.student_token) as c:
        offered = sorted(a["id"] for a in c.get("/api/v1/assignments").json()["items"])
    form = spec["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["assignment"]["enum"] == offered
    assert form["properties"]["file"]["minLength"] == 1
    params = {p["name"]: p for p in spec["paths"]["/api/v1/gradebook.csv"]["get"]["parameters"]}
    assert {"type": "string", "enum": offered} in params["assignment"]["schema"]["anyOf"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/submissions"]["get"]["parameters"]}
    assert params["offset"]["schema"]["maximum"] == 2**63 - 1
    assert "enum" not in json.dumps(params["assignment"])      # a filter: any value is answered


# ------------------------------------------------------------------------------ OPTIONS / 405

@pytest.mark.parametrize("path,allowed", [("/api/v1/submissions", {"GET", "POST"}),
                                          ("/api/v1/submissions/1", {"GET"}),
                                          ("/api/v1/gradebook.csv", {"GET"}),
                                          ("/healthz", {"GET"})])
def test_options_and_405_list_every_allowed_method(sqlite_service, path, allowed):
    url = sqlite_service.url.rstrip("/") + path
    r = httpx.options(url)
    assert r.status_code in (200, 204), (r.status_code, r.text)
    assert set(m.strip() for m in r.headers["allow"].split(",")) == allowed | {"OPTIONS"}
    r = httpx.request("DELETE", url)
    assert_error(r, 405, "method_not_allowed")
    assert set(m.strip() for m in r.headers["allow"].split(",")) == allowed | {"OPTIONS"}
    assert httpx.options(sqlite_service.url + "no/such/path").status_code == 404


def test_a_nul_in_the_upload_form_is_not_a_500(service):
    """The other hostile bytes of an upload: a NUL in the assignment field, a name of only control bytes."""
    with service.client(service.student_token) as student:
        assert_error(post_raw(student, b"x.zip", tiny_zip(), assignment="assignment2\x00"), 422,
                     "unknown_assignment")
        r = post_raw(student, b"\x00\x01\x02", tiny_zip())
        assert r.status_code == 202, r.text
        assert student.get(r.json()["url"]).json()["filename"] == "submission.zip"


# ----------------------------------------------------------------------------------- 5. JSON bodies

BAD_BODIES = [
    ("PUT", "/api/v1/assignments/assignment2/policy", {"published": "yes"}, "published"),
    ("PUT", "/api/v1/assignments/assignment2/policy", {"published": 1}, "published"),
    ("PUT", "/api/v1/assignments/assignment2/policy", {"max_submissions": "3"}, "max_submissions"),
    ("PUT", "/api/v1/assignments/assignment2/policy", {"penalty_percent": "10"}, "penalty_percent"),
    ("PUT", "/api/v1/assignments/assignment2/policy", {"due_at": 1764800000}, "due_at"),
    ("PUT", "/api/v1/assignments/assignment2/policy", {"due": "2026-12-24T23:59:00Z"}, "due"),
    ("POST", "/api/v1/regrades", {}, "submission_id"),
    ("POST", "/api/v1/regrades", {"submission_id": "1"}, "submission_id"),
    ("POST", "/api/v1/regrades", {"assignment": "assignment2", "student": "a\x00b"}, "student"),
    ("PUT", "/api/v1/assignments/assignment2/extensions/alice", {"due_at": True}, "due_at"),
]


@pytest.mark.parametrize("method,path,body,named", BAD_BODIES, ids=[f"{m}-{p.rsplit('/', 1)[1]}-{n}-{i}"
                                                                   for i, (m, p, _, n) in enumerate(BAD_BODIES)])
def test_a_json_body_is_read_as_documented(service, method, path, body, named):
    """Exactly the documented keys, each of its type (no string read as a number or a boolean, no number as
    a time), no NUL: else the documented 422, naming the key, and nothing changed."""
    with service.client(service.instructor_token) as c:
        before = c.get("/api/v1/assignments").json()
        r = c.request(method, path, json=body)
        assert named in assert_error(r, 422, "validation_error")["detail"]
        assert c.get("/api/v1/assignments").json() == before


@pytest.mark.parametrize("raw", [b"\xff\xfe{", b'{"published": tru', b"\x00"])
def test_a_body_that_is_not_json_is_the_documented_422(service, raw):
    with service.client(service.instructor_token) as c:
        r = c.put("/api/v1/assignments/assignment2/policy", content=raw, headers={"content-type": "application/json"})
    assert_error(r, 422, "validation_error")


def test_a_json_integer_may_have_a_zero_fraction(sqlite_service):
    with sqlite_service.client(sqlite_service.instructor_token) as c:
        try:
            r = c.put("/api/v1/assignments/assignment2/policy", json={"max_submissions": 3.0})
            assert r.status_code == 200 and r.json()["max_submissions"] == 3, r.text
        finally:
            assert c.put("/api/v1/assignments/assignment2/policy", json={}).status_code == 200
