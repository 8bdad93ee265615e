"""Care pages: rendering, the entry form, and scope (through xinglin.network.access)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from xinglin.care.actions import record_child_guidance, register_child
from xinglin.care.models import Child, ChildGuidance, ConstitutionAssessment, Resident
from xinglin.care.tests.helpers import BALANCED, assess, id_card
from xinglin.network.models import OrgUnit

pytestmark = pytest.mark.django_db


def _post_data(institution="640323100001", number=None, **extra) -> dict:
    data = {
        "institution": institution,
        "id_number": number or id_card(serial=7),
        "assessed_on": "2025-06-01",
        "guidance": ["diet", "acupoints"],
    }
    data.update({f"q{i}": str(a) for i, a in enumerate(BALANCED, start=1)})
    data.update(extra)
    return data


def test_a_clerk_records_an_assessment(carol, client_for):
    response = client_for(carol).post(reverse("care:assessment_new"), _post_data())
    a = ConstitutionAssessment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("care:assessment", args=[a.pk])
    assert (a.institution.code, a.entered_by, a.is_complete) == ("640323100001", carol, True)
    page = client_for(carol).get(response.url)
    assert page.status_code == 200
    assert "6403**********" in page.content.decode()


def test_items_9_and_28_come_from_the_measurements(carol, client_for):
    data = _post_data(height_cm="160", weight_kg="70", waist_cm="92")
    del data["q9"], data["q28"]
    client_for(carol).post(reverse("care:assessment_new"), data)
    a = ConstitutionAssessment.objects.get()
    assert (a.answer_list[8], a.answer_list[27]) == (4, 4)


def test_every_item_must_be_answered(carol, client_for):
    data = _post_data()
    del data["q17"]
    response = client_for(carol).post(reverse("care:assessment_new"), data)
    assert response.status_code == 200
    assert ConstitutionAssessment.objects.count() == 0


def test_a_clerk_cannot_record_for_another_institution(carol, client_for):
    # the choice is not offered, and a forged field value is refused
    response = client_for(carol).get(reverse("care:assessment_new"))
    assert "640323101001" not in response.content.decode()
    response = client_for(carol).post(reverse("care:assessment_new"), _post_data("640323101001"))
    assert response.status_code == 200
    assert ConstitutionAssessment.objects.count() == 0
    assert Resident.objects.count() == 0


def test_a_clerk_cannot_see_another_institutions_records(carol, client_for):
    other = assess("640323101001", id_card(serial=1), date(2025, 5, 1))
    own = assess("640323100001", id_card(serial=2), date(2025, 5, 1))
    client = client_for(carol)
    assert client.get(reverse("care:assessment", args=[other.pk])).status_code == 404
    assert client.get(reverse("care:assessment", args=[own.pk])).status_code == 200
    listing = client.get(reverse("care:assessments"), {"year": 2025}).content.decode()
    assert own.resident.id_masked in listing and other.resident.id_masked not in listing
    exported = client.get(reverse("care:assessments_csv"), {"year": 2025}).getvalue().decode()
    assert exported.count("\n") == 2  # header and carol's one record
    residents = client.get(reverse("care:residents")).content.decode()
    assert own.resident.id_masked in residents and other.resident.id_masked not in residents


def test_a_clerk_cannot_record_a_visit_for_another_institutions_child(carol, client_for):
    child = register_child(
        "BC-2025-0001",
        institution=OrgUnit.objects.get(code="640323101001"),
        birth_date=date(2025, 1, 10),
    )
    url = reverse("care:child_visit", args=[child.pk])
    assert client_for(carol).get(url).status_code == 404
    response = client_for(carol).post(url, {"visited_on": "2025-07-12", "diet": "on"})
    assert response.status_code == 404
    assert ChildGuidance.objects.count() == 0


def test_a_viewer_sees_but_cannot_record(victor, client_for):
    assert client_for(victor).get(reverse("care:home")).status_code == 200
    response = client_for(victor).post(reverse("care:assessment_new"), _post_data())
    assert response.status_code == 404
    assert ConstitutionAssessment.objects.count() == 0


@pytest.mark.parametrize(
    "name",
    ["care:home", "care:assessments", "care:assessment_new", "care:blank_form", "care:residents",
     "care:child_due", "care:child_new", "care:distribution", "care:assessment_import"],
)  # fmt: skip
def test_the_pages_render(alice, client_for, name):
    assess("640323100001", id_card(), date.today())
    assert client_for(alice).get(reverse(name)).status_code == 200


def test_the_distribution_by_township_and_its_csv(alice, bob, client_for):
    assess("640323100001", id_card(serial=1), date(2025, 5, 1))
    assess("640323100101", id_card(serial=2), date(2025, 5, 1), answers=[3] * 33)
    assess("640323101001", id_card(serial=3), date(2025, 5, 1))
    assess("640323101001", id_card(serial=4), date(2025, 5, 1), guidance=[])  # incomplete
    response = client_for(alice).get(reverse("care:distribution_csv"), {"year": 2025})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "township_code,township,assessed,balanced,qi_deficiency,yang_deficiency,"
        "yin_deficiency,phlegm_dampness,damp_heat,blood_stasis,qi_stagnation,special_diathesis"
    )
    assert lines[1:] == [
        "640323100,花马池镇,2,1,1,1,1,1,1,1,1,1",
        "640323101,大水坑镇,1,1,0,0,0,0,0,0,0,0",
    ]
    page = client_for(alice).get(reverse("care:distribution"), {"year": 2025}).content.decode()
    assert 'id="chart"' in page and "echarts.min.js" in page and "花马池镇" in page
    bobs = client_for(bob).get(reverse("care:distribution_csv"), {"year": 2025})
    assert len(bobs.content.decode("utf-8-sig").splitlines()) == 2  # his township only


def test_the_due_list_shows_due_and_overdue_children(carol, client_for):
    clinic = OrgUnit.objects.get(code="640323100001")
    today = date.today()
    from xinglin.care.children import add_months

    due = register_child("BC-DUE-1", institution=clinic, birth_date=add_months(today, -6))
    late = register_child("BC-LATE-1", institution=clinic, birth_date=add_months(today, -14))
    done = register_child("BC-DONE-1", institution=clinic, birth_date=add_months(today, -12))
    record_child_guidance(
        done,
        institution=clinic,
        visited_on=add_months(done.birth_date, 12),
        diet=True,
        daily_life=True,
        techniques=["abdominal_massage", "spine_pinching"],
    )
    response = client_for(carol).get(reverse("care:child_due"))
    rows = {(r["child"].pk, r["month"], r["status"]) for r in response.context["rows"]}
    # done's 12-month visit is recorded; its 6-month one was missed long ago (no longer listed)
    assert rows == {(due.pk, 6, "due"), (late.pk, 12, "overdue")}
    assert Child.objects.count() == 3


def test_the_assessment_list_is_paged_on_the_server_and_names_constitution_types(
    client_for, alice, county
):
    from datetime import date

    from xinglin.care.actions import record_assessment, register_resident
    from xinglin.care.personal_id import make_id_card
    from xinglin.care.views import PAGE_SIZE
    from xinglin.network.models import OrgUnit

    unit = OrgUnit.objects.get(code="640323100001")
    for serial in range(PAGE_SIZE + 3):
        resident = register_resident(
            make_id_card("640323", date(1950, 1, 1), serial + 1),
            institution=unit,
            name=f"居民{serial}",
        )
        record_assessment(
            resident, institution=unit, assessed_on=date(2025, 3, 1), answers=[5] + [1] * 32
        )
    client = client_for(alice)
    first = client.get("/care/assessments/?year=2025")
    assert first.status_code == 200
    assert len(first.context["records"]) == PAGE_SIZE and first.context["total"] == PAGE_SIZE + 3
    second = client.get("/care/assessments/?year=2025&page=2")
    assert len(second.context["records"]) == 3
    text = first.content.decode()
    assert "balanced" not in text.split("<table")[1]  # 平和质, not the code
