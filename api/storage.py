"""Uploads: a streaming multipart reader with a size limit, and the content-addressed archive store.

``receive_upload`` reads the request body chunk by chunk as it arrives and feeds it to python-multipart's
streaming parser. The file part is kept in memory up to ``SPOOL_BYTES`` (typical submissions are well
below; views of the received chunks, joined into one ``bytes`` when the part ends: the reader's only copy)
and spills to a temporary file beyond; the request is refused (413) as soon as the file grows past
the limit -- nothing over the limit is ever buffered. A declared ``Content-Length`` that is already too
large is refused before reading a byte.

``ArchiveStore.save`` then (in a worker thread, off the event loop) hashes the archive and stores it once
per content: ``<uploads>/sha256/ab/abcdef....zip``; the database keeps the original file name.
"""
from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import NO_SPACE_ERRNOS, APIError, no_space

MAX_FIELDS = 10
MAX_FIELD_BYTES = 4096
FORM_OVERHEAD_BYTES = 64 * 1024      # what multipart headers and small fields may add to the file size
SPOOL_BYTES = 2 * 1024 * 1024        # file parts up to this size stay in memory
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Upload:
    """The parsed form: text fields and the one file (in memory, or spilled to a temporary file)."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    size: int = 0
    data: bytes | None = None              # the file, while it is small
    tmp_path: Path | None = None           # the file, once it outgrew SPOOL_BYTES
    sha256: str = ""                       # set by ArchiveStore.save
    _tmp_hash: object = None               # running sha256 of a spilled file

    @property
    def present(self) -> bool:
        return self.data is not None or self.tmp_path is not None

    def head(self, n: int = 8) -> bytes:
        if self.data is not None:
            return bytes(self.data[:n])
        with open(self.tmp_path, "rb") as fh:
            return fh.read(n)

    def opened(self):
        """A binary file object of the archive."""
        return io.BytesIO(self.data) if self.data is not None else open(self.tmp_path, "rb")

    def discard(self) -> None:
        self.data = None
        if self.tmp_path is not None:
            self.tmp_path.unlink(missing_ok=True)
            self.tmp_path = None


class ArchiveStore:
    """Files addressed by their sha256 under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / f"{sha256}.zip"

    def new_temp_path(self) -> Path:
        return self.tmp_dir / f"upload-{uuid.uuid4().hex}.part"

    def save(self, upload: Upload) -> Path:
        """Store the upload under its sha256 (once per content); sets ``upload.sha256``; the upload is
        consumed (its temporary file moved or deleted)."""
        if upload.data is not None:
            upload.sha256 = hashlib.sha256(upload.data).hexdigest()
        else:
            upload.sha256 = upload._tmp_hash.hexdigest()
        final = self.path_for(upload.sha256)
        try:
            if not final.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                if upload.tmp_path is None:
                    upload.tmp_path = self.new_temp_path()
                    with open(upload.tmp_path, "wb") as fh:
                        fh.write(upload.data)
                os.replace(upload.tmp_path, final)          # atomic: a reader never sees half a file
                upload.tmp_path = None
        except OSError as exc:
            upload.discard()                                # no half-written file is left
            if exc.errno in NO_SPACE_ERRNOS:
                raise no_space() from None
            raise
        upload.discard()
        return final


MAX_FILENAME_CHARS = 255             # the column's size (``submissions.original_name``), in characters
DEFAULT_FILENAME = "submission.zip"
# characters a file name never needs and a hostile one uses: C0/C1 controls (NUL cannot even be stored in
# PostgreSQL text), surrogates, and the invisible direction marks, embeddings, overrides and isolates that
# make a name display as another ("\u202egpj.exe")
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _kept(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI


def clean_filename(name: str) -> str:
    """What the database keeps of a client-supplied file name: its last path component, without control,
    surrogate and bidirectional-control characters, at most ``MAX_FILENAME_CHARS`` characters (a longer name
    keeps its extension); ``submission.zip`` when nothing is left."""
    base = "".join(ch for ch in name if _kept(ch))
    base = base.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", ".."):
        return DEFAULT_FILENAME
    if len(base) > MAX_FILENAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        if dot and stem and len(ext) < 16:
            base = stem[:MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            base = base[:MAX_FILENAME_CHARS]
    return base


def _too_large(limit: int) -> APIError:
    return APIError(413, "too_large", f"the upload is larger than the limit of {limit} bytes "
                                      f"({limit / 2**20:.1f} MiB)")


class _FormReader:
    """python-multipart callbacks that build an ``Upload``; raises APIError from inside the parser."""

    def __init__(self, store: ArchiveStore, max_bytes: int, file_field: str,
                 on_field: Callable[[str, str], None]):
        self.store, self.max_bytes, self.file_field, self.on_field = store, max_bytes, file_field, on_field
        self.upload = Upload()
        self.finished = False
        self._headers: dict[str, str] = {}
        self._hfield, self._hvalue = bytearray(), bytearray()
        self._part: str | None = None          # 'file' | field name | None (ignored part)
        self._buf = bytearray()
        self._chunks: list = []                # the file part so far (views of the received chunks)
        self._fh = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end, "on_end": self._end,
        }

    def _part_begin(self):
        self._headers, self._part, self._buf = {}, None, bytearray()

    def _header_field(self, data, start, end):
        self._hfield += data[start:end]

    def _header_value(self, data, start, end):
        self._hvalue += data[start:end]

    def _header_end(self):
        self._headers[self._hfield.decode("latin-1").strip().lower()] = self._hvalue.decode("latin-1")
        self._hfield, self._hvalue = bytearray(), bytearray()

    def _headers_finished(self):
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name == self.file_field and filename is not None:
            if self.upload.present:
                raise APIError(422, "too_many_files", f"send exactly one '{self.file_field}' part")
            self.upload.filename = clean_filename(filename.decode("utf-8", "replace"))
            self.upload.data = b""             # the file's pieces collect in _chunks until its part ends
            self._chunks = []
            self._part = "file"
        elif filename is None and name:
            if len(self.upload.fields) >= MAX_FIELDS:
                raise APIError(422, "too_many_fields", "too many form fields")
            self._part = name
        # a file under another field name is ignored (not stored)

    def _spill(self):
        """The file outgrew memory: continue it in a temporary file (hashing as it goes)."""
        up = self.upload
        up.tmp_path = self.store.new_temp_path()
        self._fh = open(up.tmp_path, "wb")
        up._tmp_hash = hashlib.sha256()
        for chunk in self._chunks:
            up._tmp_hash.update(chunk)
            self._fh.write(chunk)
        self._chunks = []
        up.data = None

    def _part_data(self, data, start, end):
        if self._part == "file":
            up = self.upload
            up.size += end - start
            if up.size > self.max_bytes:
                raise _too_large(self.max_bytes)
            # a view, not a copy: the file is copied once, when its part ends (bytes do not change later)
            chunk = memoryview(data)[start:end] if isinstance(data, bytes) else bytes(data[start:end])
            if up.data is not None:
                self._chunks.append(chunk)
                if up.size > SPOOL_BYTES:
                    self._spill()
            else:
                up._tmp_hash.update(chunk)
                self._fh.write(chunk)
        elif self._part is not None:
            self._buf += data[start:end]
            if len(self._buf) > MAX_FIELD_BYTES:
                raise APIError(413, "field_too_large", f"form field '{self._part}' is longer than "
                                                       f"{MAX_FIELD_BYTES} bytes")

    def _part_end(self):
        if self._part == "file":
            if self.upload.data is not None:
                self.upload.data = b"".join(self._chunks)
                self._chunks = []
            self.close()
        elif self._part is not None:
            try:
                value = self._buf.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise APIError(400, "bad_field", f"form field '{self._part}' is not UTF-8 text") from None
            self.upload.fields[self._part] = value
            self.on_field(self._part, value)
        self._part = None

    def _end(self):
        self.finished = True

    def close(self):
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.close()                      # may raise (a full disk): the file part is then not complete

    def abort(self):
        """The request failed: close and remove whatever was written of the file."""
        try:
            self.close()
        except OSError:
            pass
        self.upload.discard()


async def receive_upload(request: Request, store: ArchiveStore, max_bytes: int, file_field: str = "file",
                         on_field: Callable[[str, str], None] = lambda name, value: None) -> Upload:
    """Stream a ``multipart/form-data`` body into an ``Upload`` (APIError on any bad input).

    ``on_field(name, value)`` is called as soon as each text field is complete, so a field sent before the
    file (the web page sends ``assignment`` first) is validated before the file is read.
    """
    mime, options = parse_options_header(request.headers.get("content-type", ""))
    if mime != b"multipart/form-data" or not options.get(b"boundary"):
        raise APIError(415, "not_multipart", "send the archive as multipart/form-data "
                                             f"with a '{file_field}' part and an 'assignment' field")
    body_limit = max_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        raise _too_large(max_bytes)

    reader = _FormReader(store, max_bytes, file_field, on_field)
    try:
        parser = MultipartParser(options[b"boundary"], reader.callbacks())
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise _too_large(max_bytes)
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not reader.finished:
            raise APIError(400, "bad_multipart", "the multipart body ended before its closing boundary")
    except (FormParserError, ValueError) as exc:
        reader.abort()
        raise APIError(400, "bad_multipart", f"malformed multipart body: {exc}") from None
    except ClientDisconnect:
        reader.abort()
        raise APIError(400, "client_disconnected", "the client closed the connection during the upload") from None
    except OSError as exc:                  # spilling a large file to disk failed
        reader.abort()
        if exc.errno in NO_SPACE_ERRNOS:
            raise no_space() from None
        raise
    except BaseException:
        reader.abort()
        raise
    return reader.upload


def check_zip(upload: Upload, file_field: str = "file") -> None:
    """Refuse a missing, empty or non-zip file part (422 / 415)."""
    if not upload.present:
        raise APIError(422, "missing_file", f"no file: send the archive in a form part named '{file_field}'")
    if upload.size == 0:
        raise APIError(422, "empty_file", f"the uploaded file '{upload.filename}' is empty")
    if not upload.head().startswith(ZIP_MAGICS):
        raise APIError(415, "not_a_zip", f"'{upload.filename}' is not a zip archive")
    try:
        with upload.opened() as fh, zipfile.ZipFile(fh) as zf:
            zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise APIError(415, "not_a_zip", f"'{upload.filename}' is not a readable zip archive ({exc})") from None
