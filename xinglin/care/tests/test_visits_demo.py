"""The demo's year of visits: records agree with the reported figures except at the two
institutions whose reports are meant to disagree."""

from __future__ import annotations

from xinglin.care import visits_demo
from xinglin.care.models import Visit
from xinglin.care.visit_figures import visit_figures, year_months
from xinglin.collection.testing import store_facts
from xinglin.network.actions import create_institution
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement


def test_the_demo_visits_follow_the_reports_but_for_two_institutions(county):
    sync_catalogue()
    create_institution(code=visits_demo.OVER_REPORTS_TCM, name="高沙窝镇卫生院",
                       institution_type="township_health_center",
                       parent=OrgUnit.objects.get(code="640323102"))  # fmt: skip
    hospital = OrgUnit.objects.get(code="640323000001")
    hospital.code = visits_demo.UNDER_REPORTS_TOTAL  # the demo's people's hospital code
    hospital.save()
    total, tcm = (DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits"))
    codes = ["640323100001", "640323101001", visits_demo.OVER_REPORTS_TCM,
             visits_demo.UNDER_REPORTS_TOTAL]  # fmt: skip
    reported = {}
    for n, code in enumerate(codes):
        unit = OrgUnit.objects.get(code=code)
        for month in year_months(2025)[:3]:
            reported[(code, month)] = (40 + n, 15 + n)
            store_facts([(total, unit, month, 40.0 + n), (tcm, unit, month, 15.0 + n)])
    units = list(OrgUnit.objects.filter(code__in=codes).order_by("code"))
    visits_demo.load_default_codes()
    written = visits_demo._visits(units)  # the visits step of the demo (build() adds the rest)
    assert Visit.objects.count() == written > 0
    figures = {(c, m): (t, n) for c, m, t, n in visit_figures(year_months(2025))}
    for (code, month), (total_reported, tcm_reported) in reported.items():
        records = figures[(code, month)]
        if code == visits_demo.OVER_REPORTS_TCM:
            assert records[0] == total_reported and records[1] < tcm_reported
        elif code == visits_demo.UNDER_REPORTS_TOTAL:
            assert records[0] > total_reported
        else:
            assert records == (total_reported, tcm_reported)
    visits_demo._visits(units)  # re-runnable: it replaces its own records
    assert visit_figures(year_months(2025)) == sorted(
        (c, m, t, n) for (c, m), (t, n) in figures.items()
    )
