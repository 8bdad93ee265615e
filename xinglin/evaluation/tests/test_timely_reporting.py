"""Timely reporting computed (issue 17, seeds/001 item 21 按时上报): the share of the forms due
in the year that were submitted before the end of their due day — one rule
(collection.completeness.cutoff) behind the completeness page and the engine's figure."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from xinglin.collection import completeness
from xinglin.collection.forms import Form
from xinglin.collection.models import Submission
from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue

PACK, INDICATOR = "demo-county-2022", "system.timely_reporting"
CENTRE = "640323100001"  # 花马池镇卫生院: owes 12 monthly forms and a yearly one for 2024


def _local(*parts) -> datetime:
    return timezone.make_aware(datetime(*parts))


def _submit(code: str, period: str, at: datetime | None, status: str = "submitted") -> None:
    unit = OrgUnit.objects.get(code=code)
    Submission.objects.create(form=f"{unit.institution_type}.x", orgunit=unit, period=period,
                              status=status, submitted_at=at)  # fmt: skip


@pytest.fixture
def submissions(county):
    sync_catalogue()
    # due 2025-01-15 (yearly) and 2024-02-05 (January): the last minute of the due day is on
    # time, the first of the next day late; a returned form and one never sent are not
    _submit(CENTRE, "2024", _local(2025, 1, 15, 23, 59, 59))
    _submit(CENTRE, "202401", _local(2024, 2, 5, 8, 0), status="approved")
    _submit(CENTRE, "202402", _local(2024, 3, 6, 0, 0, 0))
    _submit(CENTRE, "202403", _local(2024, 4, 1), status="returned")
    _submit("640323000001", "2024", _local(2025, 1, 10))
    return county


def test_the_figure_counts_forms_submitted_by_their_due_day(submissions):
    result = evaluate(PACK, CENTRE, "2024").result(INDICATOR)
    assert (result.numerator, result.denominator) == (2.0, 13.0)
    assert result.value == round(2 / 13, 9) and result.status == "not_met"
    assert result.sources == [completeness.SOURCE]
    hospital = evaluate(PACK, "640323", "2024").result(INDICATOR, "640323000001")
    assert (hospital.numerator, hospital.denominator, hospital.status) == (1.0, 13.0, "not_met")


def test_the_completeness_page_and_the_engine_agree(submissions, alice):
    """The page's on-time rows over the year's forms are the engine's numerator, its rows
    whose deadline passed its denominator — institution by institution."""
    evaluation = evaluate(PACK, "640323", "2024")
    today = timezone.localdate()
    owed: dict[str, list[int]] = {}
    for itype in ("township_health_center", "village_clinic", "tcm_hospital"):
        for kind, codes in (
            ("yearly", ["2024"]),
            ("monthly", [f"2024{m:02d}" for m in range(1, 13)]),
        ):
            form = Form(itype, kind)
            if not form.elements():
                continue
            for period in codes:
                for row in completeness.report(form, period, alice, today=today).rows:
                    counts = owed.setdefault(row.orgunit.code, [0, 0])
                    counts[0] += row.state == "on_time"
                    counts[1] += row.state != "not_due"
    assert owed[CENTRE] == [2, 13]
    for code, (on_time, due) in owed.items():
        result = evaluation.result(INDICATOR, code)
        assert (result.numerator, result.denominator) == (on_time, due), code
    county = evaluation.result(INDICATOR)
    assert county.numerator == sum(c[0] for c in owed.values())
    assert county.denominator == sum(c[1] for c in owed.values())
    assert county.failing == sorted(c for c, (n, d) in owed.items() if n < d)


def test_a_form_not_yet_due_counts_only_once_submitted(submissions):
    from xinglin.lib import periods

    year = periods.parse("2025")
    _submit(CENTRE, "202501", _local(2025, 2, 1))
    _submit(CENTRE, "202502", _local(2025, 2, 28))  # before its deadline (2025-03-05)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.vendor = connection.vendor
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS xl_unit (id INTEGER, kind VARCHAR(12),"
                       " itype VARCHAR(32))")  # fmt: skip
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS xl_value (element_id INTEGER,"
                       " orgunit_id INTEGER, value REAL, source VARCHAR(40))")  # fmt: skip
        unit = OrgUnit.objects.get(code=CENTRE)
        cursor.execute("INSERT INTO xl_unit VALUES (%s, 'institution', %s)",
                       [unit.pk, unit.institution_type])  # fmt: skip
        # on 2025-03-01 January is due (its deadline passed) and February counts because it
        # was submitted; March and the rest of the year, neither due nor sent, do not
        keys = {"reports_due": 7, "reports_on_time": 8}  # the engine's: the elements' ids
        completeness.insert_yearly_figures(cursor, year, today=date(2025, 3, 1), elements=keys)
        cursor.execute("SELECT element_id, value FROM xl_value ORDER BY element_id")
        assert [(e, float(v)) for e, v in cursor.fetchall()] == [(7, 2.0), (8, 2.0)]
        cursor.execute("DROP TABLE xl_unit")
        cursor.execute("DROP TABLE xl_value")


def test_the_completeness_page_shows_the_evaluation_figure(submissions, alice, client_for):
    from django.urls import reverse

    from xinglin.core import labels

    county = evaluate(PACK, "640323", "2024").result(INDICATOR)
    page = client_for(alice).get(reverse("collection:completeness"),
                                 {"form": "township_health_center.monthly", "period": "202405"})  # fmt: skip
    figure = page.context["year_figure"]
    assert (figure.pack, figure.result.value, figure.result.numerator) == (
        PACK, county.value, county.numerator)  # fmt: skip
    text = page.content.decode()
    assert labels.number(county.value, "percent") in text
    assert f"{county.numerator:.0f} / {county.denominator:.0f}" in text
