"""The supervisor's review of a form (issue 18.5): per element, this period's value beside last
period's and the same period a year before, each in its unit, and whether it changed since
the form was last returned to the institution (if it was)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from xinglin.collection.forms import Form
from xinglin.collection.guards import shown
from xinglin.collection.models import AuditEntry, DataValue, Submission
from xinglin.collection.store import DELETED_NOTE
from xinglin.lib import periods
from xinglin.network.models import OrgUnit
from xinglin.standards import operands
from xinglin.standards.models import DataElement


@dataclass
class Row:
    element: DataElement
    value: str
    last_period: str
    last_year: str
    changed_since_return: bool
    comment: str = ""


@dataclass
class Review:
    rows: list[Row]
    period: str
    last_period: str
    last_year: str
    returned_at: datetime | None  # when the form was last returned (None: never)

    @property
    def changed(self) -> int:
        return sum(row.changed_since_return for row in self.rows)


def previous(period: periods.Period) -> periods.Period:
    """The period just before (last month, last quarter, last year)."""
    return periods.for_date(period.start - timedelta(days=1), period.type)


def rows(
    form: Form,
    unit: OrgUnit,
    period: str,
    submission: Submission | None,
    catalogue: list[DataElement] | None = None,
) -> Review | None:
    """The review of the form, or None while it was never submitted (`catalogue`: as for
    `Form.elements`)."""
    if submission is None or submission.submitted_at is None:
        return None
    this = periods.parse(period)
    last, year_before = previous(this).code, this.previous_year().code
    values = {
        (v.element_id, v.combo, v.period): v
        for v in DataValue.objects.filter(orgunit=unit, period__in=[period, last, year_before])
    }
    returned = submission.events.filter(action="return").order_by("-at", "-id").first()
    returned_at = returned.at if returned else None
    moved = _changed_since(unit, period, returned_at) if returned_at else set()
    found = []
    for element in operands.expand(form.elements(catalogue)):  # a row per option combination
        key = (element.pk, operands.combo_of(element))
        here = values.get((*key, period))
        found.append(
            Row(
                element=element,
                value=_shown(element, here),
                last_period=_shown(element, values.get((*key, last))),
                last_year=_shown(element, values.get((*key, year_before))),
                changed_since_return=element.pk in moved,
                comment=here.comment if here else "",
            )
        )
    return Review(found, period, last, year_before, returned_at)


def _shown(element: DataElement, value: DataValue | None) -> str:
    return shown(element, value.value if value is not None else None)


def _changed_since(unit: OrgUnit, period: str, since: datetime) -> set[int]:
    """The elements whose value (or comment) was stored or removed after `since`."""
    stored = DataValue.objects.filter(orgunit=unit, period=period, updated_at__gt=since)
    removed = AuditEntry.objects.filter(
        orgunit=unit, period=period, at__gt=since, note=DELETED_NOTE
    )
    return set(stored.values_list("element_id", flat=True)) | set(
        removed.values_list("element_id", flat=True)
    )
