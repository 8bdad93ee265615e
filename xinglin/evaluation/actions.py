"""Writes of the evaluation app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from xinglin.evaluation.models import DerivedValue
from xinglin.lib import periods as period_codes
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


class DerivedValueError(ValueError):
    pass


def replace_derived_values(
    source: str, rows: list[tuple[str, str, str, float]], periods: list[str]
) -> int:
    """Replace every derived value of `source` in `periods` by `rows` (element code, org-unit
    code, period, value), in one transaction; returns the number of rows written. Rows outside
    `periods`, unknown elements or org units raise DerivedValueError and nothing changes."""
    if not source or len(source) > 40:
        raise DerivedValueError("a source is a short name such as 'care.constitution'")
    for code in periods:
        period_codes.parse(code)
    elements = {e.code: e.pk for e in DataElement.objects.filter(code__in={r[0] for r in rows})}
    units = {o.code: o.pk for o in OrgUnit.objects.filter(code__in={r[1] for r in rows})}
    now = timezone.now()
    objects = []
    for element, orgunit, period, value in rows:
        if element not in elements:
            raise DerivedValueError(f"unknown data element {element!r}")
        if orgunit not in units:
            raise DerivedValueError(f"unknown org unit {orgunit!r}")
        if period not in periods:
            raise DerivedValueError(f"period {period!r} is not among the replaced periods")
        objects.append(
            DerivedValue(
                element_id=elements[element],
                orgunit_id=units[orgunit],
                period=period,
                value=float(value),
                source=source,
                computed_at=now,
            )
        )
    with transaction.atomic():
        DerivedValue.objects.filter(source=source, period__in=periods).delete()
        DerivedValue.objects.bulk_create(objects, batch_size=5000)
    return len(objects)
