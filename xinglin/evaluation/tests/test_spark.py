"""Spark SQL as an evaluation backend (issue 25, "Beyond one machine"): the engine's statements,
transpiled by SQLGlot, run on Spark (local mode) over the warehouse's Parquet and give the
database's and DuckDB's results field by field — over this database's export and over the
national layout (codes, partitioned by province). One SparkSession serves the whole test
session (warehouse.spark keeps it: Spark takes seconds to start). Marked `spark`: the
PostgreSQL pass leaves them out (conftest.py); the backends' agreement on PostgreSQL is
test_backends.py's."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinglin.collection.models import DataValue
from xinglin.evaluation import engine
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.test_backends import _fill, _rows
from xinglin.evaluation.tests.test_engine_reference import _pack
from xinglin.network.models import OrgUnit
from xinglin.warehouse import Warehouse, WarehouseError
from xinglin.warehouse.export import export_tables, export_time
from xinglin.warehouse.national import export_national

pytestmark = pytest.mark.spark


def test_spark_gives_the_database_and_duckdb_results(world, tmp_path):
    _fill(0)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    for pack in (_pack(), "demo-county-2022"):
        on_db = evaluate(pack, "640323", "2024", backend="database")
        on_duckdb = evaluate(pack, "640323", "2024", backend="warehouse", warehouse=warehouse)
        on_spark = evaluate(pack, "640323", "2024", backend="spark", warehouse=warehouse)
        assert on_spark.backend == "spark"
        assert on_spark.data_as_of == export_time(tmp_path)
        assert _rows(on_spark) == _rows(on_db) == _rows(on_duckdb)
        assert on_spark.verdict == on_db.verdict
        assert len(on_db.results) > 10
    statements = [entry.sql for entry in warehouse.recent]
    assert any("WITH RECURSIVE" in sql for sql in statements)  # the engine's own statements


def test_the_national_layout_by_code_and_province(world, tmp_path):
    _fill(3)
    result = export_national(tmp_path)
    values = tmp_path / "collection_datavalue" / "province=64"
    assert sorted(p.name for p in values.glob("*.parquet")) == ["2022.parquet", "2023.parquet",
                                                                 "2024.parquet"]  # fmt: skip
    table = pq.read_table(values / "2024.parquet")
    assert table.column_names == ["element", "orgunit", "period", "value"]
    stored = DataValue.objects.filter(period__startswith="2024")
    assert table.num_rows == stored.count()
    first = stored.select_related("element", "orgunit").order_by("element__code",
                                                                  "orgunit__code", "period")[0]  # fmt: skip
    assert table.slice(0, 1).to_pylist()[0] == {
        "element": first.element.code, "orgunit": first.orgunit.code, "period": first.period,
        "value": first.value}  # fmt: skip
    units = pq.read_table(tmp_path / "network_orgunit" / "province=64" / "all.parquet")
    assert set(units.column("code").to_pylist()) == set(
        OrgUnit.objects.filter(path__startswith="/64/").values_list("code", flat=True)
    )
    assert "collection_datavalue/province=64/2024" in result.written
    assert export_time(tmp_path) is not None
    warehouse = Warehouse(tmp_path)
    on_db = evaluate(_pack(), "640323", "2024", backend="database")
    on_duckdb = evaluate(_pack(), "640323", "2024", backend="warehouse", warehouse=warehouse)
    on_spark = evaluate(_pack(), "6403", "2024", backend="spark", warehouse=warehouse)
    assert _rows(on_duckdb) == _rows(on_db)
    county = [r for r in _rows(on_spark) if r["orgunit"] != "6403"]
    assert county == [r for r in _rows(evaluate(_pack(), "6403", "2024", backend="database"))
                      if r["orgunit"] != "6403"]  # fmt: skip


def test_the_command_runs_on_spark_and_names_what_is_wrong(world, tmp_path, settings,
                                                           monkeypatch):  # fmt: skip
    _fill(1)
    settings.WAREHOUSE_DIR = tmp_path
    export_tables(tmp_path)
    args = ["--pack", "demo-county-2022", "--orgunit", "640323", "--period", "2024",
            "--format", "json"]  # fmt: skip
    out = io.StringIO()
    call_command("evaluate", *args, "--backend", "spark", stdout=out)
    on_db = evaluate("demo-county-2022", "640323", "2024", backend="database")
    assert json.loads(out.getvalue()) == json.loads(_json(on_db))
    settings.SPARK_MASTER = "spark//cluster:7077"
    with pytest.raises(CommandError, match="'spark//cluster:7077' is not a Spark master URL") as e:
        call_command("evaluate", *args, "--backend", "spark", stdout=io.StringIO())
    assert e.value.returncode == 2
    settings.SPARK_MASTER = "local[2]"
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(CommandError, match="needs a Java 17 runtime") as e:
        call_command("evaluate", *args, "--backend", "spark", stdout=io.StringIO())
    assert e.value.returncode == 2


def test_large_scopes_go_to_spark_when_the_settings_say_so(world, tmp_path, settings,
                                                           monkeypatch):  # fmt: skip
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    monkeypatch.setattr(engine, "WAREHOUSE_MIN_INSTITUTIONS", 5)
    assert engine.choose_backend("640323", warehouse) == "warehouse"
    settings.LARGE_SCOPE_BACKEND = "spark"
    assert engine.choose_backend("640323", warehouse) == "spark"
    assert engine.choose_backend("640323101", warehouse) == "database"
    assert evaluate(_pack(), "640323", "2024", warehouse=warehouse).backend == "spark"
    with pytest.raises(WarehouseError):
        evaluate(_pack(), "640323", "2024", backend="spark", warehouse=Warehouse(tmp_path / "none"))


def _json(evaluation) -> str:
    from xinglin.evaluation import exports

    return exports.render(evaluation.results, "json")
