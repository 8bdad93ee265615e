"""The history of data values: who changed each value, when, from what to what, and how.

`_store_values` writes an `AuditEntry` for every change of a stored value. A value's creation
is kept in the value's own row (its number, `stored_by`, `updated_at`, `channel`) until the
value first changes; that change writes the creation as an entry (old value none) before its
own, from the row as it was (decision 0004: a million-value import writes no second million
rows). So a value's history is its entries, or, when it has none, its creation read from its
row: the same facts either way, and nothing is lost."""

from __future__ import annotations

from xinglin.collection.models import AuditEntry, DataValue


def history(orgunit, element, period: str, combo: str = "") -> list[AuditEntry]:
    """The changes of one value (of one category option combination), newest first; the
    creation of a value never changed is an unsaved entry built from the value's row."""
    key = {"orgunit": orgunit, "element": element, "period": period, "combo": combo}
    entries = AuditEntry.objects.filter(**key)
    found = list(entries.select_related("user"))
    if found:
        return found
    value = DataValue.objects.filter(**key).select_related("stored_by").first()
    return [creation(value)] if value is not None else []


def trail() -> list[AuditEntry]:
    """Every change of every value (the creations not yet written as entries included), in
    the order they happened."""
    entries = list(AuditEntry.objects.order_by("at", "id"))
    audited = {(e.orgunit_id, e.element_id, e.period, e.combo) for e in entries}
    created = [
        creation(value)
        for value in DataValue.objects.select_related("stored_by")
        if (value.orgunit_id, value.element_id, value.period, value.combo) not in audited
    ]
    return sorted(entries + created, key=lambda e: (e.at, e.id is not None, e.id or 0))


def creation(value: DataValue) -> AuditEntry:
    """The entry of `value`'s creation, from its row: a value not changed since."""
    return AuditEntry(
        element_id=value.element_id,
        orgunit_id=value.orgunit_id,
        period=value.period,
        combo=value.combo,
        old_value=None,
        new_value=value.value,
        user=value.stored_by,
        channel=value.channel,
        at=value.updated_at,
        note="",
        comment=value.comment,
    )
