"""Writes of data values. Every change goes through `store_values`, which audits it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.collection import importers, validation
from xinglin.collection.forms import form_for
from xinglin.collection.models import (
    AuditEntry,
    Channel,
    ConfirmedWarning,
    DataValue,
    DeliveredTechnique,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    TechniqueSource,
)
from xinglin.collection.validation import Candidate, Location, Problem
from xinglin.lib import periods
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement, TechniqueItem


@dataclass
class StoreResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def store_values(
    values: Iterable[tuple[DataElement, OrgUnit, str, float]],
    *,
    user: User | None = None,
    channel: str = Channel.SYSTEM,
) -> StoreResult:
    """Insert or update values in one transaction, with an audit entry per change.
    Validation (types, periods, locks) is the caller's job, before this is called.
    A key given twice keeps its last value."""
    result = StoreResult()
    latest = {(e.id, o.id, p): v for e, o, p, v in values}
    with transaction.atomic():
        _widen_cache(len(latest))
        current = _current_values(latest)
        new, changed = [], []
        for key, value in latest.items():
            row = current.get(key)
            if row is None:
                new.append((key, value))
            elif row[1] != value:
                changed.append((key, value, row))
            else:
                result.unchanged += 1
        now = timezone.now()
        _insert_values(new, user, channel, now)
        _update_values(changed, user, channel, now)
        audit = [(key, None, value) for key, value in new]
        audit += [(key, row[1], value) for key, value, row in changed]
        _insert_audit(audit, user, channel, now)
    result.added, result.changed = len(new), len(changed)
    return result


# Large imports (100,000 values in seconds) write through parameterised executemany: the
# ORM's per-instance overhead of bulk_create is most of the time otherwise.
def _current_values(latest: dict) -> dict[tuple[int, int, str], tuple[int, float]]:
    if not latest:
        return {}
    orgunit_ids = sorted({k[1] for k in latest})
    rows = DataValue.objects.filter(
        element_id__in={k[0] for k in latest}, period__in={k[2] for k in latest}
    )
    found = {}
    for start in range(0, len(orgunit_ids), 900):
        chunk = rows.filter(orgunit_id__in=orgunit_ids[start : start + 900])
        for pk, element_id, orgunit_id, period, value in chunk.values_list(
            "pk", "element_id", "orgunit_id", "period", "value"
        ):
            key = (element_id, orgunit_id, period)
            if key in latest:
                found[key] = (pk, value)
    return found


def _widen_cache(count: int) -> None:
    # SQLite's default page cache (2 MB) spills a large transaction to the WAL page by page.
    if connection.vendor == "sqlite" and count > 5000:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -131072")  # KiB: 128 MB for this connection


def _timestamp(model, name: str, now):
    return model._meta.get_field(name).get_db_prep_value(now, connection)


def _insert_values(new: list, user: User | None, channel: str, now) -> None:
    if not new:
        return
    table = connection.ops.quote_name(DataValue._meta.db_table)
    at = _timestamp(DataValue, "updated_at", now)
    user_id = user.pk if user else None
    sql = (
        f"INSERT INTO {table} (element_id, orgunit_id, period, value, comment, stored_by_id, "
        "channel, updated_at) VALUES (%s, %s, %s, %s, '', %s, %s, %s)"
    )
    rows = [(e, o, p, value, user_id, str(channel), at) for (e, o, p), value in new]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update_values(changed: list, user: User | None, channel: str, now) -> None:
    if not changed:
        return
    table = connection.ops.quote_name(DataValue._meta.db_table)
    at = _timestamp(DataValue, "updated_at", now)
    user_id = user.pk if user else None
    sql = (
        f"UPDATE {table} SET value = %s, stored_by_id = %s, channel = %s, updated_at = %s "
        "WHERE id = %s"
    )
    rows = [(value, user_id, str(channel), at, row[0]) for _key, value, row in changed]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_audit(audit: list, user: User | None, channel: str, now) -> None:
    if not audit:
        return
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    at = _timestamp(AuditEntry, "at", now)
    user_id = user.pk if user else None
    sql = (
        f"INSERT INTO {table} (element_id, orgunit_id, period, old_value, new_value, user_id, "
        "channel, at, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '')"
    )
    rows = [(e, o, p, old, value, user_id, str(channel), at) for (e, o, p), old, value in audit]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class WorkflowError(ValueError):
    """A submission step that does not apply in the submission's state."""


def _record_warnings(checked: validation.Checked, user: User | None, channel: str) -> None:
    """Confirmed warnings of values that were written, for the record."""
    written = {(o.code, p, e.code): (e, o, v) for e, o, p, v in checked.values}
    rows = []
    for warning in checked.warnings:
        if warning.key in written:
            element, orgunit, value = written[warning.key]
            rows.append(
                ConfirmedWarning(
                    element=element,
                    orgunit=orgunit,
                    period=warning.key[1],
                    value=value,
                    rule=warning.rule,
                    message=warning.message[:500],
                    user=user,
                    channel=channel,
                )
            )
    ConfirmedWarning.objects.bulk_create(rows, batch_size=5000)


# ----------------------------------------------------------------------------- imports
@dataclass
class ImportResult:
    format: str = ""
    encoding: str = ""
    values: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    report: Path | None = None
    written: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def import_file(
    path: Path,
    *,
    user: User | None = None,
    dry_run: bool = False,
    confirm_warnings: bool = False,
    report: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a workbook, long CSV or dataValueSets JSON, all or nothing. `user` None runs as
    the system (no scope check; the command line); a user is held to their `report` scope.
    On any error, or on warnings not confirmed, nothing is written and an error report is
    saved at `report` (default: beside the file, `<name>.errors.csv|xlsx`)."""
    result = ImportResult()
    try:
        parsed = importers.read(path)
    except importers.UnreadableFile as error:
        result.problems = [Problem(Location(0, "file"), str(error))]
        return result
    result.format, result.encoding = parsed.format, parsed.encoding
    result.values = len(parsed.candidates)
    if progress:
        progress(0, result.values)
    checked = validation.check(parsed.candidates, user=user, confirmed=confirm_warnings)
    if progress:
        progress(result.values // 2, result.values)  # checked; writing is the other half
    result.problems = parsed.problems + checked.problems
    if result.errors or (result.warnings and not confirm_warnings):
        result.report = report or importers.report_path(path, parsed.format)
        importers.write_report(path, parsed, result.problems, result.report)
        return result
    result.unchanged = checked.unchanged
    if not dry_run:
        channel = Channel.IMPORT
        stored = store_values(checked.values, user=user, channel=channel)
        _record_warnings(checked, user, channel)
        result.written = True
        result.added, result.changed = stored.added, stored.changed
        result.unchanged += stored.unchanged
    else:
        result.changed = checked.replacing
        result.added = len(checked.values) - checked.replacing
    if progress:
        progress(result.values, result.values)
    return result


# ----------------------------------------------------------------------------- web entry
@dataclass
class FieldOutcome:
    element: DataElement
    typed: str
    saved: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def save_form_values(
    orgunit: OrgUnit,
    period: str,
    typed: dict[str, str],
    *,
    user: User,
    confirmed: Iterable[str] = (),
) -> dict[str, FieldOutcome]:
    """Save what was typed on a form ({element code: text}; percent as 0–100). Each value that
    passes is saved; one with an error is not, and its text comes back for the form to show.
    A value with a warning is saved only when its code is in `confirmed` (then recorded).
    An empty text clears nothing (values are never deleted from a form)."""
    if not access.can(user, "report", orgunit):
        raise PermissionDenied(orgunit.code)
    elements = {e.code: e for e in DataElement.objects.filter(code__in=typed)}
    outcomes = {code: FieldOutcome(elements[code], text) for code, text in typed.items()}
    candidates = [
        Candidate(orgunit.code, period, code, text.strip(), Location(0, code), entry=True)
        for code, text in typed.items()
        if text.strip()
    ]
    confirmed = set(confirmed)
    checked = validation.check(candidates, user=user, confirmed=True)
    for problem in checked.problems:
        outcome = outcomes[problem.key[2]]
        (outcome.errors if problem.is_error else outcome.warnings).append(problem.message)
    checked.values = [
        item
        for item in checked.values
        if not outcomes[item[0].code].warnings or item[0].code in confirmed
    ]
    checked.problems = [p for p in checked.problems if p.key and p.key[2] in confirmed]
    store_values(checked.values, user=user, channel=Channel.WEB)
    _record_warnings(checked, user, Channel.WEB)
    for element, _orgunit, _period, _value in checked.values:
        outcomes[element.code].saved = True
    return outcomes


# ----------------------------------------------------------------------------- approval
def get_submission(orgunit: OrgUnit, period: str) -> Submission:
    """The submission row of the org unit's form for the period (an open one if none yet)."""
    form = form_for(orgunit, period)
    submission, _created = Submission.objects.get_or_create(
        orgunit=orgunit, period=period, defaults={"form": form.code if form else ""}
    )
    return submission


def _step(submission: Submission, action: str, user: User | None, comment: str = "") -> None:
    submission.save()
    SubmissionEvent.objects.create(submission=submission, action=action, user=user, comment=comment)


@transaction.atomic
def submit_form(orgunit: OrgUnit, period: str, *, user: User | None) -> Submission:
    if user is not None and not access.can(user, "report", orgunit):
        raise PermissionDenied(orgunit.code)
    submission = get_submission(orgunit, period)
    if submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED):
        raise WorkflowError(
            _("this form is already %(status)s") % {"status": submission.get_status_display()}
        )
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at, submission.submitted_by = timezone.now(), user
    _step(submission, "submit", user)
    return submission


def _decide(submission: Submission, user: User | None) -> None:
    if user is not None and not access.can(user, "approve", submission.orgunit):
        raise PermissionDenied(submission.orgunit.code)
    if submission.status != SubmissionStatus.SUBMITTED:
        raise WorkflowError(_("only a submitted form can be approved or returned"))
    submission.decided_at, submission.decided_by = timezone.now(), user


@transaction.atomic
def approve_submission(submission: Submission, *, user: User | None) -> Submission:
    """Approve: the form's values are locked until the submission is un-approved."""
    _decide(submission, user)
    submission.status, submission.comment = SubmissionStatus.APPROVED, ""
    _step(submission, "approve", user)
    return submission


@transaction.atomic
def return_submission(submission: Submission, *, user: User | None, comment: str) -> Submission:
    """Send the form back to the institution with a comment saying what to fix."""
    if not comment.strip():
        raise WorkflowError(_("say why the form is returned"))
    _decide(submission, user)
    submission.status, submission.comment = SubmissionStatus.RETURNED, comment.strip()
    _step(submission, "return", user, comment.strip())
    return submission


@transaction.atomic
def unapprove_submission(submission: Submission, *, user: User | None, reason: str) -> Submission:
    """Unlock an approved form (for a correction); the reason is recorded."""
    if user is not None and not access.can(user, "approve", submission.orgunit):
        raise PermissionDenied(submission.orgunit.code)
    if submission.status != SubmissionStatus.APPROVED:
        raise WorkflowError(_("only an approved form can be un-approved"))
    if not reason.strip():
        raise WorkflowError(_("give the reason for un-approving"))
    submission.status, submission.comment = SubmissionStatus.OPEN, reason.strip()
    submission.decided_at, submission.decided_by = timezone.now(), user
    _step(submission, "unapprove", user, reason.strip())
    return submission


def is_locked(orgunit: OrgUnit, period: str) -> bool:
    return Submission.objects.filter(
        orgunit=orgunit, period=period, status=SubmissionStatus.APPROVED
    ).exists()


# ----------------------------------------------------------------------------- techniques
@transaction.atomic
def set_delivered_techniques(
    orgunit: OrgUnit, year: str, item_codes: Iterable[str], *, user: User | None
) -> int:
    """Replace the techniques the institution reported for the year (source `reported`;
    rows derived from records are left alone). Returns how many are now reported."""
    if user is not None and not access.can(user, "report", orgunit):
        raise PermissionDenied(orgunit.code)
    if periods.parse(year).type != "yearly":
        raise WorkflowError(_("techniques are reported per year"))
    if is_locked(orgunit, year):
        raise WorkflowError(validation._locked_message())
    items = list(TechniqueItem.objects.filter(code__in=set(item_codes)))
    reported = DeliveredTechnique.objects.filter(
        orgunit=orgunit, period=year, source=TechniqueSource.REPORTED
    )
    reported.exclude(item__in=items).delete()
    present = set(reported.values_list("item_id", flat=True))
    DeliveredTechnique.objects.bulk_create(
        DeliveredTechnique(orgunit=orgunit, period=year, item=item, source=TechniqueSource.REPORTED)
        for item in items
        if item.pk not in present
    )
    return len(items)
