"""Writes of data values. Every channel (forms, imports, the API, demo builders) writes through
`write`: in one transaction it takes the writer locks of the org units, checks the values
(codes, scope, approval locks, rules), stores them with `_store_values` (which audits each
change; a value's creation is kept in its own row until it first changes: see
`xinglin.collection.audit`) and records confirmed warnings. Decision 0006."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.collection import comments, guards, importers, rules, validation
from xinglin.collection.batch import Batch, Candidate, Checked, Location, Problem
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
from xinglin.collection.store import (  # the column-wise store; private to collection
    _IDS_PER_STATEMENT,
    DELETED_NOTE,
    _lock_writers,
    _record_creations,
    _store_values,
)
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.lib import periods
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards import categories, operands
from xinglin.standards.models import DataElement, TechniqueItem


class WorkflowError(ValueError):
    """A submission step that does not apply in the submission's state."""


def _record_warnings(checked: Checked, user: User | None, channel: str) -> None:
    """Confirmed warnings of values that were written, for the record."""
    written = {(o.code, p, e.code): (e, o, v) for e, o, p, v in checked.values}
    rows = []
    for warning in checked.warnings:
        if warning.key in written:
            element, orgunit, value = written[warning.key]
            rows.append(
                ConfirmedWarning(
                    element=operands.element_of(element),
                    combo=operands.combo_of(element),
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


# ----------------------------------------------------------------------------- the write
Key = tuple[str, str, str]  # (org unit, period, element) codes, as Problem.key


@dataclass
class WriteResult:
    """What a write did: counts, every problem found (errors and warnings), the keys stored,
    and whether anything was written (False on a dry run or a refusal)."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    problems: list[Problem] = field(default_factory=list)
    stored: set[Key] = field(default_factory=set)
    written: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def or_raise(self) -> WriteResult:
        """This result, or WriteRefused when a value was refused (for writers of known-good
        values: demo builders, fixtures)."""
        if self.errors:
            raise WriteRefused(self.errors)
        return self


class WriteRefused(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems[:10]))
        self.problems = problems


def candidates_of(rows: Iterable[tuple[DataElement, OrgUnit, str, float]]) -> list[Candidate]:
    """(element, org unit, period, stored value) rows as candidates for `write` (values as
    stored: percentages as fractions)."""
    return [Candidate(o.code, p, e.code, v) for e, o, p, v in rows]


def write_rows(
    rows: Iterable[tuple[DataElement, OrgUnit, str, float]],
    *,
    user: User | None = None,
    channel: str = Channel.SYSTEM,
) -> WriteResult:
    """`write` of (element, org unit, period, stored value) rows that are known to be good
    (demo builders, fixtures): warnings confirmed, all or nothing; raises WriteRefused, naming
    the values, if any is refused."""
    return write(candidates_of(rows), user=user, channel=channel, confirm=True).or_raise()


def write(
    candidates: Sequence[Candidate] | Batch,
    *,
    user: User | None,
    channel: str,
    confirm: bool | Collection[Key] = False,
    dry_run: bool = False,
    partial: bool = False,
    unchanged_since: datetime | None = None,
    orgunits: dict[str, OrgUnit] | None = None,
) -> WriteResult:
    """The one door for data values. In one transaction: take the writer locks of the org
    units (approvals take the same lock, so no form is approved between this check and this
    store), check every value (`validation.check`: codes, the user's `report` scope — `user`
    None is the system —, approval locks, types, rules, jumps), store, audit, and record the
    confirmed warnings.

    All or nothing by default: any error, or a warning not confirmed (`confirm` False),
    writes nothing. `partial` (a form): each value without an error is stored, except those
    with a warning whose key is not in `confirm` (a collection of keys, or True for all).
    `dry_run` runs everything and writes nothing. A candidate with `delete` removes the
    stored value (audited; refused on a locked form; nothing to remove is unchanged).

    No lost update (decision 0007, `guards`): a candidate carrying the version its writer saw
    (`expected`) is refused when the stored value moved on since; with `unchanged_since`,
    every value whose stored value was stored or removed after that time is refused.
    `orgunits` (by code: every org unit the candidates name, read already) saves reading
    them.
    Comments (`Candidate.comment`, `Batch.comments`) are written with their values
    (`comments`); a change of the comment alone is a change."""
    whole = candidates if isinstance(candidates, Batch) else list(candidates)
    result = WriteResult()
    with transaction.atomic():
        everything = whole if isinstance(whole, Batch) else Batch.from_candidates(whole)
        units = _orgunits(everything) if orgunits is None else orgunits
        _lock_writers(np.array([u.pk for u in units.values()], dtype=np.int64))
        stale: list[Problem] = []
        known = None  # a form's few values: their stored versions and comments, read once
        if not isinstance(whole, Batch):
            if len(whole) <= _FEW_VALUES:
                known = guards.states({(c.orgunit, c.period, c.element) for c in whole})
            whole, stale = guards.stale(whole, known)
        deletions = [] if isinstance(whole, Batch) else [c for c in whole if c.delete]
        kept = whole if isinstance(whole, Batch) else [c for c in whole if not c.delete]
        batch = kept if isinstance(kept, Batch) else Batch.from_candidates(kept)
        doomed, refused = _check_deletions(deletions, user, units)
        unremoved = len(deletions) - len(refused) - len(doomed)  # nothing stored to remove
        if unchanged_since is not None:
            refused += guards.changed_since(batch, deletions, unchanged_since)
        checked = validation.check(
            batch, user=user, confirmed=bool(confirm) or partial, orgunits=units
        )
        found = comments.pending(
            batch, None if known is None else {k: c for k, (_v, c) in known.items() if c}
        )
        result.problems = stale + refused + found.problems + checked.problems
        result.unchanged = checked.unchanged + unremoved
        left_out: set[Key] = set()
        if partial:
            left_out = _drop_unconfirmed(checked, confirm)
        elif result.errors or (checked.warnings and not confirm):
            return result
        skip = left_out | {p.key for p in result.errors}
        values = checked.for_storing()
        if dry_run:
            changing = {(o.code, p, e.code) for e, o, p, _v in checked.values}
            alone = comments.count_alone(found, skip=skip, changing=changing)
            result.changed = checked.replacing + alone
            result.unchanged -= alone
            result.added = len(values) - checked.replacing
            result.deleted = len(doomed)
            return result
        stored = _store_values(values, user=user, channel=channel, locked=True)
        alone = comments.write(found, skip=skip, user=user, channel=channel)
        if checked.warnings:
            _record_warnings(checked, user, channel)
        result.deleted = _delete_values(doomed, user=user, channel=channel)
    result.added, result.changed = stored.added, stored.changed + alone
    result.unchanged += stored.unchanged - alone
    result.written = True
    if partial:  # a form's few values: the keys stored (or removed), for its fields
        result.stored = {(o.code, p, e.code) for e, o, p, _v in checked.values}
        result.stored |= {(v.orgunit.code, v.period, v.operand) for v in doomed}
        result.stored |= {k for k in found.comments if k not in skip}
    return result


# The note of the audit entry of a deleted value (its new value is none).


def _check_deletions(
    deletions: list[Candidate], user: User | None, units: dict[str, OrgUnit]
) -> tuple[list[DataValue], list[Problem]]:
    """(the stored values to remove, the problems): codes known, the org unit within the
    user's `report` scope, its form not approved. A deletion of no stored value removes
    nothing (and is no problem). `units`: the write's org units by code (read once)."""
    if not deletions:
        return [], []
    codes = {categories.split(c.element)[0] for c in deletions}
    elements = {e.code: e for e in DataElement.objects.filter(code__in=codes)}
    problems, keys = [], []
    for c in deletions:
        (element, refused), unit = (
            validation.resolve_operand(c.element, elements),
            units.get(c.orgunit),
        )
        if element is None:
            message = refused
        elif unit is None:
            message = _("unknown org unit “%(code)s”") % {"code": c.orgunit}
        elif user is not None and not access.can(user, "report", unit):
            message = _("%(code)s is outside your reporting scope") % {"code": unit.code}
        elif is_locked(unit, c.period):
            message = validation._locked_message()
        else:
            keys.append((element.pk, unit.pk, c.period, operands.combo_of(element)))
            continue
        problems.append(Problem(c.location, message, key=(c.orgunit, c.period, c.element)))
    found = []
    for element_id, unit_id, period, combo in set(keys):
        value = DataValue.objects.filter(
            element_id=element_id, orgunit_id=unit_id, period=period, combo=combo
        )
        found += value.select_related("element", "orgunit")
    return found, problems


def _delete_values(values: list[DataValue], *, user: User | None, channel: str) -> int:
    """Remove the values, each audited: its creation first if not yet written (decision
    0004), then an entry from the stored value to none, noted `deleted`."""
    if not values:
        return 0
    ids = [v.pk for v in values]
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        _record_creations(f"d.id IN ({', '.join(['%s'] * len(chunk))})", chunk)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            element_id=v.element_id, orgunit_id=v.orgunit_id, period=v.period, combo=v.combo,
            old_value=v.value, new_value=None, user=user, channel=channel, note=DELETED_NOTE,
        )
        for v in values
    )  # fmt: skip
    DataValue.objects.filter(pk__in=ids).delete()
    for value in values:
        Submission.objects.filter(orgunit_id=value.orgunit_id, period=value.period).update(
            data_version=F("data_version") + 1
        )
    return len(values)


_FEW_VALUES = 1000  # a form's values: their stored states are read in one query


def _orgunits(batch: Batch) -> dict[str, OrgUnit]:
    """The org units written, by code (unknown codes left out): their ids are the writer
    locks' keys, and the check reads them from here."""
    codes = pc.unique(pa.chunked_array([batch.orgunit]).combine_chunks()).to_pylist()
    return validation.orgunits_by_code(c for c in codes if c is not None)


def _drop_unconfirmed(checked: Checked, confirm: bool | Collection[Key]) -> set[Key]:
    """Leave out the values whose warnings are not confirmed; keep the confirmed warnings.
    Returns the keys left out."""
    if confirm is True:
        return set()
    confirmed = set(confirm or ())
    warned = {p.key for p in checked.warnings if p.key not in confirmed}
    if warned:
        checked.values = [
            item for item in checked.values if (item[1].code, item[2], item[0].code) not in warned
        ]
    checked.problems = [p for p in checked.problems if p.is_error or p.key in confirmed]
    return warned


# ----------------------------------------------------------------------------- imports
class CodeTranslation(Protocol):
    """Another system's identifiers -> our codes (the API's `CodeMap`: `--id-scheme uid`)."""

    def element_in(self, external: str) -> str: ...
    def orgunit_in(self, external: str) -> str: ...


STRATEGY_DELETE = "delete"  # `xinglin import --strategy delete`: remove the file's values
STRATEGIES = ("create_and_update", STRATEGY_DELETE)


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
    deleted: int = 0

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
    strategy: str = "create_and_update",
    name: str | None = None,
    codes: CodeTranslation | None = None,
    if_unchanged_since: datetime | None = None,
) -> ImportResult:
    """Import a workbook, long CSV or dataValueSets JSON, all or nothing, through `write`.
    `name`: the file's name for messages (an upload's; default the path's). A file past the
    upload limits (lib/uploads.py) is refused, naming the file and the limit.
    `user` None runs as the system (no scope check; the command line); a user is held to
    their `report` scope. On any error, or on warnings not confirmed, nothing is written and
    an error report is saved at `report` (default: beside the file, `<name>.errors.csv|xlsx`).
    `codes` translates the file's identifiers (e.g. DHIS2 UIDs) to our codes first.
    `if_unchanged_since`: a value whose stored value was stored or removed after that time
    is refused (naming the row, the newer value's time and author), so nothing is lost."""
    result = ImportResult()
    try:
        parsed = importers.read(path, name=name)
    except importers.UnreadableFile as error:
        result.problems = [Problem(Location(0, "file"), str(error))]
        return result
    result.format, result.encoding = parsed.format, parsed.encoding
    result.values = parsed.count
    if progress:
        progress(result.values // 10, result.values)  # read; checking and writing follow
    if parsed.problems:  # unreadable rows: the rest is checked for the report, never written
        dry_run = True
    values = parsed.values()
    if strategy == STRATEGY_DELETE or codes is not None:
        batch = values if isinstance(values, Batch) else None
        values = [batch.candidate(i) for i in range(len(batch))] if batch is not None else values
    for candidate in values if strategy == STRATEGY_DELETE else ():
        candidate.delete = True  # every value of the file names a value to remove
    for candidate in values if codes is not None else ():
        element, combo = categories.split(candidate.element)  # combinations are our codes
        candidate.element = categories.operand(codes.element_in(element), combo)
        candidate.orgunit = codes.orgunit_in(candidate.orgunit)
    written = write(
        values,
        user=user,
        channel=Channel.IMPORT,
        confirm=confirm_warnings,
        dry_run=dry_run,
        unchanged_since=if_unchanged_since,
    )
    result.problems = parsed.problems + written.problems
    if result.errors or (result.warnings and not confirm_warnings):
        result.report = report or importers.report_path(path, parsed.format)
        importers.write_report(path, parsed, result.problems, result.report)
        return result
    result.added, result.changed, result.unchanged = (
        written.added,
        written.changed,
        written.unchanged,
    )
    result.deleted, result.written = written.deleted, written.written
    if progress:
        progress(result.values, result.values)
    return result


def remove_old_import_reports(directory: Path, days: int, now: float | None = None) -> int:
    """Remove the files in `directory` (error reports of web imports, and any upload a crash
    left behind) older than `days` (XINGLIN_IMPORT_REPORT_DAYS); returns how many."""
    if not directory.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - days * 86400
    removed = 0
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# ----------------------------------------------------------------------------- web entry
@dataclass
class FieldOutcome:
    element: DataElement
    typed: str
    saved: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    comment: str | None = None  # the comment typed (None: none sent)
    conflict: bool = False  # someone else stored this value after the form was opened


def save_form_values(
    orgunit: OrgUnit,
    period: str,
    typed: dict[str, str],
    *,
    user: User,
    confirmed: Iterable[str] = (),
    clear_empty: bool = False,
    versions: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    elements: dict[str, DataElement] | None = None,
) -> dict[str, FieldOutcome]:
    """Save what was typed on a form ({element code: text}; percent as 0–100). Each value that
    passes is saved; one with an error is not, and its text comes back for the form to show.
    A value with a warning is saved only when its code is in `confirmed` (then recorded).
    An empty text clears nothing, unless `clear_empty` (one field saved as the user cleared
    it): then its stored value is deleted (audited; refused on a locked form).
    `versions` ({code: version the form showed}, `guards.version_of`): a value stored by
    someone else since is refused, its outcome marked `conflict` (no lost update).
    `comments` ({code: comment}): each replaces the value's stored comment. `elements` (by
    code, those `typed` names) saves reading them."""
    if not access.can(user, "report", orgunit):
        raise PermissionDenied(orgunit.code)
    versions, comments = versions or {}, comments or {}
    codes = {code: categories.split(code)[0] for code in typed}  # operands: element.combo
    if elements is None:
        elements = {e.code: e for e in DataElement.objects.filter(code__in=set(codes.values()))}
    outcomes = {
        code: FieldOutcome(elements[codes[code]], text, comment=comments.get(code))
        for code, text in typed.items()
    }
    candidates = [
        Candidate(
            orgunit.code, period, code, text.strip(), Location(0, code), entry=True,
            delete=not text.strip(), comment=comments.get(code), expected=versions.get(code),
        )
        for code, text in typed.items()
        if text.strip() or clear_empty
    ]  # fmt: skip
    keys = {(orgunit.code, period, code) for code in confirmed}
    result = write(
        candidates,
        user=user,
        channel=Channel.WEB,
        confirm=keys,
        partial=True,
        orgunits={orgunit.code: orgunit},
    )
    for problem in result.problems:
        outcome = outcomes[problem.key[2]]
        (outcome.errors if problem.is_error else outcome.warnings).append(problem.message)
        outcome.conflict = outcome.conflict or problem.is_conflict
    for _orgunit, _period, code in result.stored:
        outcomes[code].saved = True
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
    if missing := missing_required(orgunit, period):
        raise WorkflowError(
            _("fill in the required values first: %(names)s")
            % {"names": "、".join(e.name for e in missing)}
        )
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at, submission.submitted_by = timezone.now(), user
    _step(submission, "submit", user)
    return submission


def missing_required(orgunit: OrgUnit, period: str) -> list[DataElement]:
    """The required elements (rules.yaml `required`) of the org unit's form for the period
    that hold no value yet, in the form's order."""
    form = form_for(orgunit, period)
    if form is None:
        return []
    required = rules.load().required_for(form.code)
    present = set(
        DataValue.objects.filter(orgunit=orgunit, period=period).values_list(
            "element__code", flat=True
        )
    )
    return [e for e in form.elements() if e.code in required and e.code not in present]


def _decide(submission: Submission, user: User | None) -> Submission:
    """The submission as it stands now, locked for this transaction, checked against what the
    supervisor saw: still submitted, and its values unchanged since (`data_version`)."""
    if user is not None and not access.can(user, "approve", submission.orgunit):
        raise PermissionDenied(submission.orgunit.code)
    # The org unit's writer lock: a write checks and stores under it, so an approval comes
    # wholly before a write's check or wholly after its store (then data_version differs).
    _lock_writers(np.array([submission.orgunit_id], dtype=np.int64))
    current = Submission.objects.select_for_update().get(pk=submission.pk)
    if current.status != SubmissionStatus.SUBMITTED:
        raise WorkflowError(_("only a submitted form can be approved or returned"))
    if current.data_version != submission.data_version:
        raise WorkflowError(
            _("the form's values changed after you opened it; look at them again first")
        )
    current.decided_at, current.decided_by = timezone.now(), user
    return current


def _check_separate_duties(submission: Submission, user: User | None) -> None:
    """The person who submitted a form does not approve it (XINGLIN_SEPARATE_DUTIES, on by
    default; issue 18.5). The system (user None) is no person."""
    if not settings.SEPARATE_DUTIES or user is None:
        return
    if submission.submitted_by_id == user.pk:
        raise WorkflowError(_("you submitted this form: someone else approves it"))


def _record_decision(submission: Submission, user: User | None, action: str) -> None:
    record_event(
        EventKind.APPROVAL,
        user=user,
        orgunit=submission.orgunit,
        detail=f"{action} {submission.orgunit.code} {submission.period}",
    )


@transaction.atomic
def approve_submission(submission: Submission, *, user: User | None) -> Submission:
    """Approve: the form's values are locked until the submission is un-approved."""
    submission = _decide(submission, user)
    _check_separate_duties(submission, user)
    submission.status, submission.comment = SubmissionStatus.APPROVED, ""
    _step(submission, "approve", user)
    _record_decision(submission, user, "approve")
    return submission


@transaction.atomic
def return_submission(submission: Submission, *, user: User | None, comment: str) -> Submission:
    """Send the form back to the institution with a comment saying what to fix."""
    if not comment.strip():
        raise WorkflowError(_("say why the form is returned"))
    submission = _decide(submission, user)
    submission.status, submission.comment = SubmissionStatus.RETURNED, comment.strip()
    _step(submission, "return", user, comment.strip())
    _record_decision(submission, user, "return")
    return submission


@transaction.atomic
def unapprove_submission(submission: Submission, *, user: User | None, reason: str) -> Submission:
    """Unlock an approved form (for a correction); the reason is recorded."""
    if user is not None and not access.can(user, "approve", submission.orgunit):
        raise PermissionDenied(submission.orgunit.code)
    _lock_writers(np.array([submission.orgunit_id], dtype=np.int64))
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != SubmissionStatus.APPROVED:
        raise WorkflowError(_("only an approved form can be un-approved"))
    if not reason.strip():
        raise WorkflowError(_("give the reason for un-approving"))
    submission.status, submission.comment = SubmissionStatus.OPEN, reason.strip()
    submission.decided_at, submission.decided_by = timezone.now(), user
    _step(submission, "unapprove", user, reason.strip())
    _record_decision(submission, user, "unapprove")
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


@transaction.atomic
def replace_record_techniques(rows: Iterable[tuple[str, str, str]], months: list[str]) -> int:
    """Replace the techniques delivered that were derived from records (source `records`) in
    `months` by `rows` (institution code, month, catalogue item code); the techniques
    institutions reported are left alone. Returns the number of rows written."""
    rows = list(rows)
    units = dict(OrgUnit.objects.filter(code__in={r[0] for r in rows}).values_list("code", "pk"))
    items = dict(TechniqueItem.objects.values_list("code", "pk"))
    DeliveredTechnique.objects.filter(source=TechniqueSource.RECORDS, period__in=months).delete()
    DeliveredTechnique.objects.bulk_create(
        [DeliveredTechnique(orgunit_id=units[u], period=m, item_id=items[i],
                            source=TechniqueSource.RECORDS) for u, m, i in rows],
        batch_size=5000,
    )  # fmt: skip
    return len(rows)
