"""Bulk writes of rows given as columns: `executemany` on SQLite, `COPY` on PostgreSQL (a
million rows: executemany costs about ten times as much there). Used by the imports that
write hundreds of thousands of rows (data values and their audit, HIS visits)."""

from __future__ import annotations

import io
from datetime import datetime
from itertools import repeat

import pyarrow as pa
from django.db import connection
from pyarrow import csv as arrow_csv

SQLITE_BATCH = 100_000  # rows per executemany: bounds the tuples held at once


def widen_sqlite_cache(count: int) -> None:
    """SQLite's default page cache (2 MB) spills a large transaction to the WAL page by page;
    give this connection 256 MB when `count` rows are about to be written."""
    if connection.vendor == "sqlite" and count > 5000:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # KiB


def insert_columns(model, columns: dict, progress=None) -> None:
    """Insert rows given as columns: a list per column, or one value for every row, into
    `model`'s table (or the table named by `model`, a string: e.g. a temporary table).
    `progress(done, total)` is called after each SQLite batch."""
    table = model if isinstance(model, str) else connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_columns(cursor, table, columns)
            if progress:
                count = max(len(v) for v in columns.values() if isinstance(v, list))
                progress(count, count)
            return
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        count = max((len(v) for v in columns.values() if isinstance(v, list)), default=0)
        for start in range(0, count, SQLITE_BATCH):
            end = start + SQLITE_BATCH
            given = [v[start:end] if isinstance(v, list) else repeat(v) for v in columns.values()]
            cursor.executemany(sql, list(zip(*given, strict=False)))  # constants are endless
            if progress:
                progress(min(end, count), count)


def copy_columns(cursor, table: str, columns: dict) -> None:
    """PostgreSQL COPY of rows given as columns, sent as one CSV buffer that pyarrow writes
    (no Python per row; floats are written to round-trip exactly, text is quoted, None is
    NULL)."""
    count = max(len(v) for v in columns.values() if isinstance(v, list))
    arrays = {name: _arrow_column(value, count) for name, value in columns.items()}
    buffer = io.BytesIO()
    arrow_csv.write_csv(pa.table(arrays), buffer, arrow_csv.WriteOptions(include_header=False))
    names = ", ".join(columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())


def _arrow_column(value, count: int) -> pa.Array:
    if isinstance(value, list):
        return pa.array(value)
    if value is None:
        return pa.nulls(count, pa.int64())
    if isinstance(value, datetime):
        value = value.isoformat()
    return pa.array([value] * count)
