"""Read-side helpers for the plan pages: filtering tasks, the timeline figures, what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, F, Q, QuerySet

from xinglin.plans.actions import item_q
from xinglin.plans.models import (
    DUE_SOON_DAYS,
    Evidence,
    EvidenceStatus,
    FinalStatus,
    Milestone,
    Plan,
    Task,
    TaskStatus,
    period_includes_q,
)

TIMELINE_FIELDS = ["row", "kind", "name", "start", "end", "status"]


def filter_tasks(
    tasks: QuerySet[Task], *, department="", status="", phase="", q="", today: date
) -> QuerySet[Task]:
    """Tasks of a department, phase and shown status, whose number or title contains `q`."""
    if department:
        of_department = Task.objects.filter(Q(lead__code=department) | Q(support__code=department))
        tasks = tasks.filter(pk__in=of_department.values("pk"))
    if phase:
        tasks = tasks.filter(phase__code=phase)
    if status:
        tasks = tasks.filter(status_q(status, today))
    if q:
        tasks = tasks.filter(
            Q(title_zh__contains=q) | Q(title_en__icontains=q) | Q(number__contains=q)
        )
    return tasks


def status_q(status: str, today: date) -> Q:
    """The tasks whose shown status (Task.get_status) is `status`: once a plan has ended its
    tasks are done, done late or not done; while it runs, open tasks past their deadline are
    overdue."""
    ended = Q(plan__end__lt=today)
    done = Q(status=TaskStatus.DONE)
    late = done & Q(deadline__isnull=False, completed_on__gt=F("deadline"))
    overdue = Q(deadline__lt=today) & ~done & ~ended
    if status == TaskStatus.OVERDUE:
        return overdue
    if status == FinalStatus.NOT_DONE:
        return ended & ~done
    if status == FinalStatus.DONE_LATE:
        return ended & late
    if status == TaskStatus.DONE:
        return done & ~(ended & late)
    return Q(status=status) & ~overdue & ~ended


def with_departments(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("plan__orgunit", "phase").prefetch_related("lead", "support")


@dataclass
class PlanCounts:
    total: int
    done: int
    in_progress: int
    overdue: int
    done_late: int = 0  # once the plan has ended (then `done` counts those on time)
    not_done: int = 0


def plan_counts(plan: Plan, tasks: QuerySet[Task], today: date) -> PlanCounts:
    counts = tasks.filter(plan=plan).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=status_q(TaskStatus.DONE, today)),
        in_progress=Count("pk", filter=status_q(TaskStatus.IN_PROGRESS, today)),
        overdue=Count("pk", filter=status_q(TaskStatus.OVERDUE, today)),
        done_late=Count("pk", filter=status_q(FinalStatus.DONE_LATE, today)),
        not_done=Count("pk", filter=status_q(FinalStatus.NOT_DONE, today)),
    )
    return PlanCounts(**counts)


def timeline_rows(plan: Plan, today: date, milestones: QuerySet | None = None) -> list[dict]:
    """Phases (ranges) and milestones (points) of a plan, for the chart and its table.
    Pages pass the milestones the user may see (`access.visible_milestones`): a liaison sees
    only their department's (issue 20.2)."""
    rows = [
        {
            "row": phase.name,
            "kind": "phase",
            "name": phase.name,
            "start": phase.start.isoformat(),
            "end": phase.end.isoformat(),
            "status": "done" if phase.end < today else ("current" if phase.start <= today else ""),
        }
        for phase in plan.phases.all()
    ]
    shown = plan.milestones.all() if milestones is None else milestones
    for milestone in shown.select_related("task").order_by("due", "pk"):
        rows.append(
            {
                "row": milestone.get_kind_display(),
                "kind": milestone.kind,
                "name": milestone.title,
                "start": milestone.due.isoformat(),
                "end": milestone.due.isoformat(),
                "status": _milestone_status(milestone, today),
            }
        )
    return rows


def _milestone_status(milestone: Milestone, today: date) -> str:
    if milestone.done_on:
        return "done"
    if milestone.is_overdue(today):
        return "overdue"
    return "due_soon" if milestone.is_due_soon(today) else ""


def due_tasks(tasks: QuerySet[Task], today: date) -> tuple[QuerySet[Task], QuerySet[Task]]:
    """(overdue, due within DUE_SOON_DAYS) among `tasks`, soonest first."""
    # an ended plan's open tasks are "not done", no longer due
    open_tasks = with_departments(
        tasks.exclude(status=TaskStatus.DONE).exclude(plan__end__lt=today)
    ).order_by("deadline")
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return (
        open_tasks.filter(deadline__lt=today),
        open_tasks.filter(deadline__gte=today, deadline__lte=soon),
    )


def due_milestones(plans: QuerySet[Plan], today: date):
    """(overdue in the past year, due soon) open milestones of `plans`."""
    milestones = Milestone.objects.filter(plan__in=plans, done_on__isnull=True).select_related(
        "plan", "task"
    )
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return (
        milestones.filter(due__lt=today, due__gte=today - timedelta(days=365)),
        milestones.filter(due__gte=today, due__lte=soon),
    )


def filter_evidence(
    evidence: QuerySet[Evidence], *, item="", year=None, status="", q=""
) -> QuerySet[Evidence]:
    """The evidence list's filters: `item` "<pack>/<indicator id>" (attached to the item or to
    a task linked to it), `year` (its period covered includes that year), review `status`,
    and `q` in the file name, description or task title. Newest first."""

    if item and "/" in item:
        pack, indicator = item.split("/", 1)
        evidence = evidence.filter(
            pk__in=Evidence.objects.filter(item_q(pack, [indicator])).values("pk")
        )
    if year:
        evidence = evidence.filter(period_includes_q(year))
    if status in EvidenceStatus.values:
        evidence = evidence.filter(status=status)
    if q:
        words = Q(name__contains=q) | Q(description__contains=q) | Q(task__title_zh__contains=q)
        evidence = evidence.filter(words)
    return evidence.select_related("orgunit", "task", "uploaded_by").order_by("-uploaded_at", "-id")
