"""Data values written back in the long layout
`orgunit,period,element,value,comment,category_option_combo` (stored values: percentages as
fractions; each value's comment; the category option combination of a categorised element's
value, empty otherwise), as CSV, dataValueSets JSON (`categoryOptionCombo`) or a workbook:
each a valid import of itself (comments and combinations included)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinglin.collection.importers.csv_long import COLUMNS as VALUE_COLUMNS
from xinglin.collection.importers.csv_long import COMBO, COMMENT
from xinglin.collection.models import DataValue
from xinglin.lib import cells
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement, ValueType

FORMATS = ("csv", "json", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = (*VALUE_COLUMNS, COMMENT, COMBO)


def value_rows(
    *, orgunit: OrgUnit | None = None, period: str | None = None, user: User | None = None
) -> QuerySet:
    """(orgunit, period, element, value, comment, combo) tuples; under `orgunit` (itself and beneath), for
    `period`, within the user's view scope (None: the system, everything)."""
    rows = DataValue.objects.all()
    if user is not None:
        rows = rows.filter(access.scope_q(user, "view", field="orgunit__path"))
    if orgunit is not None:
        rows = rows.filter(orgunit__path__startswith=orgunit.path)
    if period:
        rows = rows.filter(period=period)
    return rows.order_by("orgunit__code", "period", "element__code", "combo").values_list(
        "orgunit__code", "period", "element__code", "value", "comment", "combo"
    )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = cells.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for orgunit, period, element, value, comment, combo in rows.iterator():
        writer.writerow([orgunit, period, element, _number(value), comment, combo])
    return buffer.getvalue().encode("utf-8")


def value_text(value_type: str, value: float) -> str:
    """A stored value as DHIS2 JSON writes it: a string that reads back to the same float
    (percent stays a fraction, as in the imports; booleans `true`/`false`). The one rule of
    every JSON export: this command's and the API's (issue 23: values are strings)."""
    if value_type == "boolean":
        return "true" if value else "false"
    if float(value).is_integer():
        return str(int(value))
    # repr is the shortest text that reads back exactly; Decimal drops its exponent
    # (xs:decimal and DHIS2 both refuse `1e-05`).
    return format(Decimal(repr(float(value))), "f")


def to_json(rows) -> bytes:
    booleans = set(
        DataElement.objects.filter(value_type=ValueType.BOOLEAN).values_list("code", flat=True)
    )
    values = [
        {
            "orgUnit": o,
            "period": p,
            "dataElement": e,
            "value": value_text("boolean" if e in booleans else "number", v),
        }
        | ({"categoryOptionCombo": k} if k else {})
        | ({"comment": c} if c else {})
        for o, p, e, v, c, k in rows.iterator()
    ]
    return json.dumps({"dataValues": values}, ensure_ascii=False, indent=1).encode("utf-8")


def to_xlsx(rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("values")
    cells.append(sheet, COLUMNS)
    for orgunit, period, element, value, comment, combo in rows.iterator():
        cells.append(sheet, [orgunit, period, element, _number(value), comment, combo])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def stream_csv(rows) -> Iterator[bytes]:
    """The same CSV as `to_csv`, a chunk of rows at a time (a web export of any size starts
    at once and holds little in memory)."""
    buffer = io.StringIO()
    writer = cells.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for number, row in enumerate(rows.iterator(), start=1):
        orgunit, period, element, value, comment, combo = row
        writer.writerow([orgunit, period, element, _number(value), comment, combo])
        if number % 5000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def render(rows, fmt: str) -> bytes:
    return {"csv": to_csv, "json": to_json, "xlsx": to_xlsx}[fmt](rows)


def refusal(count: int, fmt: str) -> str | None:
    """The sentence refusing a values.json / values.xlsx of `count` values (built in memory:
    capped at XINGLIN_EXPORT_MAX_ROWS), or None when it may be made."""
    if fmt == "csv" or count <= settings.EXPORT_MAX_ROWS:
        return None
    return _(
        "%(count)s values are more than %(max)s for one %(fmt)s file: choose an org unit "
        "or a period, or take values.csv, which has no limit."
    ) % {"count": count, "max": settings.EXPORT_MAX_ROWS, "fmt": fmt}


def in_background(count: int, fmt: str) -> bool:
    """Whether a values export of `count` values is made as a background job with progress
    (documents' jobs) rather than at once: a large workbook or JSON (csv streams)."""
    return fmt != "csv" and count > settings.EXPORT_BACKGROUND_ROWS


def download_name(unit: OrgUnit | None, period: str | None, fmt: str) -> str:
    """A large export's file, named in Chinese: 盐池县2025年数据.xlsx."""
    name = unit.name if unit is not None else "全部"
    when = f"{period}年" if period and len(period) == 4 and period.isdigit() else (period or "")
    return f"{name}{when}数据.{fmt}"
