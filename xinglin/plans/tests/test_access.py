from __future__ import annotations

import pytest
from django.urls import reverse

from xinglin.plans.actions import upload_evidence
from xinglin.plans.models import Evidence, Task, TaskStatus, TaskUpdate
from xinglin.plans.tests.conftest import pdf_bytes

# In seeds/000 the education and sports bureau leads 三(二)1 and 三(二)2 (and others); it has no
# part in 三(一)2 (health commission and disabled persons' federation).
EDUCATION_TASK = "三(二)1"
OTHER_TASK = "三(一)2"


def _task(plan, number) -> Task:
    return plan.tasks.get(number=number)


def test_liaison_sees_only_their_departments_tasks(plan, eve, client_for):
    response = client_for(eve).get(reverse("plans:tasks", args=[plan.pk]))
    assert response.status_code == 200
    numbers = [t.number for t in response.context["tasks"]]
    assert numbers == ["三(二)1", "三(二)2", "三(三)2", "六(一)", "六(二)"]
    assert OTHER_TASK not in numbers


def test_liaison_cannot_open_another_departments_task(plan, eve, client_for):
    client = client_for(eve)
    assert (
        client.get(reverse("plans:task", args=[_task(plan, EDUCATION_TASK).pk])).status_code == 200
    )
    assert client.get(reverse("plans:task", args=[_task(plan, OTHER_TASK).pk])).status_code == 404


def test_liaison_updates_their_task(plan, eve, client_for):
    task = _task(plan, EDUCATION_TASK)
    response = client_for(eve).post(
        reverse("plans:task_status", args=[task.pk]), {"status": "in_progress", "comment": "已启动"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    update = task.updates.get()
    assert (update.old_status, update.new_status, update.text, update.user) == (
        "not_started",
        "in_progress",
        "已启动",
        eve,
    )


@pytest.mark.parametrize(
    "name, data",
    [
        ("plans:task_status", {"status": "done"}),
        ("plans:task_comment", {"text": "hello"}),
    ],
)
def test_liaison_cannot_change_another_departments_task(plan, eve, client_for, name, data):
    task = _task(plan, OTHER_TASK)
    response = client_for(eve).post(reverse(name, args=[task.pk]), data)
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
    assert TaskUpdate.objects.count() == 0


def test_liaison_cannot_upload_to_another_departments_task(plan, eve, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    task = _task(plan, OTHER_TASK)
    upload = SimpleUploadedFile("x.pdf", pdf_bytes(), content_type="application/pdf")
    response = client_for(eve).post(
        reverse("plans:task_evidence", args=[task.pk]), {"file": upload}
    )
    assert response.status_code == 404
    assert Evidence.objects.count() == 0


def test_liaison_cannot_download_another_departments_evidence(plan, eve, alice, client_for):
    task = _task(plan, OTHER_TASK)
    evidence = upload_evidence(
        orgunit=plan.orgunit, task=task, name="病床.pdf", content=pdf_bytes(), user=alice
    )
    response = client_for(eve).get(reverse("plans:evidence_download", args=[evidence.pk]))
    assert response.status_code == 404
    response = client_for(eve).post(
        reverse("plans:evidence_review", args=[evidence.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404
    evidence.refresh_from_db()
    assert evidence.status == "pending"


def test_liaison_cannot_review_evidence_of_their_own_task(plan, eve, client_for):
    task = _task(plan, EDUCATION_TASK)
    evidence = upload_evidence(
        orgunit=plan.orgunit, task=task, name="a.pdf", content=pdf_bytes(), user=eve
    )
    response = client_for(eve).post(
        reverse("plans:evidence_review", args=[evidence.pk]), {"decision": "accept"}
    )
    assert response.status_code == 403
    evidence.refresh_from_db()
    assert evidence.status == "pending"


def test_another_liaison_sees_other_tasks(plan, finn, client_for):
    response = client_for(finn).get(reverse("plans:tasks", args=[plan.pk]))
    numbers = [t.number for t in response.context["tasks"]]
    assert numbers == ["三(一)1", "六(一)", "六(二)"]


def test_liaison_department_page_is_their_own(plan, eve, client_for):
    client = client_for(eve)
    assert (
        client.get(reverse("plans:department", args=["640323", "education_sports"])).status_code
        == 200
    )
    assert client.get(reverse("plans:department", args=["640323", "finance"])).status_code == 404


def test_viewer_reads_but_cannot_update(plan, victor, client_for):
    task = _task(plan, OTHER_TASK)
    client = client_for(victor)
    assert client.get(reverse("plans:task", args=[task.pk])).status_code == 200
    assert (
        client.post(reverse("plans:task_status", args=[task.pk]), {"status": "done"}).status_code
        == 403
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_township_supervisor_does_not_see_the_county_plan(plan, bob, client_for):
    client = client_for(bob)
    assert client.get(reverse("plans:plan", args=[plan.pk])).status_code == 404
    assert client.get(reverse("plans:task", args=[_task(plan, OTHER_TASK).pk])).status_code == 404


def test_outsider_sees_nothing(plan, olga, client_for):
    response = client_for(olga).get(reverse("plans:home"))
    assert response.status_code == 200
    assert response.context["plans"] == []


def test_liaison_cannot_import_or_export_the_plan(plan, eve, client_for):
    client = client_for(eve)
    assert client.get(reverse("plans:xlsx", args=[plan.pk])).status_code == 403
    assert client.get(reverse("plans:import", args=[plan.pk])).status_code == 403


def test_admin_updates_any_task(plan, alice, client_for):
    task = _task(plan, OTHER_TASK)
    client_for(alice).post(reverse("plans:task_status", args=[task.pk]), {"status": "done"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.milestones.filter(done_on__isnull=True).count() == 0


def test_liaison_sees_only_their_departments_milestones_everywhere(plan, eve, alice, client_for):
    """Issue 20.2: /plans/<id>/ and timeline.json showed a liaison every milestone while
    /plans/due/ filtered them."""
    from xinglin.plans.models import Milestone

    mine = set(Milestone.objects.filter(plan=plan, departments__code="education_sports")
               .values_list("title_zh", flat=True))  # fmt: skip
    others = set(plan.milestones.values_list("title_zh", flat=True)) - mine
    assert others  # the plan has milestones of other departments
    rows = (
        client_for(eve).get(reverse("plans:timeline_export", args=[plan.pk, "json"])).json()["rows"]
    )
    shown = {r["name"] for r in rows if r["kind"] != "phase"}
    assert shown == mine
    page = client_for(eve).get(reverse("plans:plan", args=[plan.pk])).content.decode()
    assert not any(title in page for title in others if len(title) > 6)
    rows = (
        client_for(alice)
        .get(reverse("plans:timeline_export", args=[plan.pk, "json"]))
        .json()["rows"]
    )
    assert {r["name"] for r in rows if r["kind"] != "phase"} == mine | others


def test_a_review_never_sends_the_reviewer_off_the_site(plan, alice, client_for):
    task = _task(plan, OTHER_TASK)
    evidence = upload_evidence(
        orgunit=plan.orgunit, task=task, name="病床.pdf", content=pdf_bytes(), user=alice
    )
    review = reverse("plans:evidence_review", args=[evidence.pk])
    away = client_for(alice).post(review, {"decision": "accept", "next": "https://evil.example/"})
    assert away.status_code == 302 and not away["Location"].startswith("https://evil")
    home = reverse("plans:evidence")
    back = client_for(alice).post(review, {"decision": "accept", "next": home})
    assert back["Location"] == home
