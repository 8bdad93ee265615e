"""Care records, plans and tasks through the API: the web's scope, masked identifiers only."""

from __future__ import annotations

from datetime import date

import pytest

from xinglin.care.actions import record_assessment, register_resident, send_referral
from xinglin.care.personal_id import make_id_card
from xinglin.network.actions import create_user
from xinglin.network.models import OrgUnit, Role
from xinglin.plans.access import tasks_for_user
from xinglin.plans.actions import load_departments, load_plan
from xinglin.plans.packs import PACKS_DIR, read_packs

BALANCED = [5] + [1] * 32


@pytest.fixture
def records(county):
    """An assessment at carol's centre and one at dave's; a referral from carol's centre to
    the county TCM hospital."""
    for code, serial in (("640323100001", 101), ("640323101001", 102)):
        unit = OrgUnit.objects.get(code=code)
        number = make_id_card("640323", date(1950, 3, 4), serial)
        resident = register_resident(number, institution=unit, name="张三")
        record_assessment(
            resident, institution=unit, assessed_on=date(2024, 5, 6), answers=BALANCED,
            guidance=["diet"],
        )  # fmt: skip
    send_referral(
        source=OrgUnit.objects.get(code="640323100001"),
        target=OrgUnit.objects.get(code="640323000001"),
        patient_id=make_id_card("640323", date(1960, 1, 1), 103),
        referred_on=date(2024, 6, 1),
        reason="stroke rehabilitation",
    )


def test_a_clerk_reads_only_their_assessments(client, carol, records, bearer):
    response = client.get("/api/v1/care/assessments", **bearer(carol))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["institution"] == "640323100001"
    assert item["assessed_on"] == "2024-05-06"
    assert item["results"]["balanced"] != ""
    assert "张三" not in response.content.decode()
    assert "*" in item["resident"]


def test_assessments_filter_by_period_and_orgunit(client, alice, records, bearer):
    headers = bearer(alice)
    url = "/api/v1/care/assessments"
    assert client.get(url, {"period": "2024"}, **headers).json()["count"] == 2
    assert client.get(url, {"period": "2023"}, **headers).json()["count"] == 0
    assert (
        client.get(url, {"period": "202405", "orgunit": "640323101"}, **headers).json()["count"]
        == 1
    )


def test_a_bad_period_names_the_field(client, alice, records, bearer):
    response = client.get("/api/v1/care/assessments", {"period": "May"}, **bearer(alice))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "period"]


def test_referrals_are_seen_from_either_end(client, carol, dave, records, bearer):
    sent = client.get("/api/v1/care/referrals", **bearer(carol)).json()
    assert [(r["from_institution"], r["to_institution"]) for r in sent["items"]] == [
        ("640323100001", "640323000001")
    ]
    assert client.get("/api/v1/care/referrals", **bearer(dave)).json()["count"] == 0


@pytest.fixture
def plan(county, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    load_departments()
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == "rehab-2021-2025")
    return load_plan(pack, county).plan


def test_plans_and_tasks_follow_the_plans_scope(client, bob, plan, bearer):
    plans = client.get("/api/v1/plans", **bearer(bob)).json()
    assert plans["count"] == 0  # the plan is the county's; a township supervisor sees none
    eve = create_user(
        "eve", "Correct-Horse-42", role=Role.DEPARTMENT_LIAISON,
        orgunit=OrgUnit.objects.get(code="640323"), department="education_sports",
    )  # fmt: skip
    tasks = client.get("/api/v1/tasks", {"limit": 1000}, **bearer(eve)).json()
    expected = sorted(tasks_for_user(eve).values_list("pk", flat=True))
    assert sorted(t["id"] for t in tasks["items"]) == expected
    assert all("education_sports" in t["lead"] + t["support"] for t in tasks["items"])


def test_an_administrator_reads_the_plan(client, alice, plan, bearer):
    headers = bearer(alice)
    plans = client.get("/api/v1/plans", **headers).json()
    assert [(p["pack"], p["orgunit"]) for p in plans["items"]] == [("rehab-2021-2025", "640323")]
    one = client.get(f"/api/v1/plans/{plan.pk}", **headers).json()
    assert one["tasks"] == plan.tasks.count()
    tasks = client.get("/api/v1/tasks", {"plan": plan.pk, "limit": 1000}, **headers).json()
    assert tasks["count"] == plan.tasks.count()


def test_another_townships_plan_is_404(client, bob, plan, bearer):
    assert client.get(f"/api/v1/plans/{plan.pk}", **bearer(bob)).status_code == 404


@pytest.mark.parametrize("persona", ["victor", "bob"])
def test_record_level_care_data_is_for_the_roles_that_export(
    client, records, bearer, request, persona
):
    """A viewer or a supervisor sees figures, not residents' records (as for the CSV)."""
    user = request.getfixturevalue(persona)
    assert client.get("/api/v1/care/assessments", **bearer(user)).json()["count"] == 0


def test_reading_care_records_through_the_api_is_logged(client, alice, records, bearer):
    from xinglin.core.models import SecurityEvent

    client.get("/api/v1/care/assessments", **bearer(alice))
    event = SecurityEvent.objects.get(kind="personal_export")
    assert (event.username, event.detail) == ("alice", "api /api/v1/care/assessments")
