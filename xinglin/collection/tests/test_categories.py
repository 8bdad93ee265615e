"""Issue 18.9 (decision 0013): values of an element that declares categories are stored per
category option combination; a combination on an element without categories, an unknown one,
or a total of a categorised element is refused, naming it — never collapsed, never dropped."""

from __future__ import annotations

import pytest

from xinglin.collection import audit
from xinglin.collection.actions import save_form_values, write
from xinglin.collection.batch import Candidate, Location
from xinglin.collection.guards import version_of
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
YEAR = "2024"
ELDERLY = "elderly_tcm_managed"


def _write(rows, user=None, **options):
    candidates = [
        Candidate(HMC, YEAR, element, raw, Location(n, "value"))
        for n, (element, raw) in enumerate(rows, 2)
    ]
    return write(candidates, user=user, channel="import", **options)


def _stored() -> dict[tuple[str, str], float]:
    rows = DataValue.objects.filter(orgunit__code=HMC, period=YEAR)
    return {(e, c): v for e, c, v in rows.values_list("element__code", "combo", "value")}


def test_the_catalogue_gives_the_elements_their_categories():
    element = DataElement.objects.get(code=ELDERLY)
    assert element.categories == ["sex"]
    assert [(c.code, c.name) for c in element.combos()] == [("F", "女"), ("M", "男")]
    assert DataElement.objects.get(code="tcm_visits").combos() == []


def test_values_are_stored_and_read_per_combination():
    result = _write([(f"{ELDERLY}.F", "430"), (f"{ELDERLY}.M", "430"), ("beds", "12")])
    assert not result.errors and result.added == 3
    # two values split by sex stay two (issue 18: 430 + 430 was stored as 430)
    assert _stored() == {(ELDERLY, "F"): 430.0, (ELDERLY, "M"): 430.0, ("beds", ""): 12.0}
    again = _write([(f"{ELDERLY}.F", "431"), (f"{ELDERLY}.M", "430")])
    assert (again.added, again.changed, again.unchanged) == (0, 1, 1)
    assert _stored()[(ELDERLY, "F")] == 431.0
    unit, element = OrgUnit.objects.get(code=HMC), DataElement.objects.get(code=ELDERLY)
    assert [
        (e.combo, e.old_value, e.new_value) for e in audit.history(unit, element, YEAR, "F")
    ] == [
        ("F", 430.0, 431.0),
        ("F", None, 430.0),
    ]
    assert [(e.old_value, e.new_value) for e in audit.history(unit, element, YEAR, "M")] == [
        (None, 430.0)
    ]


@pytest.mark.parametrize(
    ("element", "said"),
    [
        ("beds.F", "beds has no categories: the category option combination “F”"),
        (
            f"{ELDERLY}.X",
            f"“X” is not a category option combination of {ELDERLY} (one of: F（女）、M（男）)",
        ),
        (ELDERLY, f"{ELDERLY} is reported by 性别: give one value per option combination"),
    ],
)
def test_a_combination_that_does_not_fit_is_refused_by_name(element, said):
    result = _write([(element, "5"), ("tcm_visits_dummy_never", "1")][:1])
    assert not result.written
    assert [p.location.row for p in result.errors] == [2]
    assert said in result.errors[0].message
    assert DataValue.objects.count() == 0


def test_deletion_and_comments_are_per_combination():
    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    candidates = [
        Candidate(HMC, YEAR, f"{ELDERLY}.M", "", delete=True),
        Candidate(HMC, YEAR, f"{ELDERLY}.F", "10", comment="核对过"),
    ]
    result = write(candidates, user=None, channel="import")
    assert (result.deleted, result.changed) == (1, 1)
    assert _stored() == {(ELDERLY, "F"): 10.0}
    assert DataValue.objects.get(combo="F").comment == "核对过"
    removed = AuditEntry.objects.get(note="deleted")
    assert (removed.combo, removed.old_value) == ("M", 20.0)


def test_no_lost_update_per_combination(carol, bob):
    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    unit = OrgUnit.objects.get(code=HMC)
    seen = {c: version_of(DataValue.objects.get(combo=c)) for c in ("F", "M")}
    # carol changes 女; bob, who opened the form before, saves 男 (fine) and 女 (refused)
    first = save_form_values(
        unit, YEAR, {f"{ELDERLY}.F": "11"}, user=carol, versions={f"{ELDERLY}.F": seen["F"]}
    )
    assert first[f"{ELDERLY}.F"].saved
    second = save_form_values(
        unit,
        YEAR,
        {f"{ELDERLY}.F": "12", f"{ELDERLY}.M": "21"},
        user=bob,
        versions={f"{ELDERLY}.F": seen["F"], f"{ELDERLY}.M": seen["M"]},
    )
    assert second[f"{ELDERLY}.F"].conflict and not second[f"{ELDERLY}.F"].saved
    assert second[f"{ELDERLY}.M"].saved
    assert _stored() == {(ELDERLY, "F"): 11.0, (ELDERLY, "M"): 21.0}


def test_a_large_write_stores_combinations_through_the_staged_path(settings):
    from xinglin.core import generation

    institutions = OrgUnit.objects.filter(institution_type__in=["township_health_center"])
    rows = [(f"{ELDERLY}.{c}", str(n)) for n, c in enumerate(["F", "M"], 1)]
    old = generation.BULK_ROWS
    generation.BULK_ROWS = 0
    try:
        candidates = [
            Candidate(u.code, YEAR, element, raw) for u in institutions for element, raw in rows
        ]
        result = write(candidates, user=None, channel="import")
        assert result.added == 2 * len(institutions)
        again = write(
            [Candidate(u.code, YEAR, f"{ELDERLY}.F", "5") for u in institutions],
            user=None,
            channel="import",
        )
        assert again.changed == len(institutions)
    finally:
        generation.BULK_ROWS = old
    assert sorted(DataValue.objects.filter(orgunit__code=HMC).values_list("combo", "value")) == [
        ("F", 5.0),
        ("M", 2.0),
    ]
    assert AuditEntry.objects.filter(combo="F", new_value=5.0).count() == len(institutions)
