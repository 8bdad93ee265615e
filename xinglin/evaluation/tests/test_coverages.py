"""The indicators of one coverage are computed by one statement (`sql.compile_coverage`): each
indicator's columns cut from it are its own statement's (`compile_indicator`), to the last
bit, and an evaluation gives the same results as with one statement per indicator. On the
operational database (SQLite or PostgreSQL: the suite runs on both) and on DuckDB."""

from __future__ import annotations

import numpy as np
import pytest
from sqlglot import exp

from xinglin.evaluation import backends, engine, sql
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.prepare import fill
from xinglin.evaluation.sql import compile_coverage, compile_coverages, compile_indicator
from xinglin.evaluation.tests.test_backends import _fill, _rows
from xinglin.evaluation.tests.test_engine_reference import _pack
from xinglin.lib import periods
from xinglin.network.models import OrgUnit
from xinglin.standards.loader import Pack, get_pack, read_elements
from xinglin.warehouse import Warehouse
from xinglin.warehouse.export import export_tables

PACKS = ("reference", "demo-county-2022")


def _the_pack(code: str) -> Pack:
    return _pack() if code == "reference" else get_pack(code)


def _columns(cursor: backends.Cursor, sql: str, width: int) -> list[np.ndarray]:
    columns = backends.select_columns(cursor, sql, width)
    order = np.argsort(columns[0], kind="stable")
    return [cells[order] for cells in columns]


@pytest.mark.parametrize("code", PACKS)
def test_the_packs_indicators_share_statements(code):
    """Indicators do share coverages (else this file tests nothing), every computed indicator
    is in exactly one, and an indicator alone gets its own statement."""
    pack = _the_pack(code)
    computed = [i for i in pack.indicators if i.is_computed]
    coverages = compile_coverages(computed, read_elements())
    assert sorted(i for c in coverages for i in c.indicators) == sorted(i.id for i in computed)
    assert len(coverages) < len(computed)
    assert any(len(c.indicators) > 2 for c in coverages)
    for indicator in computed:
        alone = compile_coverage([indicator], read_elements())
        assert alone.statement == compile_indicator(indicator, read_elements()).statement
        assert alone.columns == (tuple(range(alone.width)),)


def test_a_coverage_reading_many_elements_is_cut_into_several_statements(monkeypatch):
    """SQLite joins at most 64 tables: past MOST_ELEMENTS (or MOST_OWN) a coverage's
    indicators take more than one statement, each within the limit unless alone."""
    computed = [i for i in get_pack("demo-county-2022").indicators if i.is_computed]
    whole = compile_coverages(computed, read_elements())
    monkeypatch.setattr(sql, "MOST_ELEMENTS", 3)
    cut = compile_coverages(computed, read_elements())
    assert len(cut) > len(whole)
    assert sorted(i for c in cut for i in c.indicators) == sorted(i.id for i in computed)
    for coverage in cut:
        joined = coverage.statement.ctes[0].this.find_all(exp.Join)
        assert len(coverage.indicators) == 1 or sum(1 for _ in joined) <= 3 + 1  # + xl_tech


def test_indicators_of_different_coverages_are_refused():
    pack = get_pack("demo-county-2022")
    coverages = compile_coverages([i for i in pack.indicators if i.is_computed], read_elements())
    first, second = (pack.indicator(c.indicators[0]) for c in coverages[:2])
    with pytest.raises(ValueError, match="different coverages"):
        compile_coverage([first, second], read_elements())


@pytest.mark.parametrize("seed", [0, 4])
@pytest.mark.parametrize("backend", ["database", "warehouse"])
def test_each_indicators_columns_are_its_own_statements(world, tmp_path, seed, backend):
    """Run every coverage's statement and every indicator's own statement over the same work
    tables: the columns cut from the first are the second's, NaN for NULL, bit for bit."""
    _fill(seed)
    export_tables(tmp_path)
    levels = read_elements()
    year = periods.parse("2024")
    compared = 0
    with backends.cursor_for(backend, Warehouse(tmp_path)) as cursor:
        unit = OrgUnit.objects.get(code="640323")
        for code in PACKS:
            pack = _the_pack(code)
            elements = fill(cursor, pack, unit, year, True, {})
            computed = [i for i in pack.indicators if i.is_computed]
            for coverage in compile_coverages(computed, levels):
                together = _columns(cursor, coverage.sql(cursor.vendor, elements), coverage.width)
                assert len(together) == coverage.width
                for indicator_id, positions in zip(coverage.indicators, coverage.columns,
                                                   strict=True):  # fmt: skip
                    alone = compile_indicator(pack.indicator(indicator_id), levels)
                    text = alone.sql(cursor.vendor, elements)
                    own = _columns(cursor, text, 6 + len(alone.raw_columns))
                    assert len(positions) == len(own)
                    for mine, theirs in zip((together[p] for p in positions), own, strict=True):
                        np.testing.assert_array_equal(mine, theirs, strict=True)
                    compared += 1
    assert compared > 40


@pytest.mark.parametrize("seed", [1, 5])
def test_an_evaluation_is_the_same_with_one_statement_per_indicator(
    world, tmp_path, monkeypatch, seed
):
    _fill(seed)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)

    def evaluations(combine: bool) -> list:
        monkeypatch.setattr(engine, "COMBINE", combine)
        engine.cache.clear()
        return [
            evaluate(_the_pack(code), unit, year, backend=backend, warehouse=warehouse)
            for code in PACKS
            for unit in ("640323", "640323101")
            for year in ("2022", "2024")
            for backend in ("database", "warehouse")
        ]

    combined, alone = evaluations(True), evaluations(False)
    for together, apart in zip(combined, alone, strict=True):
        assert _rows(together) == _rows(apart)
        assert together.verdict == apart.verdict
        assert len(together.results) > 10
