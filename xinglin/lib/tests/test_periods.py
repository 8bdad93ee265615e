from __future__ import annotations

from datetime import date

import pytest

from xinglin.lib import periods


@pytest.mark.parametrize(
    ("code", "kind", "start", "end"),
    [
        ("2024", "yearly", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024Q1", "quarterly", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024Q4", "quarterly", date(2024, 10, 1), date(2024, 12, 31)),
        ("202402", "monthly", date(2024, 2, 1), date(2024, 2, 29)),
        ("202302", "monthly", date(2023, 2, 1), date(2023, 2, 28)),
    ],
)
def test_it_parses_the_three_forms(code, kind, start, end):
    period = periods.parse(code)
    assert (period.type, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize(
    "code", ["24", "2024Q5", "202413", "202400", "2024-01", "", "abcd", "1200"]
)
def test_it_rejects_malformed_codes_naming_them(code):
    with pytest.raises(periods.PeriodError, match=repr(code).replace("[", r"\[")):
        periods.parse(code)


def test_months_of_a_quarter_and_year():
    assert [p.code for p in periods.parse("2024Q2").months()] == ["202404", "202405", "202406"]
    assert len(periods.parse("2023").months()) == 12


def test_previous_year_keeps_the_period_type():
    assert periods.parse("202403").previous_year().code == "202303"
    assert periods.parse("2024Q3").previous_year().code == "2023Q3"


def test_for_date():
    assert periods.for_date(date(2024, 5, 17), "quarterly").code == "2024Q2"
    assert periods.for_date(date(2024, 5, 17), "monthly").code == "202405"
