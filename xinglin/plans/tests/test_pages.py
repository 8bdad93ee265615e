from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from xinglin.plans.actions import add_comment, update_task_status
from xinglin.plans.models import RectificationTask


def test_home_lists_the_plan_and_what_is_overdue(plan, alice, client_for):
    response = client_for(alice).get(reverse("plans:home"))
    assert response.status_code == 200
    ((listed, counts),) = response.context["plans"]
    assert listed == plan
    assert counts.total == 17
    # every dated task of seeds/000 is past its deadline today (2026) unless done
    dated = plan.tasks.filter(deadline__isnull=False).count()
    assert response.context["overdue_count"] == counts.overdue == dated


def test_plan_overview_and_its_figures(plan, alice, client_for):
    client = client_for(alice)
    response = client.get(reverse("plans:plan", args=[plan.pk]))
    assert response.status_code == 200
    assert b'id="timeline"' in response.content
    data = client.get(reverse("plans:timeline_export", args=[plan.pk, "json"])).json()
    phases = [r for r in data["rows"] if r["kind"] == "phase"]
    assert [(r["name"], r["start"], r["end"]) for r in phases] == [
        ("启动阶段", "2021-10-01", "2021-10-31"),
        ("实施阶段", "2021-10-01", "2025-12-31"),
        ("总结评估", "2025-10-01", "2025-12-31"),
    ]
    text = client.get(reverse("plans:timeline_export", args=[plan.pk, "csv"])).content.decode()
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == len(data["rows"]) == 3 + 17


@pytest.mark.parametrize(
    "query, numbers",
    [
        ("department=education_sports", ["三(二)1", "三(二)2", "三(三)2", "六(一)", "六(二)"]),
        ("phase=launch", []),
        ("status=done", ["三(二)3"]),
        ("status=in_progress", ["三(三)1"]),
        ("department=medical_insurance&status=not_started", ["六(一)", "六(二)"]),
    ],
)
def test_task_list_filters(plan, alice, client_for, query, numbers):
    update_task_status(plan.tasks.get(number="三(二)3"), "done", user=alice)
    update_task_status(plan.tasks.get(number="三(三)1"), "in_progress", user=alice)
    response = client_for(alice).get(reverse("plans:tasks", args=[plan.pk]) + "?" + query)
    assert [t.number for t in response.context["tasks"]] == numbers


def test_overdue_filter_uses_the_deadline(plan, alice, client_for):
    response = client_for(alice).get(reverse("plans:tasks", args=[plan.pk]) + "?status=overdue")
    overdue = [t.number for t in response.context["tasks"]]
    assert overdue == list(
        plan.tasks.filter(deadline__lt=date.today()).values_list("number", flat=True)
    )
    assert "三(一)2" in overdue


def test_task_list_query_count_is_fixed(plan, alice, client_for, django_assert_max_num_queries):
    client = client_for(alice)
    # 13: the header's unread-notice count (notices) joined the page's fixed queries
    with django_assert_max_num_queries(13):
        client.get(reverse("plans:tasks", args=[plan.pk]))


def test_task_json_twin(plan, alice, client_for):
    url = reverse("plans:tasks_export", args=[plan.pk, "json"]) + "?department=medical_insurance"
    data = client_for(alice).get(url).json()
    assert [r["number"] for r in data["rows"]] == ["三(一)1", "六(一)", "六(二)"]
    assert data["rows"][0] == {
        "number": "三(一)1",
        "title": "加强中医康复中心建设",
        "lead": "卫生健康行政部门（卫生健康委员会／卫生健康局）、残疾人联合会",
        "support": "医疗保障部门（医疗保障局）、财政部门（财政局）、发展和改革部门（发展改革委）",
        "phase": "implementation",
        "deadline": "2025-12-31",
        "status": "overdue",
    }


def test_due_page_and_department_digest(plan, alice, eve, client_for):
    task = plan.tasks.get(number="三(二)1")
    task.deadline = timezone.localdate() + timedelta(days=10)
    task.save()
    add_comment(task, user=eve, text="已联系学校")
    response = client_for(alice).get(reverse("plans:due"))
    assert task in list(response.context["due_soon"])
    response = client_for(eve).get(reverse("plans:department", args=["640323", "education_sports"]))
    digest = response.context["digest"]
    assert digest.due_soon == [task]
    assert [u.text for u in digest.updates] == ["已联系学校"]


def test_digest_command_sends_mail_only_with_smtp(plan, eve, settings, capsys):
    eve.email = "eve@example.org"
    eve.save()
    update_task_status(plan.tasks.get(number="三(二)1"), "in_progress", user=eve)
    settings.EMAIL_HOST = ""
    call_command("plans", "digest")
    assert "no e-mail sent" in capsys.readouterr().out
    assert mail.outbox == []
    settings.EMAIL_HOST = "smtp.example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("plans", "digest", "--orgunit", "640323")
    assert capsys.readouterr().out.strip() == "1 digests sent"
    (message,) = mail.outbox
    assert message.to == ["eve@example.org"]
    assert "三(二)1" in message.body


def test_rectification_in_one_step_and_to_closure(plan, alice, client_for):
    client = client_for(alice)
    url = reverse("plans:rectification_new")
    query = "?pack=rehab-2021-2025&indicator=rehab.tcm_hospital_rehab_beds&orgunit=640323&period=2025&value=32"
    response = client.get(url + query)
    assert response.status_code == 200
    assert response.context["form"].initial["indicator"] == "rehab.tcm_hospital_rehab_beds"
    data = {
        "pack": "rehab-2021-2025",
        "indicator": "rehab.tcm_hospital_rehab_beds",
        "orgunit": "640323",
        "period": "2025",
        "value": "32",
        "owner": _dept("health_commission"),
        "measure": "县中医医院增设康复病床8张",
        "deadline": "2027-06-30",
    }
    response = client.post(url, data)
    item = RectificationTask.objects.get()
    assert response["Location"] == reverse("plans:rectification", args=[item.pk])
    assert (item.target, item.value_at_creation, item.period, item.status) == (
        ">= 40",
        32.0,
        "2025",
        "open",
    )
    response = client.post(
        reverse("plans:rectification", args=[item.pk]),
        {"action": "close", "value": "42", "note": "已增设"},
    )
    item.refresh_from_db()
    assert (item.status, item.value_at_closure, item.closed_by) == ("closed", 42.0, alice)
    response = client.get(reverse("plans:rectification", args=[item.pk]))
    assert (response.context["met_at_creation"], response.context["met_at_closure"]) == (
        False,
        True,
    )


def _dept(code):
    from xinglin.plans.models import Department

    return Department.objects.get(code=code).pk


def test_rectification_refused_outside_scope(plan, bob, eve, client_for):
    data = {
        "pack": "rehab-2021-2025",
        "indicator": "rehab.tcm_hospital_rehab_beds",
        "orgunit": "640323",
        "owner": _dept("health_commission"),
        "measure": "x",
        "deadline": "2027-06-30",
    }
    assert client_for(bob).post(reverse("plans:rectification_new"), data).status_code == 404
    assert client_for(eve).post(reverse("plans:rectification_new"), data).status_code == 404
    assert RectificationTask.objects.count() == 0


def test_unknown_indicator_is_refused(plan, alice, client_for):
    data = {
        "pack": "rehab-2021-2025",
        "indicator": "rehab.nothing",
        "orgunit": "640323",
        "owner": _dept("health_commission"),
        "measure": "x",
        "deadline": "2027-06-30",
    }
    response = client_for(alice).post(reverse("plans:rectification_new"), data)
    assert response.status_code == 200
    assert RectificationTask.objects.count() == 0
