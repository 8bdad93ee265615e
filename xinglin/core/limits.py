"""Large exports, bounded (issue 20.7): a file built whole in memory is refused above
settings.EXPORT_MAX_ROWS rows with a sentence saying what to do; a CSV read row by row from
the database is streamed instead, so it starts at once and holds little in memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from xinglin.lib import cells

CHUNK_ROWS = 5000


def too_many(count: int) -> HttpResponse | None:
    """A 413 answer when `count` rows are more than one file may hold, else None."""
    if count <= settings.EXPORT_MAX_ROWS:
        return None
    message = _(
        "%(count)s rows are more than %(max)s for one file: choose a smaller org unit or "
        "period, or ask the administrator for a full export."
    ) % {"count": count, "max": settings.EXPORT_MAX_ROWS}
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def csv_chunks(header: list[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    """A CSV (BOM first, for Excel; formulas neutralised by `cells`) a few thousand rows at
    a time."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = cells.writer(buffer)
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def streamed_csv(name: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
