"""The conditions on a value's codes are written once (validation._CODE_CHECKS): the column-wise
tables decide which rows fit and which condition a row fails first, and that condition writes
the row's message. Checked here against a plain-Python oracle written from the rules' text, over
every combination of some elements, org units and periods, and one row per condition."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.utils import translation

from xinglin.collection import validation
from xinglin.collection.batch import Candidate, Location
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.lib import periods
from xinglin.network import access
from xinglin.network.actions import close_orgunit
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")

OTHER_TOWNSHIP_HC = "640323101001"  # 大水坑镇卫生院: outside bob's township
TOWNSHIP = "640323100"  # 花马池镇 (a division)

# What each condition's message says (English), in the order a row's message is chosen.
SAYS = {
    "element": "unknown data element",
    "orgunit": "unknown org unit",
    "scope": "is outside your reporting scope",
    "period": "is not a year (2024), a quarter (2024Q1) or a month (202401)",
    "period type": "period",  # "… is reported monthly; “2024” is not a monthly period"
    "divisions only": "is reported by divisions, not by",
    "institutions only": "is reported by institutions, not by the division",
    "type": "is not reported by",
    "open": "was not open in",
}


def _first_failure(element_code: str, unit_code: str, period_code: str, paths) -> str | None:
    """The oracle: the first condition the codes fail, from the rules as written."""
    element = DataElement.objects.filter(code=element_code).first()
    unit = OrgUnit.objects.filter(code=unit_code).first()
    try:
        period = periods.parse(period_code)
    except periods.PeriodError:
        period = None
    if element is None:
        return "element"
    if unit is None:
        return "orgunit"
    if not any(unit.path.startswith(p) for p in paths):
        return "scope"
    if period is None:
        return "period"
    if period.type != element.period_type:
        return "period type"
    is_division = unit.kind == Kind.DIVISION
    if element.level == "division" and not is_division:
        return "divisions only"
    if element.level != "division" and is_division:
        return "institutions only"
    types = element.institution_types or []
    if not is_division and types and unit.institution_type not in types:
        return "type"
    opened, closed = unit.opened_on, unit.closed_on
    if (opened and opened > period.end) or (closed and closed <= period.start):
        return "open"
    return None


def test_every_row_fails_the_first_condition_the_oracle_names(bob):
    close_orgunit(OrgUnit.objects.get(code=CLINIC), date(2024, 3, 1))
    elements = ["total_visits", "physicians", "residents", "beds", "no_such_element"]
    units = [HMC, CLINIC, OTHER_TOWNSHIP_HC, TOWNSHIP, "640323999999"]
    period_codes = ["202401", "202406", "2024", "2023", "2024-01"]
    combos = list(itertools.product(elements, units, period_codes))
    candidates = [
        Candidate(unit, period, element, "1", Location(row, "value"))
        for row, (element, unit, period) in enumerate(combos, start=2)
    ]
    paths = access.scope_paths(bob, "report")
    with translation.override("en"):
        checked = validation.check(candidates, user=bob)
    messages = {p.location.row: p.message for p in checked.problems if p.is_error}
    expected_fits = 0
    for row, (element, unit, period) in enumerate(combos, start=2):
        failure = _first_failure(element, unit, period, paths)
        if failure is None:
            expected_fits += 1
            assert row not in messages, (element, unit, period, messages.get(row))
            continue
        assert SAYS[failure] in messages[row], (element, unit, period, failure, messages[row])
        # the message is of that condition only, not of a later one
        later = list(SAYS)[list(SAYS).index(failure) + 1 :]
        assert not any(SAYS[c] in messages[row] for c in later if SAYS[c] != "period")
    assert expected_fits > 3  # the batch has rows that fit, too
    assert len(checked.columns.values) == expected_fits


@pytest.mark.parametrize(
    ("element", "unit", "period", "message"),
    [
        ("no_such", HMC, "2024", "unknown data element “no_such”"),
        ("physicians", "640323999999", "2024", "unknown org unit “640323999999”"),
        ("physicians", OTHER_TOWNSHIP_HC, "2024", "640323101001 is outside your reporting scope"),
        ("physicians", HMC, "2024-01", "period “2024-01” is not a year (2024), a quarter"),
        ("total_visits", HMC, "2024", "total_visits is reported monthly; “2024” is not a monthly"),
        ("residents", HMC, "2024", "residents is reported by divisions, not by 640323100001"),
        ("physicians", TOWNSHIP, "2024", "physicians is reported by institutions, not by the"),
        ("beds", CLINIC, "2024", "beds is not reported by 640323100101 (Village clinic)"),
        ("physicians", CLINIC, "2025", "640323100101 was not open in 2025"),
    ],
)
def test_each_condition_writes_its_message(bob, element, unit, period, message):
    close_orgunit(OrgUnit.objects.get(code=CLINIC), date(2025, 1, 1))
    with translation.override("en"):
        checked = validation.check([Candidate(unit, period, element, "1", Location(2))], user=bob)
    assert [p.message[: len(message)] for p in checked.problems] == [message]


def test_the_messages_are_chinese_by_default(bob):
    checked = validation.check([Candidate(HMC, "2024", "residents", "1", Location(2))], user=bob)
    assert [p.message for p in checked.problems] == [
        "residents 由行政区划填报，不由 640323100001 填报"
    ]
