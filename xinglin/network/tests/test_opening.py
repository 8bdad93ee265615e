"""network.opening: the one rule "open during a period" and its four derived forms agree — the
Python predicate, the numpy mask, the Django Q and the SQLGlot expression run on the database
(SQLite, and PostgreSQL when the suite runs there)."""

from datetime import date, timedelta

import numpy as np
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from xinglin.network import opening
from xinglin.network.models import Kind, OrgUnit

pytestmark = pytest.mark.django_db

BASE = date(2024, 1, 1)
# dates near one another, so that "on the same day" (the boundaries) comes up often
days = st.integers(min_value=0, max_value=12).map(lambda n: BASE + timedelta(days=n))
maybe_days = st.none() | days


def _unit(code: str, opened: date | None, closed: date | None) -> OrgUnit:
    return OrgUnit(
        code=code, name=code, kind=Kind.INSTITUTION, path=f"/{code}/", opened_on=opened,
        closed_on=closed,
    )  # fmt: skip


def _forms(units: list[OrgUnit], start: date, end: date) -> dict[str, list[bool]]:
    """Which units are open during [start, end], by each form of the rule."""
    OrgUnit.objects.bulk_create(units)
    saved = list(OrgUnit.objects.filter(code__startswith="T").order_by("code"))
    by_q = set(OrgUnit.objects.filter(opening.open_q(start, end)).values_list("code", flat=True))
    condition = opening.open_sql("o", opening.day(start), opening.day(end)).sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT o.code FROM {OrgUnit._meta.db_table} AS o WHERE {condition}")
        by_sql = {row[0] for row in cursor.fetchall()}
    mask = opening.open_mask(
        opening.ordinals("opened_on", [u.opened_on for u in saved]),
        opening.ordinals("closed_on", [u.closed_on for u in saved]),
        np.full(len(saved), start.toordinal()),
        np.full(len(saved), end.toordinal()),
    )
    return {
        "python": [opening.is_open_during(u, start, end) for u in saved],
        "numpy": mask.tolist(),
        "q": [u.code in by_q for u in saved],
        "sql": [u.code in by_sql for u in saved],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(maybe_days, maybe_days), min_size=1, max_size=8), days, days)
def test_the_four_forms_agree(dates, start, end):
    start, end = min(start, end), max(start, end)
    units = [_unit(f"T{i:02d}", opened, closed) for i, (opened, closed) in enumerate(dates)]
    with transaction.atomic():
        forms = _forms(units, start, end)
        transaction.set_rollback(True)
    assert forms["numpy"] == forms["python"]
    assert forms["q"] == forms["python"]
    assert forms["sql"] == forms["python"]


def test_the_boundaries():
    """Opened on the period's last day: open; closed on its first day: not open; closed on its
    last day: open (today's behaviour of every former copy)."""
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    cases = {
        "T01": (end, None, True),
        "T02": (end + timedelta(days=1), None, False),
        "T03": (None, start, False),
        "T04": (None, start + timedelta(days=1), True),
        "T05": (None, end, True),
        "T06": (None, None, True),
    }
    forms = _forms([_unit(code, o, c) for code, (o, c, _) in cases.items()], start, end)
    expected = [is_open for _, _, is_open in cases.values()]
    assert forms == {"python": expected, "numpy": expected, "q": expected, "sql": expected}


def test_open_on_a_day_is_the_period_of_that_day():
    unit = _unit("T01", date(2024, 3, 1), date(2024, 3, 5))
    assert [unit.is_open_on(date(2024, 3, d)) for d in range(1, 6)] == [True] * 4 + [False]


def test_sql_with_column_bounds():
    condition = opening.open_sql("o", exp.column("pstart", "d"), exp.column("pend", "d"))
    assert condition.sql() == (
        "(o.opened_on IS NULL OR o.opened_on <= d.pend)"
        " AND (o.closed_on IS NULL OR o.closed_on > d.pstart)"
    )
