"""Ownership and designations are judged as they stood in the year evaluated (issue 17.2,
decision 0001's pattern for attributes): re-designating the county TCM hospital in 2026 does
not rewrite 2024's figures, on the engine nor in the documents."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from xinglin.documents.gather import gather
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.prepare import as_of
from xinglin.evaluation.statements import render
from xinglin.network.actions import NetworkError, create_institution, update_institution
from xinglin.network.models import OrgUnit

PACK, COUNTY = "demo-county-2022", "640323"
INDICATOR = "system.county_tcm_hospital_emr_level"  # max(emr_level) over the county hospital
OLD, NEW = "640323000001", "640323000002"  # 盐池县中医医院 (designated by `county`), a newer one


@pytest.fixture
def redesignated(county, write):
    """A is the county TCM hospital in 2024; from 2026 B is (A loses the designation)."""
    create_institution(code=NEW, name="盐池县新中医医院", institution_type="tcm_hospital",
                       parent=OrgUnit.objects.get(code=COUNTY))  # fmt: skip
    write(*[(("emr_level", OLD, y, 5)) for y in ("2024", "2026")],
          *[(("emr_level", NEW, y, 2)) for y in ("2024", "2026")])  # fmt: skip
    moved = date(2026, 1, 1)
    update_institution(OrgUnit.objects.get(code=OLD), roles=[], valid_from=moved)
    update_institution(OrgUnit.objects.get(code=NEW), roles=["county_tcm_hospital"],
                       valid_from=moved)  # fmt: skip
    return OrgUnit.objects.get(code=COUNTY)


def _judged(year: str):
    evaluation = evaluate(PACK, COUNTY, year)
    county = evaluation.result(INDICATOR)
    # an institution the indicator does not cover that year has no result
    hospitals = {code: [r.status for r in evaluation.at(code) if r.indicator == INDICATOR]
                 for code in (OLD, NEW)}  # fmt: skip
    return county, hospitals


def test_each_year_judges_the_hospital_designated_then(redesignated):
    county, hospitals = _judged("2024")
    assert (county.value, county.status) == (5.0, "met")
    assert hospitals == {OLD: ["met"], NEW: []}
    county, hospitals = _judged("2026")
    assert (county.value, county.status) == (2.0, "not_met")
    assert county.failing == [NEW]
    assert hospitals == {OLD: [], NEW: ["not_met"]}


def test_the_documents_for_2024_agree(redesignated):
    data = gather("annual", redesignated, 2024)
    pack = next(p for p in data.packs if p.info.code == PACK)
    figure = next(f for f in pack.own if f["indicator"] == INDICATOR)
    assert (figure["value"], figure["status"]) == (5.0, "met")
    later = next(p for p in gather("annual", redesignated, 2026).packs if p.info.code == PACK)
    assert next(f for f in later.own if f["indicator"] == INDICATOR)["value"] == 2.0


def test_ownership_too_is_judged_as_it_stood(county):
    """The rule the engine fills its units with (prepare.as_of), read back for two years."""
    update_institution(OrgUnit.objects.get(code=OLD), ownership="private",
                       valid_from=date(2026, 3, 1))  # fmt: skip
    with connection.cursor() as cursor:
        for day, want in (("2024-12-31", "public"), ("2026-02-28", "public"),
                          ("2026-12-31", "private")):  # fmt: skip
            cursor.execute(
                f"SELECT COALESCE(w.old, o.ownership) FROM network_orgunit AS o"
                f" LEFT JOIN ({render(as_of('ownership'), connection.vendor)}) AS w ON w.orgunit_id = o.id AND w.rn = 1"
                " WHERE o.code = %s",
                [day, OLD],
            )
            assert cursor.fetchone()[0] == want, day


def test_changes_are_recorded_in_date_order(county):
    unit = OrgUnit.objects.get(code=OLD)
    update_institution(unit, roles=[], valid_from=date(2026, 1, 1))
    with pytest.raises(NetworkError, match="2026-01-01"):
        update_institution(unit, roles=["county_tcm_hospital"], valid_from=date(2025, 6, 1))
    assert OrgUnit.objects.get(code=OLD).roles == ""
