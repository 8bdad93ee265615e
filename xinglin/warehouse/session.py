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

    def __init__(self, warehouse: Warehouse, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.warehouse = warehouse
        self.timeout = timeout
        self._connection = warehouse._connect()
        self._result: duckdb.DuckDBPyConnection | None = None

    def execute(self, sql: str, params: Sequence = ()) -> None:
        started = time.perf_counter()
        timer = threading.Timer(self.timeout, self._connection.interrupt)
        timer.start()
        try:
            self._result = self._connection.execute(sql.replace("%s", "?"), list(params or ()))
        except duckdb.InterruptException as error:
            self.warehouse._log(sql, params or (), started, 0, f"timed out after {self.timeout}s")
            raise WarehouseError(f"statement timed out after {self.timeout} s") from error
        except duckdb.Error as error:
            self.warehouse._log(sql, params or (), started, 0, str(error))
            raise WarehouseError(str(error)) from error
        finally:
            timer.cancel()
        self.warehouse._log(sql, params or (), started, -1, "")

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
