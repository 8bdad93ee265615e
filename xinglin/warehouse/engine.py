"""DuckDB over Parquet, behind one query function.

Queries are parameterised (`?` placeholders; values never enter the SQL text), stopped after
`timeout` seconds (DuckDB has no statement timeout: a timer interrupts the connection), cut at
`max_rows` (the result says it was truncated), and logged with their timing.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from django.conf import settings

from xinglin.warehouse.copy_state import DELTA_KEYS, DELTA_SUFFIX, LAYOUT, is_national, year_of
from xinglin.warehouse.national import register_duckdb

log = logging.getLogger("xinglin.warehouse")

DEFAULT_TIMEOUT = 30.0  # seconds
DEFAULT_MAX_ROWS = 100_000
RECENT = 200  # queries kept in memory for the warehouse status page / tests
# In-memory databases with the views made, kept between evaluations (`Warehouse.checkout`):
# making one and closing it took ≈ 17 + 15 ms of a province evaluation's ≈ 0.4 s. At most
# POOL idle ones per warehouse directory and process; evaluations running at once hold more.
POOL = 2
_POOL: dict[tuple[str, int], list[tuple[tuple, duckdb.DuckDBPyConnection]]] = {}
_POOL_LOCK = threading.Lock()


@atexit.register
def _close_idle() -> None:
    """Close this process's idle databases before the interpreter goes (a forked child never
    uses its parent's: the pool is keyed by process)."""
    with _POOL_LOCK:
        mine = [key for key in _POOL if key[1] == os.getpid()]
        idle = [connection for key in mine for _listing, connection in _POOL.pop(key)]
    for connection in idle:
        connection.close()


class WarehouseError(RuntimeError):
    """A query that failed, timed out, or was refused."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    seconds: float
    truncated: bool = False


@dataclass
class QueryLogEntry:
    sql: str
    params: tuple
    seconds: float
    rows: int
    error: str = ""


@dataclass
class Warehouse:
    """A directory of Parquet tables (`<root>/<table>/*.parquet`) queried with DuckDB.
    Tables are exposed as views named after their directory."""

    root: Path
    threads: int | None = None
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT))

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def table_files(self, table: str) -> list[Path]:
        return sorted((self.root / table).glob("*.parquet"))

    def _connect(self) -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(":memory:")
        if self.threads:
            connection.execute(f"SET threads = {int(self.threads)}")
        if is_national(self.root):  # the provinces side by side, by code (national.py)
            register_duckdb(connection, self.root)
            return connection
        for folder in sorted(p for p in self.root.glob("*") if p.is_dir()):
            if not folder.name.isidentifier() or folder.name.endswith(DELTA_SUFFIX):
                continue
            files = self.table_files(folder.name)
            if files:
                connection.execute(
                    f"CREATE VIEW {folder.name} AS {self.table_sql(folder.name, files)}"
                )
        return connection

    def listing(self) -> tuple:
        """What a database's views are made of: every Parquet file under the root, a national
        layout's partitions included, and the layout's file (name, size, modification time) —
        a delta written, a year or a province rewritten or a file gone changes it."""
        found = []
        for path in sorted([*self.root.rglob("*.parquet"), self.root / LAYOUT]):
            with contextlib.suppress(FileNotFoundError):  # removed while listed
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def _pool_key(self) -> tuple[str, int]:
        """Whose idle databases: this directory's, in this process (a forked child never uses
        its parent's)."""
        return str(self.root.resolve()), os.getpid()

    def checkout(self) -> tuple[duckdb.DuckDBPyConnection, tuple]:
        """A database with the views (`_connect`) for work of its own, and the listing its
        views were made from: an idle one kept from earlier work when the files are still
        those it was made from, else a new one. Give it back with `checkin`."""
        key, listing = self._pool_key(), self.listing()
        stale: list[duckdb.DuckDBPyConnection] = []
        found = None
        with _POOL_LOCK:
            idle = _POOL.get(key, [])
            while idle and found is None:
                seen, connection = idle.pop()
                if seen == listing:
                    found = connection
                else:
                    stale.append(connection)
        for connection in stale:
            connection.close()
        return (found if found is not None else self._connect()), listing

    def checkin(self, connection: duckdb.DuckDBPyConnection, listing: tuple) -> None:
        """Take a database back from `checkout`: its tables are dropped (the views stay) and
        it is kept for the next work, or closed when POOL are kept already or it fails."""
        try:
            tables = connection.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
            ).fetchall()
            for schema, table in tables:
                connection.execute(f'DROP TABLE "{schema}"."{table}"')
        except duckdb.Error:
            connection.close()
            return
        with _POOL_LOCK:
            idle = _POOL.setdefault(self._pool_key(), [])
            if len(idle) < POOL:
                idle.append((listing, connection))
                return
        connection.close()

    def table_sql(self, table: str, files: list[Path] | None = None) -> str:
        """The SELECT a table's view stands for: its files, and when the table has delta
        files (xinglin/warehouse/fresh.py) the newest delta row of each key replaces the
        row of the same key, and a deleted key's row is left out (last write wins).

        A delta file (`<year>-<seq>.parquet`) holds keys of its year only, as the base file
        `<year>.parquet` does (the year is the period's first four characters in both): the
        years without deltas are read as they are, so a month-end's saves of 2026 leave the
        reading of 2021–2025 a plain scan that DuckDB prunes by the files' statistics."""
        files = files or self.table_files(table)
        deltas = self.table_files(table + DELTA_SUFFIX) if table in DELTA_KEYS else []
        if not deltas:
            return f"SELECT * FROM read_parquet([{_listing(files)}])"
        key = ", ".join(DELTA_KEYS[table])
        newest = (
            f"SELECT * FROM read_parquet([{_listing(deltas)}])"
            f" QUALIFY seq = max(seq) OVER (PARTITION BY {key})"
        )
        years = {year_of(d) for d in deltas}
        # a file not named by a year (the empty `_schema.parquet`, anything else) is merged
        untouched = [f for f in files if year_of(f) not in years | {None}]
        touched = [f for f in files if f not in untouched]
        replaced = (
            f"SELECT b.* FROM read_parquet([{_listing(touched)}]) b ANTI JOIN d USING ({key})"
            " UNION ALL BY NAME "
            if touched
            else ""
        )
        merged = (
            f"WITH d AS ({newest}) {replaced}"
            "SELECT * EXCLUDE (seq, deleted) FROM d WHERE NOT deleted"
        )
        if not untouched:
            return merged
        return (
            f"SELECT * FROM read_parquet([{_listing(untouched)}])"
            f" UNION ALL BY NAME SELECT * FROM ({merged})"
        )

    def query(
        self,
        sql: str,
        params: Sequence = (),
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> QueryResult:
        """Run one read-only SELECT with `?` parameters; WarehouseError on failure/timeout."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise WarehouseError("the warehouse runs SELECT queries only")
        started = time.perf_counter()
        connection = self._connect()
        timer = threading.Timer(timeout, connection.interrupt)
        timer.start()
        try:
            cursor = connection.execute(sql, list(params))
            rows = cursor.fetchmany(max_rows + 1)
            columns = [d[0] for d in cursor.description]
        except duckdb.InterruptException as error:
            self._log(sql, params, started, 0, f"timed out after {timeout}s")
            raise WarehouseError(f"query timed out after {timeout} s") from error
        except duckdb.Error as error:
            self._log(sql, params, started, 0, str(error))
            raise WarehouseError(str(error)) from error
        finally:
            timer.cancel()
            connection.close()
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        seconds = self._log(sql, params, started, len(rows), "")
        return QueryResult(columns, rows, seconds, truncated)

    def _log(self, sql: str, params: Sequence, started: float, rows: int, error: str) -> float:
        seconds = time.perf_counter() - started
        self.recent.append(QueryLogEntry(sql, tuple(params), seconds, rows, error))
        level = logging.WARNING if error else logging.INFO
        log.log(level, "%.3fs %d rows %s%s", seconds, rows, " ".join(sql.split()),
                f" ERROR {error}" if error else "")  # fmt: skip
        return seconds


def _listing(files: list[Path]) -> str:
    return ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)


def default_root() -> Path:
    return Path(getattr(settings, "WAREHOUSE_DIR", settings.VAR_DIR / "warehouse"))
