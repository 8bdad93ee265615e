"""`xinglin demo` fills the registers of the places whose documents ask for them, and the
engine judges those places from them."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import transaction

from xinglin.demo import DemoContext
from xinglin.evaluation.engine import evaluate
from xinglin.registers.models import Complaint, OutreachEvent, SupportPair, Training

STEPS = ["network", "standards", "registers"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        context = DemoContext(clinics_per_township=1)
        for step in STEPS:
            import_module(f"xinglin.{step}.demo").build(context)
        import_module("xinglin.registers.demo").build(context)  # re-runnable: the same records
        yield context
        transaction.set_rollback(True)


def _result(pack, unit, year, indicator):
    result = evaluate(pack, unit, str(year)).result(indicator)
    return result.value, result.status


@pytest.mark.django_db
def test_huimin_complaints_and_training(demo):
    assert Complaint.objects.filter(orgunit__path__startswith="/15/1501/150103/").count() == 32
    assert _result("demo-county-2022", "150103", 2024, "organisation.complaints_handled_on_time") == (
        pytest.approx(7 / 8, abs=1e-6), "not_met")  # fmt: skip
    assert _result("demo-county-2022", "150103", 2025, "organisation.complaints_handled_on_time") == (
        1.0, "met")  # fmt: skip
    assert (
        _result("demo-county-2022", "150103", 2024, "workforce.western_doctors_trained")[1] == "met"
    )
    assert Training.objects.filter(kind="apprenticeship").count() == 1


@pytest.mark.django_db
def test_zhongwei_support_pairs(demo):
    assert _result("capacity-2021-2025", "640522", 2024, "capacity.counterpart_support") == (
        0.0,
        "not_met",
    )
    assert _result("capacity-2021-2025", "640502", 2024, "capacity.counterpart_support") == (
        1.0,
        "met",
    )


@pytest.mark.django_db
def test_yanjiang_seven_and_yanchi_five_settings(demo):
    assert _result("work-points-2023", "512002", 2023, "work_points.seven_settings") == (
        6.0,
        "not_met",
    )
    assert _result("work-points-2023", "512002", 2024, "work_points.seven_settings") == (7.0, "met")
    assert _result("rehab-2021-2025", "640323", 2024, "rehab.five_settings") == (5.0, "met")
    assert (
        OutreachEvent.objects.filter(
            held_on__year=2021, orgunit__path__startswith="/64/6403/"
        ).count()
        == 0
    )
    named = SupportPair.objects.filter(
        partner__parent__name__in=["惠安堡镇", "王乐井乡"], year=2024
    )
    assert named.count() == 2


@pytest.mark.django_db
def test_yanjiang_herbs_and_zhongwei_remote_consultations(demo):
    trend = "work_points.herb_cultivation_trend"
    assert _result("work-points-2023", "512002", 2023, trend) == (1.0, "met")
    assert _result("work-points-2023", "512002", 2024, trend) == (0.0, "not_met")
    remote = "capacity.remote_consultation"
    assert _result("capacity-2021-2025", "640502", 2023, remote) == (1.0, "met")
    assert _result("capacity-2021-2025", "640522", 2023, remote) == (0.0, "not_met")


@pytest.mark.django_db
def test_yanjiang_clinic_filings(demo):
    from xinglin.evaluation.models import DerivedValue
    from xinglin.network.models import OrgUnit
    from xinglin.registers.models import ClinicFiling

    root = OrgUnit.objects.get(code="512002")
    filings = ClinicFiling.objects.filter(orgunit__path__startswith=root.path)
    received = filings.filter(filed_on__year=2024).count()
    completed = filings.filter(decided_on__year=2024, status__in=["filed", "registered"]).count()
    derived = dict(
        DerivedValue.objects.filter(source="registers.clinics", orgunit__code="512002", period="2024")
        .values_list("element__code", "value")
    )  # fmt: skip
    assert (received, completed) == (5, 4)
    assert derived == {"clinic_filings_received": 5.0, "clinic_filings_completed": 4.0}


@pytest.mark.django_db
def test_key_populations_family_doctors_and_care_homes(demo):
    from xinglin.registers.models import CareSettingRehab, KeyPopulationCount

    huimin = KeyPopulationCount.objects.filter(
        orgunit__path__startswith="/15/1501/150103/", year=2024
    )
    assert set(huimin.values_list("population", flat=True)) == {
        "maternal", "hypertension", "diabetes", "coronary", "stroke", "copd"}  # fmt: skip
    rows = huimin.filter(population="hypertension")
    rate = sum(r.tcm_managed for r in rows) / sum(r.managed for r in rows)
    value, status = _result("demo-county-2022", "150103", 2024,
                            "services.hypertension_tcm_health_management_rate")  # fmt: skip
    # the demo bureau's own target for 回民区 is 45% (standards.demo.OWN_TARGETS)
    assert (value, status) == (pytest.approx(rate, abs=1e-4), "met" if rate >= 0.45 else "not_met")
    assert (
        _result("demo-county-2022", "150103", 2024, "services.family_doctor_tcm_teams")[1] == "met"
    )
    # 雁江区: the four populations seeds/004 names
    yanjiang = KeyPopulationCount.objects.filter(orgunit__path__startswith="/51/5120/512002/")
    assert (
        _result("work-points-2023", "512002", 2023, "work_points.family_doctor_tcm_teams")[1]
        == "met"
    )
    assert set(yanjiang.values_list("population", flat=True)) == {
        "maternal", "hypertension", "diabetes", "stroke"}  # fmt: skip
    # 盐池县: the children's welfare home only from 2024; 屯留区's special school from 2022
    assert _result("rehab-2021-2025", "640323", 2023, "rehab.child_welfare_tcm_rehab") == (
        0.0,
        "not_met",
    )
    assert _result("rehab-2021-2025", "640323", 2024, "rehab.child_welfare_tcm_rehab") == (
        1.0,
        "met",
    )
    assert _result("rehab-2021-2025", "640323", 2023, "rehab.elderly_care_tcm_rehab") == (
        1.0,
        "met",
    )
    assert _result("health-services-2021-2025", "140405", 2024,
                   "health_services.rehab_settings_tcm_rehab") == (2.0, "met")  # fmt: skip
    assert CareSettingRehab.objects.filter(year=2021).count() == 0
