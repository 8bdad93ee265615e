"""Writes of data values. Every change goes through `store_values`, which audits it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from xinglin.collection.models import AuditEntry, Channel, DataValue
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


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
    Validation (types, periods, locks) is the caller's job, before this is called."""
    result = StoreResult()
    items = list(values)
    with transaction.atomic():
        keys = {(e.pk, o.pk, p) for e, o, p, _v in items}
        current = {
            (v.element_id, v.orgunit_id, v.period): v
            for v in DataValue.objects.filter(
                element_id__in={k[0] for k in keys},
                orgunit_id__in={k[1] for k in keys},
                period__in={k[2] for k in keys},
            )
        }
        new, changed, audit = [], [], []
        for element, orgunit, period, value in items:
            row = current.get((element.pk, orgunit.pk, period))
            if row is None:
                row = DataValue(
                    element=element,
                    orgunit=orgunit,
                    period=period,
                    value=value,
                    stored_by=user,
                    channel=channel,
                )
                new.append(row)
                current[(element.pk, orgunit.pk, period)] = row
                audit.append(
                    AuditEntry(
                        element=element,
                        orgunit=orgunit,
                        period=period,
                        old_value=None,
                        new_value=value,
                        user=user,
                        channel=channel,
                    )
                )
            elif row.value != value:
                audit.append(
                    AuditEntry(
                        element=element,
                        orgunit=orgunit,
                        period=period,
                        old_value=row.value,
                        new_value=value,
                        user=user,
                        channel=channel,
                    )
                )
                row.value, row.stored_by, row.channel = value, user, channel
                row.updated_at = timezone.now()
                changed.append(row)
            else:
                result.unchanged += 1
        DataValue.objects.bulk_create(new, batch_size=5000)
        DataValue.objects.bulk_update(
            changed, ["value", "stored_by", "channel", "updated_at"], batch_size=5000
        )
        AuditEntry.objects.bulk_create(audit, batch_size=5000)
    result.added, result.changed = len(new), len(changed)
    return result
