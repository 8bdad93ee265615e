"""The warehouse copy kept fresh (docs/decisions/0014-fresh-warehouse.md): a value saved,
changed or removed through the guarded write reaches the warehouse-backend evaluation of the
city after the maintainer catches up — field by field the database backend's figures —
without an export by hand, and the evaluation cache never keeps figures from a copy that
lags the database."""

from __future__ import annotations

import time

import pyarrow.parquet as pq
import pytest

from xinglin.collection.actions import write
from xinglin.collection.batch import Candidate
from xinglin.collection.models import DataValue
from xinglin.core import generation
from xinglin.core.generation import Scope
from xinglin.evaluation import cache
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.test_backends import _fill, _rows
from xinglin.evaluation.tests.test_engine_reference import _pack
from xinglin.network.models import OrgUnit
from xinglin.warehouse import Warehouse, copy_state, fresh
from xinglin.warehouse.export import export_tables, export_time

CITY, INSTITUTION = "6403", "640323100001"
OPEN = (
    "640323100001",
    "640323000001",
    "640323101001",
    "640323100101",
)  # open all of 2024 (conftest)


def _visits(orgunit: str, period: str) -> DataValue:
    return DataValue.objects.get(element__code="total_visits", orgunit__code=orgunit, period=period)


def _save(orgunit: str, period: str, value: float | None) -> None:
    """Through the one guarded write, as a form or the API does (None: remove the value)."""
    candidate = Candidate(orgunit, period, "total_visits", value, delete=value is None)
    result = write([candidate], user=None, channel="system", confirm=True)
    assert result.written and not result.errors, result.problems


def _same(warehouse: Warehouse, unit: str = CITY) -> bool:
    on_db = evaluate(_pack(), unit, "2024", backend="database")
    on_copy = evaluate(_pack(), unit, "2024", backend="warehouse", warehouse=warehouse)
    return _rows(on_copy) == _rows(on_db) and on_copy.verdict == on_db.verdict


def _month_with_visits() -> str:
    return next(
        p for p in (f"2024{m:02d}" for m in range(1, 13))
        if DataValue.objects.filter(element__code="total_visits", orgunit__code=INSTITUTION,
                                    period=p).exists()
    )  # fmt: skip


def test_saved_changed_and_removed_values_reach_the_city_after_a_catch_up(world, tmp_path):
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    assert _same(warehouse)
    month = _month_with_visits()
    before = _visits(INSTITUTION, month).value
    _save(INSTITUTION, month, before + 5000)  # a figure the city's indicators read
    assert not _same(warehouse)  # the copy lags until the maintainer runs
    assert fresh.behind(tmp_path)
    caught = fresh.catch_up(tmp_path)
    assert (caught.keys, caught.deleted, caught.rewritten) == (1, 0, [])
    assert _same(warehouse) and _same(warehouse, INSTITUTION)
    assert not fresh.behind(tmp_path)
    # the delta holds the database's row; the year's file was not rewritten
    delta = pq.read_table(tmp_path / fresh.DELTA_DIR / caught.deltas[0]).to_pylist()
    assert delta == [{"element_id": _visits(INSTITUTION, month).element_id,
                      "orgunit_id": _visits(INSTITUTION, month).orgunit_id, "period": month,
                      "value": before + 5000, "combo": "", "seq": 1,
                      "deleted": False}]  # fmt: skip
    # removed, and a value where there was none
    other, empty = next((c, f"2024{m:02d}") for c in OPEN for m in range(1, 13)
                        if not DataValue.objects.filter(element__code="total_visits",
                            orgunit__code=c, period=f"2024{m:02d}").exists())  # fmt: skip
    _save(INSTITUTION, month, None)
    _save(other, empty, 77)
    assert not _same(warehouse)
    caught = fresh.catch_up(tmp_path)
    assert (caught.keys, caught.deleted) == (2, 1)
    assert _same(warehouse)
    on_copy = evaluate(_pack(), CITY, "2024", backend="warehouse", warehouse=warehouse)
    assert on_copy.data_as_of == export_time(tmp_path)
    # changed twice between two catch-ups: the last write wins
    _save(other, empty, 78)
    _save(other, empty, 79)
    assert fresh.catch_up(tmp_path).keys == 1
    assert _same(warehouse)
    counted = Warehouse(tmp_path).query(
        "SELECT value FROM collection_datavalue WHERE orgunit_id = ? AND period = ?",
        [_visits(other, empty).orgunit_id, empty],
    )
    assert counted.rows == [(79.0,)]


def test_compaction_and_a_full_export_keep_the_same_figures(world, tmp_path):
    _fill(3)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    month = _month_with_visits()
    for step in range(3):
        _save(INSTITUTION, month, 1000 + step)
        fresh.catch_up(tmp_path)
    assert len(fresh.delta_files(tmp_path, "2024")) == 3
    assert fresh.compact(tmp_path, min_files=3) == ["2024"]
    assert _same(warehouse)  # the merged year, the retired deltas still beside it
    fresh.retire(tmp_path, after=0)
    assert fresh.delta_files(tmp_path) == []
    assert _same(warehouse)
    base = pq.read_table(tmp_path / "collection_datavalue" / "2024.parquet")
    assert base.num_rows == DataValue.objects.filter(period__startswith="2024").count()
    # a nightly export after catch-ups rewrites the year and drops its deltas
    _save(INSTITUTION, month, 2000)
    fresh.catch_up(tmp_path)
    assert fresh.delta_files(tmp_path, "2024")
    assert "collection_datavalue/2024" in export_tables(tmp_path).written
    assert fresh.delta_files(tmp_path) == []
    assert _same(warehouse)


def test_the_cache_keeps_no_figures_of_a_lagging_copy(world, tmp_path):
    _fill(1)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    month = _month_with_visits()
    cache.clear()

    def city():
        return cache.cached(("test-city",), lambda: evaluate(
            _pack(), CITY, "2024", backend="warehouse", warehouse=warehouse))  # fmt: skip

    first = city()
    assert city() is first  # a copy of the current generation: kept
    _save(INSTITUTION, month, 4321)
    lagging = city()
    assert city() is not lagging  # computed again: the copy was behind
    fresh.catch_up(tmp_path)
    current = city()
    assert city() is current
    assert _rows(current) == _rows(evaluate(_pack(), CITY, "2024", backend="database"))


@pytest.mark.django_db(transaction=True)
def test_the_background_maintainer_catches_up_within_seconds(world, tmp_path, settings):
    """The maintainer's loop as `xinglin warehouse maintain` runs it, in a thread with its own
    database connection (hence committed data: a transactional test)."""
    _fill(4)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    month = _month_with_visits()
    thread, stop = fresh.start_thread(tmp_path, interval=0.1)
    try:
        _save(INSTITUTION, month, 9876)
        wanted = generation.current()
        deadline = time.monotonic() + 10
        while copy_state.copy_generation(tmp_path) != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert copy_state.copy_generation(tmp_path) == wanted
        assert _same(warehouse)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_lost_triggers_mean_the_copy_is_exported_again(world, tmp_path):
    """A migration that rebuilds the value table (SQLite) drops its triggers: a write made
    meanwhile is not recorded, so the next catch-up exports the copy again and puts them back."""
    _fill(5)
    export_tables(tmp_path)
    assert fresh.triggers_present()
    copy_state.uninstall_triggers()
    month = _month_with_visits()
    _save(INSTITUTION, month, 5555)
    caught = fresh.catch_up(tmp_path)
    assert "collection_datavalue/2024" in caught.rewritten
    assert fresh.triggers_present()
    assert _same(Warehouse(tmp_path))
    _save(INSTITUTION, month, 5556)  # recorded again
    assert fresh.catch_up(tmp_path).keys == 1
    assert _same(Warehouse(tmp_path))


def test_a_categorised_values_combinations_reach_the_copy_together(world, tmp_path):
    """A key of the change triggers (element, org unit, period) stands for every option
    combination of a categorised element (decision 0013): a catch-up writes them all, the
    reader takes all of the newest, and removing one combination leaves the other."""
    _fill(0)
    export_tables(tmp_path)

    def written(*rows):
        candidates = [Candidate(INSTITUTION, "2024", f"elderly_tcm_managed.{c}", v,
                                delete=v is None) for c, v in rows]  # fmt: skip
        result = write(candidates, user=None, channel="system", confirm=True)
        assert result.written and not result.errors, result.problems

    def in_copy() -> list:
        return sorted(Warehouse(tmp_path).query(
            "SELECT v.combo, v.value FROM collection_datavalue AS v"
            " JOIN standards_dataelement AS e ON e.id = v.element_id"
            " JOIN network_orgunit AS o ON o.id = v.orgunit_id"
            " WHERE e.code = 'elderly_tcm_managed' AND o.code = ? AND v.period = '2024'",
            [INSTITUTION],
        ).rows)  # fmt: skip

    def in_database() -> list:
        return sorted(DataValue.objects.filter(
            element__code="elderly_tcm_managed", orgunit__code=INSTITUTION, period="2024"
        ).values_list("combo", "value"))  # fmt: skip

    written(("F", 30), ("M", 20))
    fresh.catch_up(tmp_path)
    assert in_copy() == in_database() == [("F", 30.0), ("M", 20.0)]
    written(("F", 31))  # one combination changed: the key's rows come again, both
    fresh.catch_up(tmp_path)
    assert in_copy() == in_database() == [("F", 31.0), ("M", 20.0)]
    written(("M", None))  # one removed: the other stays
    fresh.catch_up(tmp_path)
    assert in_copy() == in_database() == [("F", 31.0)]
    assert _same(Warehouse(tmp_path))


def test_the_copy_lags_only_for_the_scopes_a_save_reaches_until_it_caught_up(world, tmp_path):
    """Decision 0019: the manifest keeps where every scope's generation stood when the copy
    was read, so a reader asks whether its own year and branch moved since."""
    _fill(2)
    export_tables(tmp_path)
    city = OrgUnit.objects.get(code=CITY).path
    scopes = {"city 2024": Scope.of(city, 2024, 2024), "city 2023": Scope.of(city, 2023, 2023),
              "other city 2024": Scope.of("/64/6401/", 2024, 2024),
              "everything": None}  # fmt: skip
    assert not any(copy_state.lags(tmp_path, s) for s in scopes.values())
    _save(INSTITUTION, _month_with_visits(), 4321)
    lagging = {name for name, s in scopes.items() if copy_state.lags(tmp_path, s)}
    assert lagging == {"city 2024", "everything"}
    fresh.catch_up(tmp_path)
    assert not any(copy_state.lags(tmp_path, s) for s in scopes.values())
    kept = copy_state.read_manifest(tmp_path)["scopes"]  # what the catch-up's read began at
    assert kept == generation.snapshot() and (kept.get("sums") or kept.get("top"))
    assert copy_state.lags(tmp_path / "nowhere", scopes["city 2023"])  # a copy that does not say


def test_a_save_outside_an_evaluations_scope_leaves_its_copy_figures_keepable(world, tmp_path):
    """Decision 0019 on the warehouse backend: the engine asks whether its own unit's branch
    and year moved since the copy was read, so a save of 2024 leaves the city's 2023 figures
    from the copy keepable, and the city's 2024 figures are not kept until a catch-up."""
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    path = OrgUnit.objects.get(code=CITY).path
    cache.clear()

    def city(year: str):
        return cache.cached(
            ("test-city", year),
            lambda: evaluate(_pack(), CITY, year, backend="warehouse", warehouse=warehouse),
            scope=Scope.of(path, int(year), int(year)),
        )

    before = {year: city(year) for year in ("2023", "2024")}
    _save(INSTITUTION, _month_with_visits(), 4321)
    assert city("2023") is before["2023"]  # its scope did not move: kept
    lagging = city("2024")
    assert lagging is not before["2024"]  # its scope moved: computed again
    assert city("2024") is not lagging  # from a lagging copy: not kept
    cache.clear()  # computed afresh while the copy lags in 2024 only
    earlier = city("2023")
    assert city("2023") is earlier  # the copy holds all of 2023: kept
    fresh.catch_up(tmp_path)
    current = city("2024")
    assert city("2024") is current


def _stored_rows() -> list[tuple]:
    return sorted(
        DataValue.objects.values_list("element_id", "orgunit_id", "period", "combo", "value")
    )


def _copy_rows(warehouse: Warehouse) -> list[tuple]:
    found = warehouse.query(
        "SELECT element_id, orgunit_id, period, combo, value FROM collection_datavalue",
        max_rows=10_000_000,
    )
    return sorted(found.rows)


def test_years_without_deltas_are_read_as_exported_and_every_row_is_the_databases(world, tmp_path):
    """A catch-up's deltas are merged into their own year only: the other years' files are
    read plainly (month-end: 2026 saved, 2021–2025 read by the scorecards), and the copy still
    holds exactly the database's rows, in the year with deltas, the years without, and a
    year that had no file before its first delta."""
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    years = sorted({p[:4] for p in DataValue.objects.values_list("period", flat=True)})
    assert len(years) >= 2, years
    month = _month_with_visits()
    _save(INSTITUTION, month, _visits(INSTITUTION, month).value + 321)
    _save(INSTITUTION, "202601", 45)  # a year with no value file yet
    fresh.catch_up(tmp_path)
    assert {p.name[:4] for p in copy_state.delta_files(tmp_path)} == {month[:4], "2026"}
    assert _copy_rows(warehouse) == _stored_rows()
    sql = warehouse.table_sql("collection_datavalue")
    plain, _, merged = sql.partition("UNION ALL BY NAME SELECT * FROM (")
    for year in years:
        in_plain = f"/{year}.parquet'" in plain
        assert in_plain == (year != month[:4]), (year, sql)  # only the delta's year is merged
    assert f"/{month[:4]}.parquet'" in merged and "ANTI JOIN" in merged
    assert _same(warehouse)
