"""Plans and their tasks (read only), with the plans app's own access rules: the org-unit
scope of xinglin.network.access plus a department liaison's tasks."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from xinglin.api.auth import caller
from xinglin.api.routes import PageQuery, orgunit_in_scope, page, responses
from xinglin.api.schemas import Page, Text
from xinglin.plans import access as plan_access
from xinglin.plans.models import Plan, Task

router = Router(tags=["plans and tasks"])
# Ids are 64-bit in the database; a larger number would be a database error, not a 404.
MAX_ID = 2**63 - 1


class PlanOut(Schema):
    id: int
    orgunit: str
    pack: str
    title_zh: str
    title_en: str
    source: str
    start: date
    end: date
    tasks: int


class PlanPage(Page):
    items: list[PlanOut]


class TaskOut(Schema):
    id: int
    plan: int
    number: str
    title_zh: str
    title_en: str
    category: str
    lead: list[str]
    support: list[str]
    phase: str | None
    deadline: date | None
    status: str = Field(
        description="not_started | in_progress | done | overdue while the plan runs; "
        "done | done_late | not_done once its period has ended"
    )
    completed_on: date | None
    indicators: list[str] = Field(description="<pack>/<indicator id>")


class TaskPage(Page):
    items: list[TaskOut]


class PlanFilters(Schema):
    orgunit: Text | None = Field(None, max_length=32, description="This unit and all beneath")
    pack: Text | None = Field(None, max_length=64)


class TaskFilters(Schema):
    plan: int | None = Field(None, ge=1, le=MAX_ID)
    status: Text | None = Field(None, max_length=16)
    department: Text | None = Field(None, max_length=64, description="Lead or supporting")


def _plan(plan: Plan) -> dict:
    return {
        "id": plan.pk,
        "orgunit": plan.orgunit.code,
        "pack": plan.pack,
        "title_zh": plan.title_zh,
        "title_en": plan.title_en,
        "source": plan.source,
        "start": plan.start,
        "end": plan.end,
        "tasks": plan.tasks.count(),
    }


@router.get("plans", response=responses(PlanPage), summary="Plans")
def list_plans(request: HttpRequest, filters: Query[PlanFilters], pages: Query[PageQuery]) -> dict:
    plans = plan_access.plans_for_user(caller(request))
    if filters.orgunit:
        plans = plans.filter(
            orgunit__path__startswith=orgunit_in_scope(request, filters.orgunit).path
        )
    if filters.pack:
        plans = plans.filter(pack=filters.pack)
    result = page(plans.order_by("orgunit__path", "start", "pack", "id"), pages)
    result["items"] = [_plan(p) for p in result["items"]]
    return result


@router.get("plans/{plan_id}", response=responses(PlanOut), summary="One plan")
def get_plan(request: HttpRequest, plan_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    return _plan(plan_access.get_plan_for_user(caller(request), plan_id))


def _task(task: Task) -> dict:
    return {
        "id": task.pk,
        "plan": task.plan_id,
        "number": task.number,
        "title_zh": task.title_zh,
        "title_en": task.title_en,
        "category": task.category,
        "lead": [d.code for d in task.lead.all()],
        "support": [d.code for d in task.support.all()],
        "phase": task.phase.code if task.phase_id else None,
        "deadline": task.deadline,
        "status": task.get_status(),
        "completed_on": task.completed_on,
        "indicators": [f"{link.pack}/{link.indicator}" for link in task.indicator_links.all()],
    }


@router.get("tasks", response=responses(TaskPage), summary="Tasks")
def list_tasks(request: HttpRequest, filters: Query[TaskFilters], pages: Query[PageQuery]) -> dict:
    tasks = plan_access.tasks_for_user(caller(request))
    if filters.plan:
        tasks = tasks.filter(plan_id=filters.plan)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.department:
        tasks = tasks.filter(lead__code=filters.department) | tasks.filter(
            support__code=filters.department
        )
    tasks = (
        tasks.distinct()
        .select_related("phase", "plan")
        .prefetch_related("lead", "support", "indicator_links")
    )
    result = page(tasks.order_by("plan_id", "position", "id"), pages)
    result["items"] = [_task(t) for t in result["items"]]
    return result


@router.get("tasks/{task_id}", response=responses(TaskOut), summary="One task")
def get_task(request: HttpRequest, task_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    return _task(plan_access.get_task_for_user(caller(request), task_id))
