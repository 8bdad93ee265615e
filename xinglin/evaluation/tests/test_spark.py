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
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.test_backends import _fill, _rows
from xinglin.evaluation.tests.test_engine_reference import _pack
from xinglin.evaluation.tests.test_fresh_warehouse import (
    INSTITUTION,
    _month_with_visits,
    _save,
    _visits,
)
from xinglin.network.models import OrgUnit
from xinglin.warehouse import Warehouse, fresh
from xinglin.warehouse.export import export_tables, export_time

# one worker runs them all (scripts/test.sh: --dist loadgroup), so one JVM starts, not two
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def test_spark_over_the_national_layout_gives_the_database_results(world, tmp_path):
    _fill(0)
    national, standard = tmp_path / "national", tmp_path / "standard"
    out = io.StringIO()
    call_command("warehouse", "export", "--layout", "national", "--to", str(national), stdout=out)
    assert "national layout under" in out.getvalue()
    export_tables(standard)
    values = national / "collection_datavalue" / "province=64"
    years = sorted({p[:4] for p in DataValue.objects.values_list("period", flat=True)})
    assert sorted(p.stem for p in values.glob("*.parquet")) == years
    table = pq.read_table(values / "2024.parquet")
    assert table.column_names == ["element", "orgunit", "period", "value"]  # codes, not ids
    stored = DataValue.objects.filter(period__startswith="2024").select_related("element",
                                                                                "orgunit")  # fmt: skip
    assert sorted(table.to_pylist(), key=lambda r: tuple(r.values())) == sorted(
        ({"element": v.element.code, "orgunit": v.orgunit.code, "period": v.period,
          "value": v.value} for v in stored), key=lambda r: tuple(r.values()))  # fmt: skip
    units = pq.read_table(national / "network_orgunit" / "province=64" / "all.parquet")
    assert sorted(units.column("code").to_pylist()) == sorted(
        OrgUnit.objects.filter(path__startswith="/64/").values_list("code", flat=True)
    )
    assert export_time(national) is not None
    on_db = evaluate(_pack(), "640323", "2024", backend="database")
    on_duckdb = evaluate(_pack(), "640323", "2024", backend="warehouse",
                         warehouse=Warehouse(national))  # fmt: skip
    assert _rows(on_duckdb) == _rows(on_db)
    # as pages pass it: a township, whose id in the database is not the national export's
    township = OrgUnit.objects.get(code="640323100")
    by_object = evaluate(_pack(), township, "2024", backend="warehouse",
                         warehouse=Warehouse(national))  # fmt: skip
    assert by_object.orgunit.pk != township.pk
    assert _rows(by_object) == _rows(evaluate(_pack(), township, "2024", backend="database"))
    warehouse = Warehouse(national)
    on_spark = evaluate(_pack(), "640323", "2024", backend="spark", warehouse=warehouse)
    assert (on_spark.backend, on_spark.data_as_of) == ("spark", export_time(national))
    assert _rows(on_spark) == _rows(on_db)
    assert on_spark.verdict == on_db.verdict
    assert len(on_db.results) > 10
    statements = [entry.sql for entry in warehouse.recent]
    assert any("WITH RECURSIVE" in sql for sql in statements)  # the engine's own statements
    with pytest.raises(CommandError, match="no province with code 99") as refused:
        call_command("warehouse", "export", "--layout", "national", "--to", str(national),
                     "--province", "99", stdout=io.StringIO())  # fmt: skip
    assert refused.value.returncode == 2


def test_the_command_runs_on_spark_and_names_what_is_wrong(world, tmp_path, settings,
                                                           monkeypatch, capsys):  # fmt: skip
    _fill(1)
    export_tables(tmp_path)
    args = ["--pack", "demo-county-2022", "--orgunit", "640323", "--period", "2024",
            "--format", "json", "--backend", "spark"]  # fmt: skip
    call_command("evaluate", *args, "--warehouse", str(tmp_path))
    on_spark = json.loads(capsys.readouterr().out)
    on_db = evaluate("demo-county-2022", "640323", "2024", backend="database")
    assert on_spark == json.loads(_json(on_db))
    assert len(on_spark) > 10
    # a value saved since the export reaches Spark through the fresh copy's delta files, as it
    # reaches DuckDB (decision 0014): the same figures as the database's again
    month = _month_with_visits()
    _save(INSTITUTION, month, _visits(INSTITUTION, month).value + 5000)
    assert fresh.catch_up(tmp_path).deltas
    again = evaluate("demo-county-2022", "640323", "2024", backend="spark",
                     warehouse=Warehouse(tmp_path))  # fmt: skip
    now = evaluate("demo-county-2022", "640323", "2024", backend="database")
    assert _rows(again) == _rows(now) and _rows(now) != _rows(on_db)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no warehouse export under") as e:
        call_command("evaluate", *args, "--warehouse", str(tmp_path / "empty"))  # fmt: skip
    assert e.value.returncode == 2
    settings.SPARK_MASTER = "spark//cluster:7077"
    with pytest.raises(CommandError, match="'spark//cluster:7077' is not a Spark master URL") as e:
        call_command("evaluate", *args, "--warehouse", str(tmp_path), stdout=io.StringIO())
    assert e.value.returncode == 2
    settings.SPARK_MASTER = "local[2]"
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(CommandError, match="needs a Java 17 runtime") as e:
        call_command("evaluate", *args, "--warehouse", str(tmp_path), stdout=io.StringIO())
    assert e.value.returncode == 2


def _json(evaluation) -> str:
    from xinglin.evaluation import exports

    return exports.render(evaluation.results, "json")
