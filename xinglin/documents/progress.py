"""Task progress, rectification, evidence, completeness and submissions, read from the plans and
collection apps for documents and the dashboard. Each function returns None when the app that
provides the figures is missing, so a section says "no data" instead of failing the document."""

from __future__ import annotations

import functools
from datetime import date

from django.db.models import Q

from xinglin.collection import completeness as collection_completeness
from xinglin.collection.forms import Form
from xinglin.collection.models import Submission
from xinglin.network import access
from xinglin.network.models import Kind, OrgUnit
from xinglin.plans.access import tasks_for_user
from xinglin.plans.actions import evidence_kind_for
from xinglin.plans.models import (
    Evidence,
    EvidenceStatus,
    Plan,
    RectificationStatus,
    RectificationTask,
    Task,
)
from xinglin.plans.queries import plan_counts, status_q


def _tolerant(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ImportError:
            return None

    return wrapper


def _as_of(year: int) -> date:
    """Progress of a past year is judged at its end; the current year's, today."""
    return min(date.today(), date(year, 12, 31))


def _beneath(orgunit: OrgUnit, field: str = "orgunit__path") -> Q:
    # A county's plans are the county's own; a township or institution reads its county's.
    ancestors = [p for p in orgunit.path.split("/") if p]
    paths = {"/" + "/".join(ancestors[:i]) + "/" for i in range(1, len(ancestors) + 1)}
    return Q(**{f"{field}__startswith": orgunit.path}) | Q(**{f"{field}__in": paths})


@_tolerant
def task_progress(orgunit: OrgUnit, year: int) -> list[list[str]] | None:
    """Rows (plan, tasks, done, in progress, overdue) of the plans of the org unit."""

    today = _as_of(year)
    rows = []
    for plan in Plan.objects.filter(_beneath(orgunit)):
        counts = plan_counts(plan, Task.objects.filter(plan=plan), today)
        rows.append([plan.title_zh, str(counts.total), str(counts.done),
                     str(counts.in_progress), str(counts.overdue)])  # fmt: skip
    return rows or None


@_tolerant
def rectification(orgunit: OrgUnit, year: int) -> list[list[str]] | None:
    """Rows (indicator, owner, deadline, status) of the rectification tasks opened for the year."""

    tasks = RectificationTask.objects.filter(
        Q(orgunit__path__startswith=orgunit.path),
        Q(period__startswith=str(year)) | Q(period="", created_at__year=year),
    ).select_related("owner")
    today = _as_of(year)
    rows = []
    for task in tasks:
        status = str(RectificationStatus(task.status).label)
        if task.is_overdue(today):
            status += "（逾期）"
        rows.append([task.indicator_name or task.indicator, task.owner.name_zh,
                     task.deadline.isoformat(), status])  # fmt: skip
    return rows


@_tolerant
def evidence(orgunit: OrgUnit, year: int) -> dict[str, list[str]] | None:
    """The evidence files attached to each evidence indicator (by indicator id) that cover
    `year` (what the engine judges the item on), with their review status."""

    found: dict[str, list[str]] = {}
    rows = Evidence.objects.filter(_beneath(orgunit)).exclude(indicator="")
    for item in rows.order_by("uploaded_at"):
        if not item.covers(year, evidence_kind_for(pack=item.pack, indicator=item.indicator)):
            continue
        label = str(EvidenceStatus(item.status).label)
        found.setdefault(item.indicator, []).append(f"{item.name}（{label}）")
    return found


@_tolerant
def overdue_tasks(user, limit: int = 10) -> list[dict] | None:
    """The user's overdue plan tasks, oldest deadline first."""

    today = date.today()
    tasks = tasks_for_user(user).filter(status_q("overdue", today)).select_related("plan")
    return [
        {"number": t.number, "title": t.title, "plan": t.plan.title, "deadline": t.deadline,
         "days": (today - t.deadline).days, "pk": t.pk}
        for t in tasks.order_by("deadline")[:limit]
    ]  # fmt: skip


@_tolerant
def recent_submissions(user, limit: int = 10) -> list[dict] | None:
    """The latest submissions in the user's scope."""

    rows = (
        Submission.objects.filter(access.scope_q(user, "view", "orgunit__path"))
        .exclude(submitted_at=None)
        .select_related("orgunit")
        .order_by("-submitted_at")[:limit]
    )
    return [
        {"orgunit": s.orgunit.name, "code": s.orgunit.code, "period": s.period,
         "status": s.get_status_display(), "at": s.submitted_at}
        for s in rows
    ]  # fmt: skip


@_tolerant
def completeness(user, orgunit: OrgUnit, period: str) -> list[dict] | None:
    """Per yearly form owed beneath the org unit: expected, submitted, share."""

    types = (
        OrgUnit.objects.filter(path__startswith=orgunit.path, kind=Kind.INSTITUTION)
        .order_by("institution_type")
        .values_list("institution_type", flat=True)
        .distinct()
    )
    result = []
    for institution_type in sorted(types):
        form = Form(institution_type, "yearly")
        if not form.elements():
            continue
        report = collection_completeness.report(form, period, user)
        rows = [r for r in report.rows if r.orgunit.path.startswith(orgunit.path)]
        done = sum(1 for r in rows if r.state in ("on_time", "late"))
        result.append({"form": str(form.label), "expected": len(rows), "submitted": done,
                       "share": done / len(rows) if rows else None})  # fmt: skip
    return result
