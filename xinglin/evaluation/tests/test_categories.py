"""Decision 0013: an indicator over an element reported by sex reads its total, the sum of the
option combinations stored, on the database and on the warehouse (DuckDB over the Parquet
copy, which carries the combination column); checked against a plain sum of the rows."""

from __future__ import annotations

import random

import pyarrow.parquet as pq
import pytest

from xinglin.collection.actions import write_rows
from xinglin.collection.models import DataValue
from xinglin.evaluation.actions import replace_derived_values
from xinglin.evaluation.engine import EvaluationError, evaluate
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement
from xinglin.standards.operands import Operand
from xinglin.warehouse import Warehouse
from xinglin.warehouse.export import export_tables

RATE = (
    "work_points.elderly_tcm_management_rate"  # sum(elderly_tcm_managed) / own(residents_65_plus)
)
YEAR = "2023"
COUNTY = "640323"
DERIVED_AT = "640323100001"  # 花马池镇卫生院


@pytest.fixture
def split_values(county):
    sync_catalogue()
    elderly = DataElement.objects.get(code="elderly_tcm_managed")
    residents = DataElement.objects.get(code="residents_65_plus")
    rng = random.Random(18_9)
    rows = [(residents, county, YEAR, 9000.0)]
    for unit in OrgUnit.objects.filter(institution_type__in=elderly.institution_types):
        for combo in ("F", "M"):
            rows.append((Operand(elderly, combo), unit, YEAR, float(rng.randint(50, 900))))
    write_rows(rows)
    return rows


def _plain_sum() -> float:
    """The stored values of every option combination, added up in Python."""
    rows = DataValue.objects.filter(element__code="elderly_tcm_managed", period=YEAR)
    assert sorted(set(rows.values_list("combo", flat=True))) == ["F", "M"]
    return sum(rows.values_list("value", flat=True))


def test_the_engine_reads_the_sum_of_the_combinations(split_values):
    expected = _plain_sum() / 9000.0
    result = evaluate("work-points-2023", COUNTY, YEAR).result(RATE)
    assert result.value == pytest.approx(expected, abs=1e-9)  # the engine keeps 9 decimals
    # one institution: its two values, not one of them
    hmc = OrgUnit.objects.get(code="640323100001")
    own = DataValue.objects.filter(orgunit=hmc, element__code="elderly_tcm_managed")
    assert own.count() == 2


def test_the_warehouse_sums_the_same_way(split_values, tmp_path):
    export_tables(tmp_path)
    values = pq.read_table(tmp_path / "collection_datavalue" / f"{YEAR}.parquet")
    assert "combo" in values.column_names
    assert {"F", "M"} <= set(values.column("combo").to_pylist())
    on_db = evaluate("work-points-2023", COUNTY, YEAR, backend="database").result(RATE)
    on_duckdb = evaluate(
        "work-points-2023", COUNTY, YEAR, backend="warehouse", warehouse=Warehouse(tmp_path)
    ).result(RATE)
    assert on_duckdb.value == pytest.approx(
        _plain_sum() / 9000.0, abs=1e-9
    )  # the engine keeps 9 decimals
    assert on_duckdb.value == on_db.value


def _plain_sum_of(combo: str) -> float:
    rows = DataValue.objects.filter(element__code="elderly_tcm_managed", period=YEAR, combo=combo)
    return sum(rows.values_list("value", flat=True))


def test_a_stratum_counts_only_its_combinations(split_values, tmp_path):
    """A stratum (sex: F) reads the women's values of the sex-split numerator; the denominator
    (residents 65+, not split) counts whole; the strata add up to the total."""
    whole = evaluate("work-points-2023", COUNTY, YEAR).result(RATE)
    women = evaluate("work-points-2023", COUNTY, YEAR, stratum={"sex": "F"}).result(RATE)
    men = evaluate("work-points-2023", COUNTY, YEAR, stratum={"sex": "M"}).result(RATE)
    assert women.numerator == pytest.approx(_plain_sum_of("F"))
    assert men.numerator == pytest.approx(_plain_sum_of("M"))
    assert women.numerator + men.numerator == pytest.approx(whole.numerator)
    assert women.denominator == men.denominator == whole.denominator == 9000.0
    # an age band: the element is not split by it, so it counts whole
    old = evaluate("work-points-2023", COUNTY, YEAR, stratum={"age_band": "Y65+"}).result(RATE)
    assert old.numerator == whole.numerator
    # the warehouse reads the same stratum
    export_tables(tmp_path)
    on_duckdb = evaluate(
        "work-points-2023", COUNTY, YEAR, backend="warehouse", warehouse=Warehouse(tmp_path),
        stratum={"sex": "F"},
    ).result(RATE)  # fmt: skip
    assert on_duckdb.numerator == women.numerator


def test_an_unknown_stratum_is_refused_by_name(county):
    with pytest.raises(EvaluationError, match="unknown category 'gender'"):
        evaluate("work-points-2023", COUNTY, YEAR, stratum={"gender": "F"})
    with pytest.raises(EvaluationError, match="unknown option 'X' of category 'sex'"):
        evaluate("work-points-2023", COUNTY, YEAR, stratum={"sex": "X"})


def test_a_derived_total_has_no_figure_within_a_stratum(split_values):
    """A value derived from care records is a total (not split): within a stratum the unit and
    period it covers have no figure, and the other units keep their reported combinations."""
    replace_derived_values("care.constitution", [("elderly_tcm_managed", DERIVED_AT, YEAR,
                                                  300.0)], [YEAR])  # fmt: skip
    whole = evaluate("work-points-2023", COUNTY, YEAR).result(RATE)
    women = evaluate("work-points-2023", COUNTY, YEAR, stratum={"sex": "F"}).result(RATE)
    men = evaluate("work-points-2023", COUNTY, YEAR, stratum={"sex": "M"}).result(RATE)
    others = DataValue.objects.filter(element__code="elderly_tcm_managed", period=YEAR).exclude(
        orgunit__code=DERIVED_AT
    )
    assert women.numerator == pytest.approx(
        sum(others.filter(combo="F").values_list("value", flat=True))
    )
    assert men.numerator == pytest.approx(
        sum(others.filter(combo="M").values_list("value", flat=True))
    )
    # the total: the derived value replaces that unit's reported ones
    assert whole.numerator == pytest.approx(sum(others.values_list("value", flat=True)) + 300.0)
    assert women.numerator + men.numerator == pytest.approx(whole.numerator - 300.0)
