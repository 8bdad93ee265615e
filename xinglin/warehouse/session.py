"""A DB-API-like cursor over the warehouse for multi-statement work (the evaluation engine
fills temporary tables, then runs one compiled statement per indicator).

It opens one DuckDB connection through `Warehouse._connect` (the same views over the same
Parquet files as `Warehouse.query`), accepts Django's `%s` placeholders (values never enter
the SQL text), stops any statement after `timeout` seconds and logs every statement with its
timing in the warehouse's log (logger `xinglin.warehouse`, `Warehouse.recent`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import duckdb

from xinglin.warehouse.engine import DEFAULT_TIMEOUT, Warehouse, WarehouseError


class WarehouseCursor:
    vendor = "duckdb"

    def __init__(
        self, warehouse: Warehouse, *, timeout: float = DEFAULT_TIMEOUT, connection=None
    ) -> None:
        self.warehouse = warehouse
        self.timeout = timeout
        self._connection = connection or warehouse._connect()
        self._result: duckdb.DuckDBPyConnection | None = None

    def fork(self) -> WarehouseCursor:
        """Another cursor on the same in-memory database (its tables, not its TEMP tables),
        for a statement run beside this one's in another thread."""
        return WarehouseCursor(
            self.warehouse, timeout=self.timeout, connection=self._connection.cursor()
        )

    def execute(self, sql: str, params: Sequence = ()) -> None:
        self._run(lambda: self._connection.execute(sql.replace("%s", "?"), list(params or ())),
                  sql, params)  # fmt: skip

    def query_arrow(self, sql: str, params: Sequence = ()):
        """Run a SELECT and hand back its result as an Arrow table (columns, no Python per
        row), with the same timeout and log as execute."""
        self._result = None
        run = lambda: self._connection.sql(sql.replace("%s", "?"), params=list(params or ()))  # noqa: E731
        return self._run(lambda: run().to_arrow_table(), sql, params, keep=False)

    def _run(self, work, sql: str, params: Sequence, keep: bool = True):
        started = time.perf_counter()
        timer = threading.Timer(self.timeout, self._connection.interrupt)
        timer.start()
        try:
            outcome = work()
            if keep:
                self._result = outcome
        except duckdb.InterruptException as error:
            self.warehouse._log(sql, params or (), started, 0, f"timed out after {self.timeout}s")
            raise WarehouseError(f"statement timed out after {self.timeout} s") from error
        except duckdb.Error as error:
            self.warehouse._log(sql, params or (), started, 0, str(error))
            raise WarehouseError(str(error)) from error
        finally:
            timer.cancel()
        self.warehouse._log(sql, params or (), started, -1 if keep else outcome.num_rows, "")
        return outcome

    def fetchall(self) -> list[tuple]:
        return self._result.fetchall() if self._result is not None else []

    def fetchone(self) -> tuple | None:
        return self._result.fetchone() if self._result is not None else None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> WarehouseCursor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
