"""Interchange formats. Each aggregate format has the same two functions,
`export(values, codes, **options) -> bytes` and `parse(body, codes, **options) -> Parsed`
(collection's parse result: candidates with their locations, and the problems found while
reading), and is registered in FORMATS. FHIR is export-only and lives in `fhir`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import ModuleType


@dataclass(frozen=True)
class ExportValue:
    element: str
    value_type: str
    orgunit: str
    period: str
    value: float
    updated_at: datetime | None = None
    comment: str = ""


def format_value(value_type: str, value: float) -> str:
    """A stored value as text that reads back to the same float (percent stays a fraction,
    as in collection's imports; booleans as DHIS2 writes them)."""
    if value_type == "boolean":
        return "true" if value else "false"
    if float(value).is_integer():
        return str(int(value))
    # repr is the shortest text that reads back exactly; Decimal drops its exponent
    # (xs:decimal and DHIS2 both refuse `1e-05`).
    return format(Decimal(repr(float(value))), "f")


def formats() -> dict[str, ModuleType]:
    from xinglin.api.formats import adx, dhis2

    return {"dhis2": dhis2, "adx": adx}
