"""Issue 19 §5: once a plan's period has ended its tasks show their final state (done, done
late, not done), not years of "overdue"; while it runs, an open task past its deadline is
overdue. The page filter (queries.status_q) agrees with Task.get_status task by task."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from xinglin.plans import queries
from xinglin.plans.actions import update_task_status
from xinglin.plans.models import FinalStatus, Task, TaskStatus

SHOWN = [*TaskStatus, *FinalStatus]


def _three(plan):
    tasks = list(plan.tasks.exclude(deadline=None).order_by("position")[:3])
    on_time, late, open_ = tasks
    update_task_status(on_time, TaskStatus.DONE, user=None, on=on_time.deadline)
    update_task_status(late, TaskStatus.DONE, user=None, on=late.deadline + timedelta(days=30))
    update_task_status(open_, TaskStatus.IN_PROGRESS, user=None)
    return on_time, late, open_


def _shown(task: Task, today: date) -> str:
    return Task.objects.select_related("plan").get(pk=task.pk).get_status(today)


@pytest.mark.django_db
def test_an_ended_plan_shows_done_done_late_and_not_done(plan):
    on_time, late, open_ = _three(plan)
    after = plan.end + timedelta(days=400)  # more than a year after the plan's end
    assert [_shown(t, after) for t in (on_time, late, open_)] == ["done", "done_late", "not_done"]
    assert Task.objects.get(pk=open_.pk).get_status_label(after) in ("未完成", "Not done")
    assert not Task.objects.get(pk=open_.pk).is_overdue(after)


@pytest.mark.django_db
def test_a_running_plan_shows_overdue(plan):
    on_time, late, open_ = _three(plan)
    during = open_.deadline + timedelta(days=1)
    assert during <= plan.end
    assert _shown(open_, during) == "overdue"
    assert _shown(late, during) == "done"


@pytest.mark.django_db
@pytest.mark.parametrize("days_after_end", [-200, 400])
def test_the_filter_agrees_with_each_tasks_shown_status(plan, days_after_end):
    _three(plan)
    today = plan.end + timedelta(days=days_after_end)
    tasks = Task.objects.filter(plan=plan).select_related("plan")
    for status in SHOWN:
        filtered = set(tasks.filter(queries.status_q(status, today)).values_list("pk", flat=True))
        expected = {t.pk for t in tasks if t.get_status(today) == status}
        assert filtered == expected, status
    counts = queries.plan_counts(plan, tasks, today)
    assert (
        counts.done
        + counts.done_late
        + counts.not_done
        + counts.in_progress
        + (counts.overdue)
        + tasks.filter(queries.status_q(TaskStatus.NOT_STARTED, today)).count()
        == counts.total
    )


@pytest.mark.django_db
def test_the_task_list_of_an_ended_plan_filters_by_final_state(plan, alice, client_for):
    from django.urls import reverse

    from xinglin.plans.models import Plan

    on_time, late, open_ = _three(plan)
    Plan.objects.filter(pk=plan.pk).update(end=date(2025, 12, 31))  # ended before today
    client = client_for(alice)
    url = reverse("plans:tasks", args=[plan.pk])
    listed = {
        status: [t.number for t in client.get(f"{url}?status={status}").context["tasks"]]
        for status in ("done_late", "not_done", "overdue")
    }
    assert listed["done_late"] == [late.number]
    assert open_.number in listed["not_done"] and on_time.number not in listed["not_done"]
    assert listed["overdue"] == []
    page = client.get(reverse("plans:plan", args=[plan.pk])).text
    assert "逾期完成（1）" in page
