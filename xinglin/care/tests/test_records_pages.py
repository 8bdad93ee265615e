"""Pages of the clinical records: render, scope, refusals change nothing."""

from __future__ import annotations

from datetime import date

import pytest

from xinglin.care.actions import advance_referral, record_rehab_case, send_referral
from xinglin.care.models import Referral, RehabCase, Visit, VisitColumnMapping
from xinglin.care.rehab import summary
from xinglin.care.tests.test_visits import DSK, HMC, csv_bytes, sample_rows
from xinglin.care.visits import import_visits
from xinglin.collection.testing import store_facts
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

TCM_HOSPITAL = "640323000001"


@pytest.fixture
def records(county):
    sync_catalogue()
    import_visits("his.csv", csv_bytes(sample_rows()))
    unit = lambda code: OrgUnit.objects.get(code=code)  # noqa: E731
    record_rehab_case(institution=unit(HMC), patient_id="R1", condition="stroke",
                      admitted_on=date(2025, 3, 1), discharged_on=date(2025, 3, 21),
                      score_admission=30, score_discharge=60, tcm_techniques=["tuina_massage"],
                      outcome="improved")  # fmt: skip
    record_rehab_case(institution=unit(DSK), patient_id="R2", condition="stroke",
                      admitted_on=date(2025, 4, 1), discharged_on=date(2025, 4, 11),
                      score_admission=40, score_discharge=50)  # fmt: skip
    up = send_referral(source=unit(HMC), target=unit(TCM_HOSPITAL), patient_id="Z1",
                       referred_on=date(2025, 5, 1), reason="急性脑卒中")  # fmt: skip
    send_referral(source=unit(DSK), target=unit(TCM_HOSPITAL), patient_id="Z2",
                  referred_on=date(2025, 5, 2), reason="骨折")  # fmt: skip
    return up


def test_rehab_summary_by_condition(records):
    rows = summary(RehabCase.objects.all(), "condition")
    assert rows == [{"key": "stroke", "cases": 2, "discharged": 2, "improvement": 20.0,
                     "stay_days": 15.0, "tcm_share": 0.5, "improved": 1}]  # fmt: skip


def test_referral_direction_and_completion(records):
    assert records.direction == "up"
    advance_referral(records, "completed", date(2025, 5, 4))
    assert (records.status, records.received_on, records.days_to_completion) == (
        "completed", date(2025, 5, 4), 3)  # fmt: skip


@pytest.mark.parametrize(
    "name", ["care:visits", "care:rehab", "care:referrals", "care:visit_mappings", "care:home"]
)
def test_pages_render(records, alice, client_for, name):
    from django.urls import reverse

    response = client_for(alice).get(reverse(name) + "?year=2025")
    assert response.status_code == 200


def test_comparison_page_and_twins(records, alice, client_for):
    element = DataElement.objects.get(code="total_visits")
    store_facts([(element, OrgUnit.objects.get(code=HMC), "202501", 10.0)])
    client = client_for(alice)
    page = client.get(f"/care/visits/compare/{HMC}/?year=2025")
    assert page.status_code == 200 and "chart-data" in page.text
    data = client.get(f"/care/visits/compare/{HMC}.json?year=2025").json()
    total = data["figures"][0]
    assert (total["code"], total["reported"], total["records"], total["is_flagged"]) == (
        "total_visits", 10.0, 5.0, True)  # fmt: skip
    assert client.get(f"/care/visits/compare/{HMC}.csv?year=2025").status_code == 200


def test_a_clerk_sees_only_their_institution(records, carol, client_for):
    client = client_for(carol)
    visits = client.get("/care/visits/?year=2025").text
    assert HMC in visits and DSK not in visits
    assert client.get(f"/care/visits/compare/{DSK}/?year=2025").status_code == 404
    assert client.get(f"/care/visits/mappings/{DSK}/").status_code == 404
    rehab = client.get("/care/rehab/?year=2025&by=institution").text
    assert "大水坑" not in rehab


def test_a_clerk_cannot_save_another_institutions_mapping(records, carol, client_for):
    response = client_for(carol).post(
        f"/care/visits/mappings/{DSK}/", {"col_visit_date": "d", "col_patient_id": "p"}
    )
    assert response.status_code == 404
    assert not VisitColumnMapping.objects.exists()


def test_a_clerk_cannot_import_for_another_institution(records, carol, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = Visit.objects.count()
    rows = [["2025-06-01", DSK, "内科", "P1", "", "", "", "0"]]
    upload = SimpleUploadedFile("his.csv", csv_bytes(rows))
    response = client_for(carol).post("/care/visits/import/", {"file": upload, "mapping": ""})
    assert response.status_code == 200 and "outside your scope" in response.text
    assert Visit.objects.count() == before


def test_a_clerk_cannot_record_a_case_for_another_institution(records, carol, client_for):
    before = RehabCase.objects.count()
    response = client_for(carol).post("/care/rehab/new/", {
        "institution": DSK, "patient_id": "X", "condition": "stroke",
        "admitted_on": "2025-06-01", "scale": "barthel", "score_admission": "30"})  # fmt: skip
    assert response.status_code == 200  # the form refuses the choice
    assert RehabCase.objects.count() == before


def test_referrals_both_ends_and_scope(records, carol, dave, alice, client_for):
    incoming = Referral.objects.get(patient_masked__startswith="Z2")
    # carol (花马池镇卫生院) sees her outgoing referral, not 大水坑's
    page = client_for(carol).get("/care/referrals/?year=2025").text
    assert "急性脑卒中" in page and "骨折" not in page
    # dave supervises 大水坑镇: he cannot mark the hospital's incoming referral
    response = client_for(dave).post(
        f"/care/referrals/{incoming.pk}/advance/", {"status": "received", "on": "2025-05-03"}
    )
    assert response.status_code == 403
    assert client_for(carol).post(f"/care/referrals/{incoming.pk}/advance/",
                                  {"status": "received"}).status_code == 404  # fmt: skip
    incoming.refresh_from_db()
    assert incoming.status == "sent"


def test_the_receiving_clerk_marks_a_referral(records, client_for):
    from xinglin.network.actions import create_user

    clerk = create_user("tcm-clerk", "Correct-Horse-42", role="institution_clerk",
                        orgunit=OrgUnit.objects.get(code=TCM_HOSPITAL))  # fmt: skip
    client = client_for(clerk)
    page = client.get("/care/referrals/?year=2025").text
    assert "急性脑卒中" in page and "骨折" in page
    response = client.post(f"/care/referrals/{records.pk}/advance/",
                           {"status": "completed", "on": "2025-05-06"})  # fmt: skip
    assert response.status_code == 302
    records.refresh_from_db()
    assert (records.status, records.days_to_completion) == ("completed", 5)


def test_a_clerk_cannot_send_from_another_institution(records, carol, client_for):
    before = Referral.objects.count()
    response = client_for(carol).post("/care/referrals/new/", {
        "source": DSK, "target": TCM_HOSPITAL, "patient_id": "Q", "referred_on": "2025-06-01",
        "reason": "x"})  # fmt: skip
    assert response.status_code == 200
    assert Referral.objects.count() == before


def test_referrals_page_on_the_server_each_list_by_itself(records, alice, client_for):
    from xinglin.care.views import PAGE_SIZE

    unit = lambda code: OrgUnit.objects.get(code=code)  # noqa: E731
    for day in range(PAGE_SIZE + 5):
        send_referral(source=unit(HMC), target=unit(TCM_HOSPITAL), patient_id=f"P{day}",
                      referred_on=date(2025, 6, 1 + day % 28), reason="复诊")  # fmt: skip
    client = client_for(alice)
    response = client.get("/care/referrals/?year=2025")
    incoming, outgoing = response.context["incoming"], response.context["outgoing"]
    assert incoming.paginator.count == outgoing.paginator.count == PAGE_SIZE + 7
    assert len(incoming.object_list) == PAGE_SIZE
    assert "incoming_page=2" in response.text and "outgoing_page=2" in response.text
    second = client.get("/care/referrals/?year=2025&incoming_page=2")
    assert len(second.context["incoming"].object_list) == 7
    assert len(second.context["outgoing"].object_list) == PAGE_SIZE  # the other list stays
    searched = client.get("/care/referrals/?year=2025&q=大水坑").context["incoming"]
    assert [r.patient_masked[:2] for r in searched.object_list] == ["Z2"]
