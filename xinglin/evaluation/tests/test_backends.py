"""The same evaluation on the operational database (SQLite or PostgreSQL: the suite runs on
both) and on DuckDB over the Parquet export gives identical results; the engine says where it
ran and picks the warehouse for large scopes only; the export is incremental."""

from __future__ import annotations

import logging
import time

import pytest
from django.db import connection

from xinglin.collection.models import DataValue
from xinglin.evaluation import backends, engine, prepare
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.test_engine_reference import ITEMS, _generate, _pack, _store
from xinglin.network.models import OrgUnit
from xinglin.standards.models import TechniqueItem
from xinglin.warehouse import Warehouse, WarehouseError
from xinglin.warehouse.export import export_tables, export_time
from xinglin.warehouse.session import WarehouseCursor


def _fill(seed: int) -> None:
    ITEMS[:] = sorted(TechniqueItem.objects.values_list("code", flat=True))[:12]
    _store(*_generate(seed))


def _rows(evaluation) -> list[dict]:
    return sorted((r.as_json() for r in evaluation.results), key=lambda r: (r["indicator"],
                  r["orgunit"]))  # fmt: skip


@pytest.mark.parametrize("seed", [0, 5])
def test_warehouse_gives_the_database_results(world, tmp_path, seed):
    _fill(seed)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    for pack in (_pack(), "demo-county-2022"):
        for year in ("2022", "2024"):
            on_db = evaluate(pack, "640323", year, backend="database")
            on_duckdb = evaluate(pack, "640323", year, backend="warehouse", warehouse=warehouse)
            assert (on_db.backend, on_duckdb.backend) == ("database", "warehouse")
            assert on_duckdb.data_as_of == export_time(tmp_path)
            assert _rows(on_duckdb) == _rows(on_db)
            assert on_duckdb.verdict == on_db.verdict
            assert len(on_db.results) > 10


def test_a_township_on_the_warehouse(world, tmp_path):
    _fill(3)
    export_tables(tmp_path)
    on_db = evaluate(_pack(), "640323101", "2024", backend="database")
    on_duckdb = evaluate(_pack(), "640323101", "2024", backend="warehouse",
                         warehouse=Warehouse(tmp_path))  # fmt: skip
    assert _rows(on_duckdb) == _rows(on_db)
    assert on_duckdb.orgunit.code == "640323101"


def test_auto_keeps_a_county_on_the_database(world, tmp_path, monkeypatch, caplog):
    _fill(1)
    warehouse = Warehouse(tmp_path)
    assert engine.choose_backend("640323", warehouse) == "database"  # no export yet
    export_tables(tmp_path)
    assert engine.choose_backend("640323", warehouse) == "database"  # 7 institutions
    monkeypatch.setattr(backends, "WAREHOUSE_MIN_INSTITUTIONS", 5)
    assert engine.choose_backend("640323", warehouse) == "warehouse"
    assert engine.choose_backend("640323101", warehouse) == "database"
    with caplog.at_level(logging.INFO, logger="xinglin.evaluation"):
        evaluation = evaluate(_pack(), "640323", "2024", warehouse=warehouse)
    assert evaluation.backend == "warehouse"
    assert "evaluate reference 640323 2024 on warehouse" in caplog.text


def test_export_rewrites_only_the_years_that_changed(world, tmp_path):
    _fill(2)
    first = export_tables(tmp_path)
    assert "collection_datavalue/2022" in first.written
    assert "collection_datavalue/2024" in first.written
    assert export_tables(tmp_path).written == []
    value = DataValue.objects.filter(period__startswith="2024").order_by("id").first()
    DataValue.objects.filter(pk=value.pk).delete()
    again = export_tables(tmp_path)
    assert again.written == ["collection_datavalue/2024"]
    on_duckdb = evaluate(_pack(), "640323", "2024", backend="warehouse",
                         warehouse=Warehouse(tmp_path))  # fmt: skip
    assert _rows(on_duckdb) == _rows(evaluate(_pack(), "640323", "2024", backend="database"))


def test_large_scopes_go_to_spark_when_the_settings_say_so(world, tmp_path, settings,
                                                           monkeypatch):  # fmt: skip
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    monkeypatch.setattr(backends, "WAREHOUSE_MIN_INSTITUTIONS", 5)
    settings.LARGE_SCOPE_BACKEND = "spark"
    assert engine.choose_backend("640323", warehouse) == "spark"
    assert engine.choose_backend("640323101", warehouse) == "database"  # 3 institutions
    assert engine.choose_backend("640323", Warehouse(tmp_path / "none")) == "database"


def test_unknown_backend_is_refused(world):
    with pytest.raises(engine.EvaluationError, match="one of auto, database, warehouse, spark"):
        evaluate(_pack(), "640323", "2024", backend="hadoop")
    assert OrgUnit.objects.filter(code="640323").exists()


def test_each_database_gets_what_its_planner_needs_for_the_prepared_tables(world):
    """SQLite and PostgreSQL join the prepared tables through the engine's indexes; PostgreSQL
    also needs their statistics: autovacuum never analyzes temporary tables, and without them
    its planner ran a province's indicator statements as nested loops (W1: minutes instead of
    seconds)."""
    _fill(0)
    evaluate(_pack(), "640323", "2024", backend="database")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'index'")
        else:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = pg_my_temp_schema()"
                "::regnamespace::text"
            )
        indexes = {row[0] for row in cursor.fetchall()}
        assert set(prepare._INDEXES) <= indexes
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = pg_my_temp_schema()"
                "::regnamespace::text AND tablename IN ('xl_unit', 'xl_member', 'xl_value',"
                " 'xl_tech')"
            )
            analyzed = sorted(row[0] for row in cursor.fetchall())
            assert analyzed == ["xl_member", "xl_tech", "xl_unit", "xl_value"]


def test_a_cursors_statement_is_stopped_at_its_timeout_and_only_it(tmp_path):
    """The warehouse cursor's timeout (one watchdog thread for every cursor's statements):
    a statement that runs too long is interrupted; the next statements on the connection, and
    the many short ones after them, are not."""
    with WarehouseCursor(Warehouse(tmp_path), timeout=0.3) as cursor:
        started = time.perf_counter()
        with pytest.raises(WarehouseError, match="timed out"):
            cursor.execute("SELECT count(*) FROM range(10000000000) a")
        assert time.perf_counter() - started < 10
        fork = cursor.fork()
        for k in range(300):
            (cursor if k % 2 else fork).execute("SELECT %s + 1", [k])
            assert (cursor if k % 2 else fork).fetchone() == (k + 1,)
        fork.close()
        time.sleep(0.5)  # every released deadline has passed: nothing is interrupted late
        cursor.execute("SELECT 42")
        assert cursor.fetchone() == (42,)


def test_an_evaluations_statements_share_the_cores(tmp_path, monkeypatch):
    """The statements run backends.PARALLEL side by side: each DuckDB database of an
    evaluation gets the cores divided among them (one each on 2 cores), unless the warehouse
    says otherwise."""
    warehouse = Warehouse(tmp_path)
    monkeypatch.setattr(backends.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert backends.statement_threads(warehouse) == 8 // backends.PARALLEL
    assert backends.statement_threads(Warehouse(tmp_path, threads=3)) == 3
    monkeypatch.setattr(backends.os, "sched_getaffinity", lambda pid: {0})
    assert backends.statement_threads(warehouse) == 1
    with backends.cursor_for("warehouse", warehouse) as cursor:
        cursor.execute("SELECT current_setting('threads')")
        assert cursor.fetchone() == (1,)
        fork = cursor.fork()
        fork.execute("SELECT current_setting('threads')")
        assert fork.fetchone() == (1,)  # the forks share the database, and its threads
        fork.close()
