"""Completeness and timeliness: for a form and period, which org units submitted, on time or
late against the form's deadline (rules.yaml `deadlines`), and who still has to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinglin.collection import rules
from xinglin.collection.forms import Form, expected_orgunits
from xinglin.collection.models import Submission, SubmissionStatus
from xinglin.network import access
from xinglin.network.models import Membership, OrgUnit, Role

STATES = {
    "on_time": _("On time"),
    "late": _("Late"),
    "returned": _("Returned"),
    "missing": _("Missing"),
    "not_due": _("Not yet due"),
}


@dataclass
class Row:
    orgunit: OrgUnit
    state: str
    status: str  # the submission's status, "" when there is none
    submitted_at: object
    days_late: int
    clerks: list[str]

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def needs_reminder(self) -> bool:
        return self.state in ("missing", "returned", "not_due")


@dataclass
class Report:
    form: Form
    period: str
    deadline: date
    rows: list[Row]

    def counts(self) -> dict[str, int]:
        counter = Counter(row.state for row in self.rows)
        return {state: counter.get(state, 0) for state in STATES}

    def by_group(self) -> list[tuple[str, dict[str, int]]]:
        """Counts per parent (township) for the chart."""
        groups: dict[str, Counter] = {}
        for row in self.rows:
            parent = row.orgunit.parent.name if row.orgunit.parent else row.orgunit.name
            groups.setdefault(parent, Counter())[row.state] += 1
        return [(name, {s: c.get(s, 0) for s in STATES}) for name, c in groups.items()]

    @property
    def submitted_share(self) -> float | None:
        done = sum(1 for row in self.rows if row.state in ("on_time", "late"))
        return done / len(self.rows) if self.rows else None


def report(form: Form, period: str, user: User, today: date | None = None) -> Report:
    today = today or timezone.localdate()
    due = rules.deadline(period)
    visible = set(access.orgunits_for_user(user, "view").values_list("pk", flat=True))
    units = [u for u in expected_orgunits(form, period) if u.pk in visible]
    submissions = {
        s.orgunit_id: s
        for s in Submission.objects.filter(period=period, orgunit__in=[u.pk for u in units])
    }
    clerks = _clerks([u.pk for u in units])
    rows = [_row(u, submissions.get(u.pk), due, today, clerks.get(u.pk, [])) for u in units]
    return Report(form, period, due, rows)


def _row(unit: OrgUnit, submission, due: date, today: date, clerks: list[str]) -> Row:
    status = submission.status if submission else ""
    submitted = submission.submitted_at if submission else None
    if status in (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED) and submitted:
        day = timezone.localdate(submitted)
        late = max((day - due).days, 0)
        return Row(unit, "late" if late else "on_time", status, submitted, late, clerks)
    overdue = max((today - due).days, 0)
    if status == SubmissionStatus.RETURNED:
        return Row(unit, "returned", status, submitted, overdue, clerks)
    state = "missing" if today > due else "not_due"
    return Row(unit, state, status, None, overdue, clerks)


def _clerks(orgunit_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    memberships = Membership.objects.filter(
        orgunit_id__in=orgunit_ids, role=Role.INSTITUTION_CLERK
    ).select_related("user")
    for membership in memberships:
        user = membership.user
        found.setdefault(membership.orgunit_id, []).append(user.get_full_name() or user.username)
    return found


def reminders(report: Report, user: User) -> list[Row]:
    """The rows the user (a supervisor or the bureau) should chase: not submitted, or returned
    and not resubmitted, within their approval scope."""
    return [
        row
        for row in report.rows
        if row.needs_reminder and access.can(user, "approve", row.orgunit)
    ]
