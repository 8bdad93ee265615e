"""Bulk writes of rows given as columns: INSERT statements of a thousand rows each on SQLite
(half the cost of `executemany`'s statement per row), `COPY` on PostgreSQL (a million rows:
executemany costs about ten times as much there). Used by the imports that
write hundreds of thousands of rows (data values and their audit, HIS visits)."""

from __future__ import annotations

import io
import sqlite3 as Database
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pyarrow as pa
from django.db import connection, models
from django.db.backends.utils import CursorWrapper
from pyarrow import csv as arrow_csv

from xinglin.lib import statements

SQLITE_BATCH = 100_000  # rows per round of statements: bounds the parameters held at once
# Rows per INSERT statement on SQLite: one statement of many rows costs about half of one
# executemany step per row (SQLite opens the table and each index once per statement).
SQLITE_ROWS_PER_STATEMENT = 1000
SQLITE_MAX_VARIABLES = 32766  # SQLite's limit on parameters per statement since 3.32

# Rows given as columns: per column name a list or numpy array (one item per row) or one
# value for every row.
Columns = dict[str, object]


def widen_sqlite_cache(count: int) -> None:
    """SQLite's default page cache (2 MB) spills a large transaction to the WAL page by page;
    give this connection 256 MB when `count` rows are about to be written."""
    if connection.vendor == "sqlite" and count > 5000:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # KiB


def insert_columns(
    model: type[models.Model] | str,
    columns: Columns,
    progress: Callable[[int, int], object] | None = None,
) -> None:
    """Insert rows given as columns: a list or numpy array per column, or one value for every
    row, into `model`'s table (`columns` naming each of its columns but an automatic primary
    key, or a StatementError before anything is written) or the table named by `model`, a
    string (a temporary table).
    `progress(done, total)` is called after each SQLite batch."""
    if isinstance(model, str):
        table = model
    else:  # a model's table: the columns must be exactly its columns (lib.statements)
        table = statements.table(model)
        columns = statements.column_values(model, columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_columns(cursor, table, columns)
            if progress:
                progress(_count(columns), _count(columns))
            return
        names = ", ".join(columns)
        count = _count(columns)
        width = len(columns)
        per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // width))
        row = "(" + ", ".join(["?"] * width) + ")"
        head = f"INSERT INTO {table} ({names}) VALUES "
        full = head + ", ".join([row] * per_statement)
        # The DB-API cursor itself, with its own placeholders: Django's would rewrite each
        # statement's thousands of %s first (as long as SQLite takes to run it).
        raw = cursor.cursor
        with connection.wrap_database_errors:
            for start in range(0, count, SQLITE_BATCH):
                end = min(start + SQLITE_BATCH, count)
                flat = _interleaved(columns, start, end)
                for first in range(0, end - start, per_statement):
                    rows = min(per_statement, end - start - first)
                    sql = full if rows == per_statement else head + ", ".join([row] * rows)
                    Database.Cursor.execute(raw, sql, flat[first * width : (first + rows) * width])
                if progress:
                    progress(end, count)


def _interleaved(columns: Columns, start: int, end: int) -> list[object]:
    """Rows start..end of `columns` as one flat list, row after row (the parameters of a
    multi-row VALUES statement)."""
    width, size = len(columns), end - start
    flat: list[object] = [None] * (width * size)
    for at, value in enumerate(columns.values()):
        if isinstance(value, np.ndarray):
            flat[at::width] = value[start:end].tolist()
        else:
            flat[at::width] = value[start:end] if isinstance(value, list) else [value] * size
    return flat


def copy_columns(cursor: CursorWrapper, table: str, columns: Columns) -> None:
    """PostgreSQL COPY of rows given as columns, sent as one CSV buffer that pyarrow writes
    (no Python per row; floats are written to round-trip exactly, text is quoted, None is
    NULL)."""
    count = _count(columns)
    arrays = {name: _arrow_column(value, count) for name, value in columns.items()}
    buffer = io.BytesIO()
    arrow_csv.write_csv(pa.table(arrays), buffer, arrow_csv.WriteOptions(include_header=False))
    names = ", ".join(columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())


def _arrow_column(value: object, count: int) -> pa.Array:
    if isinstance(value, list | np.ndarray):
        return pa.array(value)  # a numpy column of numbers without a copy
    if value is None:
        return pa.nulls(count, pa.int64())
    if isinstance(value, datetime):
        value = value.isoformat()
    return pa.repeat(value, count)


def _count(columns: Columns) -> int:
    """The number of rows: the length of the columns given as lists or arrays (the others are
    one value for every row)."""
    return max((len(v) for v in columns.values() if isinstance(v, list | np.ndarray)), default=0)
