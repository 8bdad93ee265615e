"""The warehouse's databases are kept between cursors (`Warehouse.checkout` / `checkin`):
an evaluation's cursor takes an idle database whose views were made from the files as they
are now, leaves it without its work tables, and never shares it with a cursor at work."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xinglin.warehouse import Warehouse, WarehouseError
from xinglin.warehouse import engine as warehouse_engine
from xinglin.warehouse.session import WarehouseCursor


@pytest.fixture
def made(tmp_path, monkeypatch):
    """A warehouse of one table (t: one file) and the databases made for it so far."""
    (tmp_path / "t").mkdir()
    pq.write_table(pa.table({"a": [1, 2, 3]}), tmp_path / "t" / "2024.parquet")
    warehouse = Warehouse(tmp_path)
    made: list[object] = []
    connect = Warehouse._connect

    def counted(self):
        connection = connect(self)
        made.append(connection)
        return connection

    monkeypatch.setattr(Warehouse, "_connect", counted)
    yield warehouse, made
    warehouse_engine._close_idle()


def _sum(cursor: WarehouseCursor) -> int:
    cursor.execute("SELECT sum(a) FROM t")
    return cursor.fetchone()[0]


def test_a_database_is_kept_for_the_next_cursor_without_its_tables(made):
    warehouse, databases = made
    with WarehouseCursor(warehouse) as cursor:
        cursor.execute("CREATE TABLE xl_work AS SELECT 7 AS b")
        assert _sum(cursor) == 6
    with WarehouseCursor(warehouse) as cursor:
        assert _sum(cursor) == 6
        cursor.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'xl_work'")
        assert cursor.fetchone() == (0,)  # the last cursor's work tables are gone
    assert len(databases) == 1  # made once, used twice


def test_a_changed_file_gets_a_database_made_anew(made):
    warehouse, databases = made
    with WarehouseCursor(warehouse) as cursor:
        assert _sum(cursor) == 6
    pq.write_table(pa.table({"a": [10]}), warehouse.root / "t" / "2025.parquet")
    with WarehouseCursor(warehouse) as cursor:
        assert _sum(cursor) == 16  # the view lists the new file
    pq.write_table(pa.table({"a": [100]}), warehouse.root / "t" / "2025.parquet")
    with WarehouseCursor(warehouse) as cursor:
        assert _sum(cursor) == 106  # the same name rewritten
    assert len(databases) == 3


def test_cursors_at_work_never_share_a_database(made):
    warehouse, databases = made
    first, second, third = (WarehouseCursor(warehouse) for _ in range(3))
    first.execute("CREATE TABLE xl_work AS SELECT 1 AS b")
    second.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'xl_work'")
    assert second.fetchone() == (0,)
    assert len(databases) == 3
    for cursor in (first, second, third):
        cursor.close()
    key = (str(warehouse.root.resolve()), os.getpid())
    assert len(warehouse_engine._POOL[key]) == warehouse_engine.POOL  # the third is closed


def test_a_failed_statement_closes_its_database(made):
    warehouse, databases = made
    with WarehouseCursor(warehouse) as cursor, pytest.raises(WarehouseError):
        cursor.execute("SELECT * FROM no_such_table")
    with WarehouseCursor(warehouse) as cursor:
        assert _sum(cursor) == 6
    assert len(databases) == 2  # the failed one was not kept


def test_a_cursor_sets_its_threads_whatever_the_last_one_set(made):
    warehouse, _databases = made
    with WarehouseCursor(warehouse, threads=1) as cursor:
        cursor.execute("SELECT current_setting('threads')")
        assert cursor.fetchone() == (1,)
    fresh = duckdb.connect()
    default = fresh.execute("SELECT current_setting('threads')").fetchone()
    fresh.close()
    with WarehouseCursor(warehouse) as cursor:  # DuckDB's own again (every core)
        cursor.execute("SELECT current_setting('threads')")
        assert cursor.fetchone() == default


def test_the_listing_sees_a_national_layouts_partitions(made):
    """A national warehouse's files sit a level deeper (table/province=<code>/…) and its
    layout file makes the views differ: both change what a database was made from."""
    warehouse, _databases = made
    before = warehouse.listing()
    partition = warehouse.root / "network_orgunit" / "province=64"
    partition.mkdir(parents=True)
    pq.write_table(pa.table({"code": ["64"]}), partition / "all.parquet")
    deeper = warehouse.listing()
    assert deeper != before
    (warehouse.root / "layout.json").write_text('{"layout": "national"}')
    assert warehouse.listing() != deeper
