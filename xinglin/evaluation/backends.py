"""Where an evaluation runs: the backend chosen for a scope, and the cursor it runs on.

`database` runs on the operational database (SQLite or PostgreSQL, Django's connection, in one
read snapshot), `warehouse` on DuckDB over the Parquet export (`warehouse.session`), `spark` on
Spark SQL over the same export (`warehouse.spark`). Every cursor takes the engine's statements
with `%s` marks for their parameters (`statements.render`) and says its `vendor`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from xinglin.core import generation
from xinglin.network.models import OrgUnit
from xinglin.warehouse.copy_state import lags as copy_lags
from xinglin.warehouse.engine import Warehouse, default_root
from xinglin.warehouse.export import export_time
from xinglin.warehouse.session import WarehouseCursor
from xinglin.warehouse.spark import SparkCursor

DATABASE, WAREHOUSE, SPARK = "database", "warehouse", "spark"
BACKENDS = ("auto", DATABASE, WAREHOUSE, SPARK)
LARGE_SCOPE_BACKENDS = (WAREHOUSE, SPARK)  # settings.LARGE_SCOPE_BACKEND
ANALYTIC = ("duckdb", "spark")  # cursors over the Parquet export (the others: Django's)
# Above this many institutions beneath the evaluated unit (a city, a province) the engine runs
# over the Parquet export when one exists (on DuckDB, or on Spark SQL when the settings say so:
# LARGE_SCOPE_BACKEND); a county (~300) stays on the database.
WAREHOUSE_MIN_INSTITUTIONS = 2000
PARALLEL = 2  # DuckDB, Spark: the coverages' statements run side by side (2 cores)

Row = tuple[Any, ...]


class Cursor(Protocol):
    """What the engine asks of a cursor (Django's, DuckDB's, Spark's)."""

    @property
    def vendor(self) -> str: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchall(self) -> list[Row]: ...

    def fetchone(self) -> Row | None: ...


AnalyticCursor = WarehouseCursor | SparkCursor  # run statements side by side (fork), Arrow out


class DatabaseCursor:
    """Django's cursor on the operational database, saying its vendor."""

    def __init__(self, cursor: CursorWrapper, vendor: str) -> None:
        self._cursor = cursor
        self.vendor = vendor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, list(params) if params else None)

    def fetchall(self) -> list[Row]:
        return [tuple(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


def choose_backend(orgunit: str | OrgUnit, warehouse: Warehouse | None = None) -> str:
    """For a large scope, when an export exists, the large-scope backend of the settings
    (`warehouse`: DuckDB, or `spark`); else `database`."""
    warehouse = warehouse or default_warehouse()
    if export_time_of(warehouse) is None:
        return DATABASE
    large = large_scope_backend()
    unit = orgunit if isinstance(orgunit, OrgUnit) else OrgUnit.objects.filter(code=orgunit).first()
    if unit is None:
        return large  # known to the export only
    beneath = OrgUnit.objects.filter(path__startswith=unit.path, kind="institution").count()
    return large if beneath > WAREHOUSE_MIN_INSTITUTIONS else DATABASE


def large_scope_backend() -> str:
    """settings.LARGE_SCOPE_BACKEND (`XINGLIN_LARGE_SCOPE_BACKEND`): warehouse or spark."""
    chosen: str = getattr(settings, "LARGE_SCOPE_BACKEND", WAREHOUSE) or WAREHOUSE
    return chosen


def default_warehouse() -> Warehouse:
    return Warehouse(default_root())


def copy_state(
    warehouse: Warehouse, orgunit: str | OrgUnit | None = None, year: int | None = None
) -> tuple[str | None, bool]:
    """When the warehouse copy was read from the database, and whether what an evaluation of
    `orgunit` (and the units beneath it) in `year` reads has changed since: its scope's data
    generation moved (decision 0019), or the copy does not say where it stood. Without a
    unit, or for one the database does not hold, any change counts."""
    root = Path(warehouse.root)
    path = None
    if orgunit is not None:
        code = orgunit.code if isinstance(orgunit, OrgUnit) else str(orgunit)
        path = OrgUnit.objects.filter(code=code).values_list("path", flat=True).first()
    scope = generation.Scope.of(path, year, year) if path else None
    return export_time(root), copy_lags(root, scope)


def export_time_of(warehouse: Warehouse) -> str | None:
    return export_time(Path(warehouse.root))


def statement_threads(warehouse: Warehouse) -> int:
    """DuckDB's threads for an evaluation: its statements run PARALLEL side by side, so each
    gets its share of the cores (the warehouse's own setting, when it has one). On 2 cores a
    statement each on one thread beats both on two: a province (W1) 0.38-0.42 s against
    0.46-0.52 s, and less CPU (docs/benchmarks.md, W1)."""
    if warehouse.threads:
        return warehouse.threads
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // PARALLEL)


@contextmanager
def cursor_for(backend: str, warehouse: Warehouse) -> Iterator[Cursor]:
    if backend == WAREHOUSE:
        with WarehouseCursor(warehouse, threads=statement_threads(warehouse)) as duck:
            yield duck
        return
    if backend == SPARK:
        with SparkCursor(warehouse) as spark:
            yield spark
        return
    with snapshot(), connection.cursor() as django_cursor:
        yield DatabaseCursor(django_cursor, connection.vendor)


def analytic(cursor: Cursor) -> AnalyticCursor | None:
    """The cursor, when it runs statements side by side (DuckDB, Spark)."""
    return cursor if isinstance(cursor, WarehouseCursor | SparkCursor) else None


@contextmanager
def snapshot() -> Iterator[None]:
    """One transaction for the evaluation's statements, so that they all read the same data.
    The engine writes only its TEMP tables. On SQLite it is a deferred transaction: a reader
    of the WAL's snapshot (TEMP tables live in their own file), while `transaction.atomic()`
    begins IMMEDIATE (the connection's mode, for writers) and would hold the database's one
    write lock for the whole evaluation, seconds for a county, during which every save,
    approval and login waits, and fails after the busy timeout (W7, docs/benchmarks.md)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


def select_columns(
    cursor: Cursor, sql: str, width: int, params: Sequence[Any] = ()
) -> list[np.ndarray]:
    """A statement's result as float columns, NaN for NULL (DuckDB and Spark hand over Arrow
    columns; the operational databases' rows are turned around)."""
    fast = analytic(cursor)
    if fast is not None:
        table = fast.query_arrow(sql, params)
        return [
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False) for column in table.columns
        ]
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    if not rows:
        return [np.zeros(0) for _ in range(width)]
    return [
        np.array([np.nan if v is None else float(v) for v in column], dtype=np.float64)
        for column in zip(*rows, strict=True)
    ]
