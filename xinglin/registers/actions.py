"""Writes of the registers: a record saved from the web form, rows imported from a file or the
API (all or nothing), and the engine fed with the registers' yearly figures. Each change is a
`RecordChange`; after a write the years it touched are handed to the engine again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.evaluation.actions import replace_derived_values
from xinglin.network import access
from xinglin.registers.exchange import Row
from xinglin.registers.forms import form_class
from xinglin.registers.models import ChangeAction, RecordChange
from xinglin.registers.registry import Register

PERSONAL_CHANGED = "•"  # what the history keeps of a personal field's value


@dataclass(frozen=True)
class RowError:
    """A refused row: the file, the row's number in it, the column (field name, "" for the
    row as a whole) and why."""

    file: str
    row: int
    field: str
    label: str
    message: str

    def __str__(self) -> str:
        where = [self.file, _("row %(n)d") % {"n": self.row}] + ([self.label] if self.label else [])
        return "，".join(where) + "：" + self.message


@dataclass
class ImportResult:
    added: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _value(record, name: str):
    value = getattr(record, name)
    if hasattr(value, "code"):
        return value.code
    return None if value is None else str(value)


def _snapshot(register: Register, record) -> dict:
    return {f: _value(record, f) for f in register.fields}


def _history(register: Register, record, before: dict | None, *, user, channel: str) -> None:
    after = _snapshot(register, record)
    changes = {
        f: [before.get(f) if before else None, after[f]]
        for f in register.fields
        if before is None or before.get(f) != after[f]
    }
    for name in register.personal:
        if name in changes:
            changes[name] = [PERSONAL_CHANGED if v else v for v in changes[name]]
    if before is not None and not changes:
        return
    RecordChange.objects.create(
        register=register.code,
        record_id=record.pk,
        action=ChangeAction.CHANGED if before else ChangeAction.CREATED,
        changes=changes,
        user=user,
        channel=channel,
        at=timezone.now(),
    )


def _year(register: Register, record) -> int:
    value = getattr(record, register.date_field)
    return value if isinstance(value, int) else value.year


def save_record(register: Register, form, *, user: User, channel: str = "web"):
    """Store a valid form's record (new or changed), its history and the engine's figures of
    its year(s). The form's org units were checked against the user's scope when it cleaned."""
    record = form.instance
    before = _snapshot(register, type(record).objects.get(pk=record.pk)) if record.pk else None
    if not access.can(user, "report", form.cleaned_data["orgunit"]):
        raise PermissionDenied(form.cleaned_data["orgunit"].code)
    with transaction.atomic():
        old_year = _year(register, type(record).objects.get(pk=record.pk)) if before else None
        record = form.save()
        _history(register, record, before, user=user, channel=channel)
        feed_engine(register, {_year(register, record), old_year} - {None})
    return record


def import_rows(
    register: Register, rows: list[Row], *, user: User, file: str, channel: str = "import"
) -> ImportResult:
    """Add every row, or none: each row is checked by the register's form (the web form's rules
    and the user's scope); errors name the file, row and column."""
    result = ImportResult()
    forms = []
    for row in rows:
        form = form_class(register, user)(data=row.data)
        if form.is_valid():
            forms.append(form)
            continue
        for name, messages in form.errors.items():
            known = name in register.fields
            label = str(register.field(name).verbose_name) if known else ""
            for message in messages:
                result.errors.append(
                    RowError(file, row.number, name if known else "", label, message)
                )
    if result.errors or not rows:
        return result
    try:
        with transaction.atomic():
            years = set()
            for form, row in zip(forms, rows, strict=True):
                number = row.number
                record = form.save()
                _history(register, record, None, user=user, channel=channel)
                years.add(_year(register, record))
            feed_engine(register, years)
    except IntegrityError:  # a row repeating another of the same file (unique records)
        result.errors.append(
            RowError(file, number, "", "", _("This row repeats an earlier record."))
        )
        return result
    result.added = len(forms)
    return result


def feed_engine(register: Register, years) -> int:
    """Replace the engine's derived values of this register for these years; returns the rows
    handed over. A register that feeds no figure hands over nothing."""
    years = {int(y) for y in years}
    if register.feeds_next_year:
        years |= {y + 1 for y in years if y < date.today().year}
    years = sorted(years)
    if register.figures is None or not years:
        return 0

    rows = register.figures(years)
    return replace_derived_values(register.source_name, rows, [str(y) for y in years])


def add_records(
    register: Register, records: list, *, user: User | None = None, channel: str
) -> int:
    """Store records known to be good (demo builders, fixtures): each checked by the model's
    own validation, all or nothing, with their history and the engine's figures."""
    with transaction.atomic():
        for record in records:
            record.full_clean()
            record.save()
            _history(register, record, None, user=user, channel=channel)
        feed_engine(register, {_year(register, r) for r in records})
    return len(records)
