"""The `county` fixture (conftest.py) writes, for each test, the rows that `build_county`
wrote through the actions once this session: the same units, parents, paths and history."""

from __future__ import annotations

from django.db import transaction

from conftest import build_county, restore_snapshot
from xinglin.core import generation
from xinglin.network.models import OrgUnit, OrgUnitHistory


def _tree() -> tuple[list[tuple], list[tuple]]:
    """Every org unit and history row, with codes in place of ids (ids differ by design)."""
    code = dict(OrgUnit.objects.values_list("id", "code"))
    units = sorted(
        (*(v for k, v in row.items() if k not in {"id", "parent_id", "updated_at"}),
         code.get(row["parent_id"]))
        for row in OrgUnit.objects.values()
    )  # fmt: skip
    history = sorted(
        (code[row["orgunit_id"]], code.get(row["parent_id"]), row["path"], row["valid_from"],
         row["valid_to"], row["changed_by_id"], row["reason"])
        for row in OrgUnitHistory.objects.values()
    )  # fmt: skip
    return units, history


def _written(write) -> tuple[list[tuple], list[tuple]]:
    with transaction.atomic():
        write()
        tree = _tree()
        transaction.set_rollback(True)
    return tree


def test_the_snapshot_writes_what_the_actions_build(db, county_snapshot):
    built = _written(build_county)
    restored = _written(lambda: restore_snapshot(county_snapshot))
    assert restored == built
    units, history = built
    assert len(units) == len(history) > 6  # 宁夏, 吴忠市, 盐池县, its townships, six institutions
    assert ("640323100001", "640323100", "/64/6403/640323/640323100/640323100001/") in {
        (h[0], h[1], h[2]) for h in history
    }


def test_writing_the_county_changes_the_data_generation(db, county_snapshot):
    """Written as rows, the county still passes through the generation's triggers: a cached
    evaluation of the empty database cannot answer for the county."""
    before = generation.current()
    restore_snapshot(county_snapshot)
    assert generation.current() != before


def test_the_county_hangs_together(county):
    """Parents point at the new rows of this test, not at the ids of the session's build."""
    assert county.parent.code == "6403"
    clinic = OrgUnit.objects.get(code="640323100101")
    assert clinic.parent.parent == county
    assert OrgUnit.objects.get(code="640323000001").roles == "county_tcm_hospital"
