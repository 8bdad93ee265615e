"""Bounded uploads (issue 18.10): the one place where every upload path — data values (web and
command line), institutions, care records, HIS visits, plans, surveys, evidence files and the
API's bodies — checks its limits on bytes, rows and columns.

The limits come from settings (`XINGLIN_UPLOAD_MAX_MB`, `XINGLIN_UPLOAD_MAX_ROWS`,
`XINGLIN_UPLOAD_MAX_COLUMNS`; docs/configuration.md). A file past one is refused with
`TooLarge`, whose message (in the user's language) names the file and the limit; nothing of
it is kept:

- `BoundedUploadHandler` (first of FILE_UPLOAD_HANDLERS) stops keeping an upload's bytes past
  the byte limit, so a 5 GB post never reaches the disk; the view then gets a `RefusedUpload`
  that `read`/`save` refuse;
- `read(upload)` and `save(upload, path)` stream the upload in chunks and stop at the limit
  (`save` removes what it wrote); `check_file(path)` is the command line's check;
- `Bounds` counts rows and columns as a reader streams them (lib.sheets for workbooks,
  `csv_rows` for text), so a sheet declaring A1:XFD1048576 or a CSV of a million columns is
  stopped at the limit instead of filling memory;
- `lib.sheets.workbook_rows` is the workbook reader of the small imports (institutions, care,
  plans, surveys): the first sheet's rows, bounded by `Bounds`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.utils.translation import gettext as _

from xinglin.lib.cells import csv_value

MB = 1024 * 1024
CHUNK = 64 * 1024
# A workbook is a zip: its parts, unpacked, may be at most this many times the byte limit
# (real workbooks unpack to 5–10 times their size; a zip bomb to thousands).
UNPACKED_RATIO = 20

if TYPE_CHECKING:  # django's File is generic only in its stubs
    # What the readers take: a Django file (an UploadedFile, read by its chunks) or any
    # binary file object.
    Upload = File[Any] | IO[bytes]


class TooLarge(Exception):
    """An upload past a limit; str() names the file and the limit, in the user's language."""


def max_bytes() -> int:
    return settings.UPLOAD_MAX_MB * MB


def _too_many_bytes(name: str, limit: int) -> TooLarge:
    return TooLarge(
        _("%(file)s is larger than %(mb)s MB (the upload limit): split it into smaller files")
        % {"file": name, "mb": _megabytes(limit)}
    )


def _megabytes(limit: int) -> str:
    return f"{limit / MB:g}"


# --- bytes -------------------------------------------------------------------------------


class RefusedUpload(InMemoryUploadedFile):
    """What the view gets for a file past the byte limit: its name and the bytes seen (more
    than the limit), none of its content."""

    refused = True

    def __init__(
        self, name: str | None, field_name: str, content_type: str | None, seen: int
    ) -> None:
        super().__init__(io.BytesIO(b""), field_name, name, content_type, seen, None)


class BoundedUploadHandler(FileUploadHandler):
    """Passes an upload's chunks on to Django's handlers until the byte limit; past it, keeps
    nothing more (the rest of the request is read and dropped) and hands the view a
    RefusedUpload instead of the file."""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        *a: Any,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, *a)
        self.seen, self.refused = 0, False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.seen += len(raw_data)
        if self.refused or self.seen > max_bytes():
            self.refused = True
            return None  # the later handlers get nothing more of this file
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.refused:
            for handler in getattr(self.request, "upload_handlers", ()):
                partial = getattr(handler, "file", None)  # a temporary file begun: removed
                if handler is not self and partial is not None and hasattr(partial, "close"):
                    partial.close()
            return RefusedUpload(self.file_name, self.field_name, self.content_type, self.seen)
        return None  # the next handler (memory or temporary file) has it whole


def _name(upload: Upload, name: str | None) -> str:
    return name or getattr(upload, "name", None) or _("the file")


def check_upload(upload: Upload, *, name: str | None = None, limit: int | None = None) -> int:
    """TooLarge for an upload known to be past `limit` bytes (default: the upload limit; a
    lower one for a path of its own, never a higher) before anything is read; the limit."""
    limit = max_bytes() if limit is None else min(limit, max_bytes())
    if getattr(upload, "refused", False) or (getattr(upload, "size", 0) or 0) > limit:
        raise _too_many_bytes(_name(upload, name), limit)
    return limit


def read(upload: Upload, *, name: str | None = None, limit: int | None = None) -> bytes:
    """The content of an uploaded file (Django's UploadedFile, or any binary file object),
    read chunk by chunk; TooLarge past `limit` bytes (default: the upload limit)."""
    limit = check_upload(upload, name=name, limit=limit)
    name = _name(upload, name)
    parts: list[bytes] = []
    seen = 0
    for chunk in _chunks(upload):
        seen += len(chunk)
        if seen > limit:
            raise _too_many_bytes(name, limit)
        parts.append(chunk)
    return b"".join(parts)


def save(upload: Upload, path: Path, *, name: str | None = None) -> None:
    """Write an upload to `path` chunk by chunk; TooLarge past the byte limit, and then
    nothing is left at `path`."""
    limit, name = max_bytes(), _name(upload, name)
    try:
        check_upload(upload, name=name)
        seen = 0
        with open(path, "wb") as handle:
            for chunk in _chunks(upload):
                seen += len(chunk)
                if seen > limit:
                    raise _too_many_bytes(name, limit)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _chunks(upload: Upload) -> Iterator[bytes]:
    if hasattr(upload, "chunks"):
        yield from upload.chunks(CHUNK)
        return
    while chunk := upload.read(CHUNK):
        yield chunk


def check_file(path: Path, *, name: str | None = None) -> None:
    """The command line's check of a file before it is read: TooLarge past the byte limit."""
    if path.stat().st_size > max_bytes():
        raise _too_many_bytes(name or path.name, max_bytes())


def read_file(path: Path) -> bytes:
    """A file's bytes for the command line's imports, after check_file."""
    check_file(path)
    return path.read_bytes()


def body(request: HttpRequest, *, name: str | None = None, limit: int | None = None) -> bytes:
    """An API request's body; TooLarge past `limit` (default: the upload limit, and never
    past DATA_UPLOAD_MAX_MEMORY_SIZE), checked on the declared length before reading."""
    limit = min(limit or max_bytes(), max_bytes(), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    name = name or _("the request body")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_many_bytes(name, limit)
    content = request.body
    if len(content) > limit:
        raise _too_many_bytes(name, limit)
    return content


def check_unpacked(archive: zipfile.ZipFile, name: str) -> None:
    """A workbook whose parts unpack to more than UNPACKED_RATIO times the byte limit is
    refused before any part is read (zipfile never unpacks past a part's declared size)."""
    limit = UNPACKED_RATIO * max_bytes()
    if sum(info.file_size for info in archive.infolist()) > limit:
        raise TooLarge(
            _("%(file)s unpacks to more than %(mb)s MB (the upload limit): split it")
            % {"file": name, "mb": _megabytes(limit)}
        )


# --- rows and columns --------------------------------------------------------------------


@dataclass
class Bounds:
    """Counts the rows (of all sheets of a file) and checks each row's width as a reader
    streams them; TooLarge at the first row past a limit."""

    name: str
    max_rows: int = 0
    max_columns: int = 0
    rows: int = 0

    def __post_init__(self) -> None:
        self.max_rows = self.max_rows or settings.UPLOAD_MAX_ROWS
        self.max_columns = self.max_columns or settings.UPLOAD_MAX_COLUMNS

    def add(self, count: int = 1) -> None:
        self.rows += count
        if self.rows > self.max_rows:
            raise TooLarge(
                _("%(file)s has more than %(n)s rows (the upload limit): split it")
                % {"file": self.name, "n": f"{self.max_rows:,}"}
            )

    def width(self, columns: int) -> None:
        if columns > self.max_columns:
            raise TooLarge(
                _("%(file)s has a row wider than %(n)s columns (the upload limit)")
                % {"file": self.name, "n": f"{self.max_columns:,}"}
            )


def csv_rows(rows: Iterable[list[str]], name: str) -> Iterator[list[str]]:
    """The rows of a csv.reader, bounded, each cell as it was before an export neutralised it
    (cells.csv_value: `'=x` → `=x`), so that every export is a valid import of itself."""
    bounds = Bounds(name)
    for row in rows:
        bounds.add()
        bounds.width(len(row))
        yield [csv_value(cell) if cell[:1] == "'" else cell for cell in row]


def text_rows(text: str, name: str, **kwargs: Any) -> Iterator[list[str]]:
    """`csv.reader(io.StringIO(text, newline=""), **kwargs)`, bounded; `.line_num` is kept
    on the generator's reader for callers that number lines: use csv_rows for that."""
    return csv_rows(csv.reader(io.StringIO(text, newline=""), **kwargs), name)
