"""Helpers for the tests that use the service as a hostile client would: hand-made multipart bodies (bytes a
normal HTTP library would escape or refuse), a tiny valid zip, and error-shape assertions."""
from __future__ import annotations

import io
import secrets
import zipfile

import httpx

ASSIGNMENT = "assignment2"


def tiny_zip(text: str = "print('hi')\n") -> bytes:
    """A small readable zip archive (the service only checks that it is one)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cs231n/layers.py", text)
    return buf.getvalue()


def raw_multipart(filename: bytes, content: bytes, assignment: str = ASSIGNMENT) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body whose file part carries ``filename`` byte for byte (NUL, control
    characters, anything but a double quote); returns ``(body, content_type)``."""
    boundary = "hostile" + secrets.token_hex(8)
    b = boundary.encode()
    body = (b"--" + b + b"\r\n"
            b'Content-Disposition: form-data; name="assignment"\r\n\r\n' + assignment.encode() + b"\r\n"
            b"--" + b + b"\r\n"
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            b"Content-Type: application/zip\r\n\r\n" + content + b"\r\n"
            b"--" + b + b"--\r\n")
    return body, f"multipart/form-data; boundary={boundary}"


def post_raw(client: httpx.Client, filename: bytes, content: bytes, assignment: str = ASSIGNMENT) -> httpx.Response:
    body, ctype = raw_multipart(filename, content, assignment)
    return client.post("/api/v1/submissions", content=body, headers={"Content-Type": ctype})


async def apost_raw(client: httpx.AsyncClient, filename: bytes, content: bytes,
                    assignment: str = ASSIGNMENT) -> httpx.Response:
    body, ctype = raw_multipart(filename, content, assignment)
    return await client.post("/api/v1/submissions", content=body, headers={"Content-Type": ctype})


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    """``r`` is the documented error: ``status``, JSON ``{"detail": str, "code": str}`` and nothing else."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"detail", "code"}, body
    assert isinstance(body["detail"], str) and body["detail"] and isinstance(body["code"], str), body
    if code is not None:
        assert body["code"] == code, body
    return body

