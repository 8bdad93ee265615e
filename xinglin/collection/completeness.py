"""Completeness and timeliness: for a form and period, which org units submitted, on time or
late against the form's deadline (rules.yaml `deadlines`), and who still has to.

On time (按时上报, seeds/001 item 21) has one definition, `cutoff`: a form is on time when it
was submitted (and is submitted or approved) before the end of its due day, local time. The
page's rows (`report`) and the engine's yearly figures (`insert_yearly_figures`: the elements
`reports_due` and `reports_on_time`, source `collection.timeliness`) both use it, so the
completeness page, the scorecard and the documents show one figure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from sqlglot import exp

from xinglin.collection import rules
from xinglin.collection.forms import Form, expected_orgunits
from xinglin.collection.models import Submission, SubmissionStatus
from xinglin.lib import periods
from xinglin.network import access, opening
from xinglin.network.models import InstitutionType, Membership, OrgUnit, Role
from xinglin.standards.models import DataElement

SOURCE = "collection.timeliness"  # the engine's source name of the yearly figures
DUE, ON_TIME = "reports_due", "reports_on_time"  # core.yaml elements, never entered

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


def cutoff(due: date) -> datetime:
    """The instant before which a form due on `due` is on time: the end of its due day, local
    time (an aware datetime). The one rule of 按时上报."""
    return timezone.make_aware(datetime.combine(due + timedelta(days=1), time.min))


SUBMITTED = (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED)
# the unit (o) open during the due period (d): network.opening's rule
_OPEN_IN_DUE_PERIOD = opening.open_sql(
    "o", exp.column("pstart", table="d"), exp.column("pend", table="d")
).sql()


def _row(unit: OrgUnit, submission, due: date, today: date, clerks: list[str]) -> Row:
    status = submission.status if submission else ""
    submitted = submission.submitted_at if submission else None
    if status in SUBMITTED and submitted:
        on_time = submitted < cutoff(due)
        late = 0 if on_time else max((timezone.localdate(submitted) - due).days, 1)
        return Row(unit, "on_time" if on_time else "late", status, submitted, late, clerks)
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


# ---- the yearly figures the engine evaluates (seeds/001 item 21) ----------------------------


def _forms_owed() -> dict[str, list[str]]:
    """Institution type -> the period types of the forms it owes (those with elements)."""

    catalogue = list(DataElement.objects.order_by("pk"))
    return {
        itype: [kind for kind in periods.PERIOD_TYPES if Form(itype, kind).elements(catalogue)]
        for itype in InstitutionType.values
    }


def _periods_of(year: periods.Period, kind: str) -> list[periods.Period]:
    if kind == "yearly":
        return [year]
    if kind == "quarterly":
        return [periods.parse(f"{year.code}Q{q}") for q in range(1, 5)]
    return list(year.months())


def insert_yearly_figures(
    cursor, year: periods.Period, today: date | None = None, *, elements: dict[str, int]
) -> None:
    """Fill the engine's xl_value with each open institution's `reports_due` (its forms of the
    year whose deadline has passed, or that it submitted already) and `reports_on_time` (those
    submitted before `cutoff`), from collection_submission, keyed by `elements[code]` (the
    element ids the engine's statements compare). Every institution owing a form gets both
    rows, 0 included, so that sum(reports_on_time) / sum(reports_due) counts it."""
    today = today or timezone.localdate()
    vendor = cursor.vendor
    stamp = {"sqlite": "VARCHAR(32)", "postgresql": "TIMESTAMP WITH TIME ZONE"}.get(
        vendor, "TIMESTAMP"
    )
    temp = "" if vendor == "duckdb" else "TEMP "
    cursor.execute(
        f"CREATE {temp}TABLE IF NOT EXISTS xl_due (itype VARCHAR(32), period VARCHAR(8),"
        f" pstart DATE, pend DATE, cutoff {stamp}, past INTEGER)"
    )
    cursor.execute("DELETE FROM xl_due")
    rows = []
    for itype, kinds in _forms_owed().items():
        for kind in kinds:
            for period in _periods_of(year, kind):
                due = rules.deadline(period.code)
                rows += [itype, period.code, period.start.isoformat(), period.end.isoformat(),
                         _stamp(cutoff(due), vendor), 1 if today > due else 0]  # fmt: skip
    if rows:  # one statement (≈ 100 rows: form types × periods of the year)
        marks = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * (len(rows) // 6))
        cursor.execute(
            f"INSERT INTO xl_due (itype, period, pstart, pend, cutoff, past) VALUES {marks}", rows
        )
    submission_t, unit_t = Submission._meta.db_table, OrgUnit._meta.db_table
    submitted = ", ".join(f"'{status}'" for status in SUBMITTED)
    cursor.execute(
        f"WITH owed AS (SELECT u.id AS orgunit_id, COUNT(*) AS due, SUM(CASE WHEN"
        f" s.status IN ({submitted}) AND s.submitted_at < d.cutoff THEN 1 ELSE 0 END) AS on_time"
        f" FROM xl_unit AS u JOIN {unit_t} AS o ON o.id = u.id JOIN xl_due AS d ON d.itype = u.itype"
        f" LEFT JOIN {submission_t} AS s ON s.orgunit_id = u.id AND s.period = d.period"
        f" WHERE u.kind = 'institution' AND {_OPEN_IN_DUE_PERIOD}"
        f" AND (d.past = 1 OR (s.status IN ({submitted}) AND s.submitted_at IS NOT NULL))"
        f" GROUP BY u.id)"
        f" INSERT INTO xl_value (element_id, orgunit_id, value, source)"
        f" SELECT {int(elements[DUE])}, orgunit_id, due, '{SOURCE}' FROM owed"
        f" UNION ALL SELECT {int(elements[ON_TIME])}, orgunit_id, on_time, '{SOURCE}' FROM owed"
    )


def _stamp(instant: datetime, vendor: str):
    """The cutoff as each backend compares it with submitted_at: SQLite keeps UTC text,
    PostgreSQL an aware timestamp, the warehouse (DuckDB) naive UTC."""
    utc = instant.astimezone(UTC)
    if vendor == "postgresql":
        return utc
    if vendor == "sqlite":
        return utc.replace(tzinfo=None).isoformat(sep=" ")
    return utc.replace(tzinfo=None)
