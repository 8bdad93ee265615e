"""A DB-API-like cursor over the warehouse for multi-statement work (the evaluation engine
fills temporary tables, then runs one compiled statement per coverage of indicators).

It opens one DuckDB connection through `Warehouse._connect` (the same views over the same
Parquet files as `Warehouse.query`), accepts Django's `%s` placeholders (values never enter
the SQL text), stops any statement after `timeout` seconds (one watchdog thread for every
cursor) and logs every statement with its timing in the warehouse's log (logger
`xinglin.warehouse`, `Warehouse.recent`).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence

import duckdb

from xinglin.warehouse.engine import DEFAULT_TIMEOUT, Warehouse, WarehouseError


class _Watchdog:
    """One thread that interrupts every cursor's statement still running at its deadline
    (DuckDB has no statement timeout). A statement registers its deadline and releases it when
    done: a lock and a heap push, where a `threading.Timer` per statement started a thread
    (≈ 0.8 ms, ~50 per province evaluation). The interrupt is called under the lock, so once
    `release` returns it cannot reach the connection's next statement."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the thread is not forked with us

    def _reset(self) -> None:
        self._lock = threading.Condition()
        self._deadlines: list[tuple[float, int]] = []  # a heap of (deadline, token)
        self._live: dict[int, Callable[[], None]] = {}  # token -> interrupt, until released
        self._tokens = itertools.count()
        self._running = False

    def watch(self, seconds: float, interrupt: Callable[[], None]) -> int:
        """Call `interrupt` in `seconds` unless released first; the token to release."""
        with self._lock:
            if not self._running:
                threading.Thread(target=self._run, name="warehouse-watchdog", daemon=True).start()
                self._running = True
            token = next(self._tokens)
            heapq.heappush(self._deadlines, (time.monotonic() + seconds, token))
            self._live[token] = interrupt
            if self._deadlines[0][1] == token:  # sooner than what the thread waits for
                self._lock.notify()
            return token

    def release(self, token: int) -> None:
        with self._lock:
            self._live.pop(token, None)  # its heap entry is dropped when it comes first

    def _run(self) -> None:
        with self._lock:
            while True:
                while self._deadlines and self._deadlines[0][1] not in self._live:
                    heapq.heappop(self._deadlines)
                if not self._deadlines:
                    self._lock.wait()
                    continue
                deadline, token = self._deadlines[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                heapq.heappop(self._deadlines)
                with contextlib.suppress(duckdb.Error):  # closed meanwhile: nothing to stop
                    self._live.pop(token)()


_WATCHDOG = _Watchdog()


class WarehouseCursor:
    vendor = "duckdb"

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connection=None,
        threads: int | None = None,
    ) -> None:
        """`threads`: DuckDB's threads for this cursor's database (its forks share them);
        by default the warehouse's setting, else DuckDB's (every core). The database is the
        warehouse's (`Warehouse.checkout`: kept between cursors while the files stay the
        same); a fork shares its cursor's."""
        self.warehouse = warehouse
        self.timeout = timeout
        self._listing: tuple | None = None
        self._failed = False
        if connection is None:
            connection, self._listing = warehouse.checkout()
            threads = threads or warehouse.threads
            connection.execute(f"SET threads = {int(threads)}" if threads else "RESET threads")
        self._connection = connection
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
        watched = _WATCHDOG.watch(self.timeout, self._connection.interrupt)
        try:
            outcome = work()
            if keep:
                self._result = outcome
        except duckdb.InterruptException as error:
            self._failed = True
            self.warehouse._log(sql, params or (), started, 0, f"timed out after {self.timeout}s")
            raise WarehouseError(f"statement timed out after {self.timeout} s") from error
        except duckdb.Error as error:
            self._failed = True
            self.warehouse._log(sql, params or (), started, 0, str(error))
            raise WarehouseError(str(error)) from error
        finally:
            _WATCHDOG.release(watched)
        self.warehouse._log(sql, params or (), started, -1 if keep else outcome.num_rows, "")
        return outcome

    def fetchall(self) -> list[tuple]:
        return self._result.fetchall() if self._result is not None else []

    def fetchone(self) -> tuple | None:
        return self._result.fetchone() if self._result is not None else None

    def close(self) -> None:
        """A fork's connection is closed; the cursor's database goes back to the warehouse
        (closed instead when one of its statements failed or was stopped)."""
        self._result = None
        if self._listing is None or self._failed:
            self._connection.close()
        else:
            self.warehouse.checkin(self._connection, self._listing)
        self._listing = None

    def __enter__(self) -> WarehouseCursor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
