"""The weekly digest of a department: what is overdue, what falls due soon, and what changed in
the past week. Shown on the department's page; e-mailed to its liaisons by `xinglin plans digest`
when an SMTP host is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from xinglin.network.models import Membership, OrgUnit, Role
from xinglin.plans.models import (
    DUE_SOON_DAYS,
    Department,
    Evidence,
    Milestone,
    Task,
    TaskStatus,
    TaskUpdate,
)

WEEK = timedelta(days=7)


@dataclass
class Digest:
    orgunit: OrgUnit
    department: Department
    today: date
    overdue: list[Task] = field(default_factory=list)
    due_soon: list[Task] = field(default_factory=list)
    milestones_overdue: list[Milestone] = field(default_factory=list)
    milestones_due_soon: list[Milestone] = field(default_factory=list)
    updates: list[TaskUpdate] = field(default_factory=list)
    evidence_pending: int = 0

    @property
    def is_empty(self) -> bool:
        return not (
            self.overdue
            or self.due_soon
            or self.milestones_overdue
            or self.milestones_due_soon
            or self.updates
        )


def department_tasks(orgunit: OrgUnit, department: Department) -> QuerySet[Task]:
    of_department = Task.objects.filter(Q(lead=department) | Q(support=department)).values("pk")
    return Task.objects.filter(plan__orgunit=orgunit, pk__in=of_department)


def department_digest(orgunit: OrgUnit, department: Department, today: date) -> Digest:
    tasks = department_tasks(orgunit, department).select_related("plan")
    open_tasks = tasks.exclude(status=TaskStatus.DONE).filter(
        deadline__isnull=False,
        plan__end__gte=today,  # an ended plan's tasks are not chased
    )
    soon = today + timedelta(days=DUE_SOON_DAYS)
    milestones = Milestone.objects.filter(
        plan__orgunit=orgunit, departments=department, done_on__isnull=True
    ).select_related("plan", "task")
    since = timezone.make_aware(datetime.combine(today - WEEK, time.min))
    return Digest(
        orgunit=orgunit,
        department=department,
        today=today,
        overdue=list(open_tasks.filter(deadline__lt=today).order_by("deadline")),
        due_soon=list(open_tasks.filter(deadline__gte=today, deadline__lte=soon)),
        milestones_overdue=list(
            milestones.filter(due__lt=today, due__gte=today - timedelta(days=365))
        ),
        milestones_due_soon=list(milestones.filter(due__gte=today, due__lte=soon)),
        updates=list(
            TaskUpdate.objects.filter(task__in=tasks, at__gte=since)
            .select_related("task", "user")
            .order_by("-at")[:50]
        ),
        evidence_pending=Evidence.objects.filter(task__in=tasks, status="pending").count(),
    )


def _recipients(orgunit: OrgUnit, department: Department) -> list[str]:
    users = User.objects.filter(
        memberships__role=Role.DEPARTMENT_LIAISON,
        memberships__department=department.code,
        is_active=True,
    ).distinct()
    paths = {
        m.orgunit.path: m.user_id
        for m in Membership.objects.filter(
            user__in=users, role=Role.DEPARTMENT_LIAISON, department=department.code
        ).select_related("orgunit")
    }
    allowed = {uid for path, uid in paths.items() if orgunit.path.startswith(path)}
    return sorted(u.email for u in users if u.pk in allowed and u.email)


def send_digests(*, orgunit_code: str | None, today: date) -> str:
    """E-mail each department with something to report its digest; returns a summary line.
    Sends nothing when no SMTP host is configured."""
    if not settings.EMAIL_HOST:
        return "XINGLIN_SMTP_HOST is not set: no e-mail sent (the digests are on the plan pages)"
    units = OrgUnit.objects.filter(plans__isnull=False).distinct()
    if orgunit_code:
        units = units.filter(code=orgunit_code)
    sent = 0
    for unit in units:
        for department in Department.objects.all():
            sent += _send_one(unit, department, today)
    return f"{sent} digests sent"


def _send_one(orgunit: OrgUnit, department: Department, today: date) -> int:
    recipients = _recipients(orgunit, department)
    if not recipients:
        return 0
    digest = department_digest(orgunit, department, today)
    if digest.is_empty:
        return 0
    with override(settings.LANGUAGE_CODE):
        body = render_to_string("plans/digest_email.txt", {"digest": digest})
        subject = f"{orgunit.name} {department.name_zh} {today:%Y-%m-%d}"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return 1
