"""Comments of data values (issue 18.6): given per value by the form, a CSV `comment` column,
a dataValueSets `comment` or an ADX `annotation`, and written by `actions.write` in the
transaction that stores the values. A comment given (even empty) replaces the stored one; no
comment given (None, or no comment column) leaves it. A change of the comment alone is a
change: audited (an entry with the same old and new value, noted `comment`), and the value's
version (`updated_at`) moves on."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.collection.batch import Batch, Problem
from xinglin.collection.models import (
    AuditEntry,
    DataValue,
    Submission,
    operand_expression,
    values_under,
)
from xinglin.collection.store import _record_creations

Key = tuple[str, str, str]  # (org unit, period, element) codes
COMMENT_NOTE = "comment"  # the audit note of a change of the comment alone
MAX_LENGTH = DataValue._meta.get_field("comment").max_length


@dataclass
class Pending:
    """The comments a write changes: the new comment per key, and each key's stored value
    before the write (None: none stored), to tell a new value from a changed one."""

    comments: dict[Key, str] = field(default_factory=dict)
    before: dict[Key, tuple[int, float] | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def pending(batch: Batch, stored: dict[Key, str] | None = None) -> Pending:
    """The comments of `batch` that differ from the stored ones (read under the writer
    locks), and a problem for each comment longer than the column holds. `stored`: the
    non-empty stored comments of at least the batch's keys, read already."""
    found = Pending()
    if batch.comments is None or not len(batch):
        return found
    given = _given(batch, found)
    if stored is None:
        stored = _stored_batch(batch)
    for key, text in given.items():
        if stored.get(key, "") != text:
            found.comments[key] = text
    cleared = {k for k in stored if k not in given and stored[k]}
    for i in batch.find(cleared):
        if batch.comment_at(i) == "":
            candidate = batch.candidate(i)
            found.comments[(candidate.orgunit, candidate.period, candidate.element)] = ""
    found.before = _values(set(found.comments))
    return found


def _stored_batch(batch: Batch) -> dict[Key, str]:
    periods = {str(p) for p in pc.unique(batch.period).to_pylist() if p is not None}
    units = {str(u) for u in pc.unique(batch.orgunit).to_pylist() if u is not None}
    # the batch's operands are `element.combo` for a categorised element: filter by the element
    elements = {
        str(e).partition(".")[0] for e in pc.unique(batch.element).to_pylist() if e is not None
    }
    return _stored_comments(periods, units if len(units) <= _FEW_UNITS else None, elements)


def _given(batch: Batch, found: Pending) -> dict[Key, str]:
    """The non-empty comments given, by key (a long one is a problem instead)."""
    comments = batch.comments
    if isinstance(comments, list):
        positions = [i for i, c in enumerate(comments) if c]
    else:
        array = comments.combine_chunks() if isinstance(comments, pa.ChunkedArray) else comments
        if pa.types.is_dictionary(array.type):
            array = pc.cast(array, pa.string())
        mask = pc.fill_null(pc.greater(pc.utf8_length(array), 0), False)
        positions = pc.indices_nonzero(mask).to_pylist()
    given = {}
    for i in positions:
        candidate = batch.candidate(i)
        text = str(candidate.comment).strip()
        if len(text) > MAX_LENGTH:
            message = _("the comment is longer than %(n)d characters") % {"n": MAX_LENGTH}
            key = (candidate.orgunit, candidate.period, candidate.element)
            found.problems.append(Problem(batch.location(i), message, key=key))
            continue
        given[(candidate.orgunit, candidate.period, candidate.element)] = text
    return given


# A write of values of at most this many org units (a form, a few institutions' rows) reads
# the stored comments of its org units, elements and periods by the values' unique index; a
# larger one (an import) reads every comment of its periods in one scan. Reading a period's
# every comment for one form field was a full scan of the values per save (W7: seconds per
# save at province size, docs/benchmarks.md).
_FEW_UNITS = 200


def _stored_comments(
    periods: set[str], units: set[str] | None, elements: set[str]
) -> dict[Key, str]:
    """The non-empty stored comments of the values of `periods` (of `units` and `elements`
    when units are given; every one of the periods when None), by key: a superset of the
    batch's keys that have one."""
    rows = DataValue.objects.filter(period__in=periods).exclude(comment="")
    if units is not None:
        rows = rows.filter(orgunit__code__in=units, element__code__in=elements)
    rows = rows.annotate(operand=operand_expression())
    return {
        (o, p, e): c
        for o, p, e, c in rows.values_list("orgunit__code", "period", "operand", "comment")
    }


def _values(keys: set[Key]) -> dict[Key, tuple[int, float] | None]:
    if not keys:
        return {}
    rows = values_under(keys).annotate(operand=operand_expression())
    rows = rows.values_list("orgunit__code", "period", "operand", "pk", "value")
    stored = {(o, p, e): (pk, v) for o, p, e, pk, v in rows}
    return {k: stored.get(k) for k in keys}


def write(found: Pending, *, skip: Collection[Key], user, channel: str) -> int:
    """Write the pending comments of the values now stored (not those in `skip`: refused or
    left out); returns how many values changed by their comment alone."""
    alone = 0
    now = timezone.now()
    for key, text in found.comments.items():
        if key in skip:
            continue
        value = _row(key)
        if value is None:
            continue
        before = found.before.get(key)
        is_new = before is None or before[0] != value.pk  # its row is its creation
        alone_now = not is_new and before[1] == value.value
        if alone_now:  # the creation, from the row as it was, before the row changes
            _record_creations("d.id = %s", [value.pk])
        rows = DataValue.objects.filter(pk=value.pk)
        rows.update(comment=text, updated_at=now, stored_by=user, channel=channel)
        if is_new:
            continue
        if not alone_now:  # the value changed in this write: its entry carries the comment
            latest = AuditEntry.objects.filter(
                orgunit_id=value.orgunit_id, element_id=value.element_id, period=value.period,
                combo=value.combo,
            ).order_by("-at", "-id")[:1]  # fmt: skip
            AuditEntry.objects.filter(pk__in=list(latest.values_list("pk", flat=True))).update(
                comment=text
            )
            continue
        AuditEntry.objects.create(
            element_id=value.element_id, orgunit_id=value.orgunit_id, period=value.period,
            combo=value.combo,
            old_value=value.value, new_value=value.value, user=user, channel=channel,
            note=COMMENT_NOTE, comment=text,
        )  # fmt: skip
        Submission.objects.filter(orgunit_id=value.orgunit_id, period=value.period).update(
            data_version=F("data_version") + 1
        )
        alone += 1
    return alone


def count_alone(found: Pending, *, skip: Collection[Key], changing: Collection[Key]) -> int:
    """How many values a dry run would change by their comment alone."""
    return sum(
        1
        for key in found.comments
        if key not in skip and found.before.get(key) is not None and key not in changing
    )


def _row(key: Key) -> DataValue | None:
    orgunit, period, element = key
    code, _dot, combo = element.partition(".")
    return DataValue.objects.filter(
        orgunit__code=orgunit, period=period, element__code=code, combo=combo
    ).first()
