"""Interchange formats. Each aggregate format has the same two functions,
`export(values, codes, **options) -> bytes` and `parse(body, codes, **options) -> Parsed`
(collection's parse result: candidates with their locations, and the problems found while
reading), and is registered in FORMATS. FHIR is export-only and lives in `fhir`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from xinglin.collection.exports import value_text


@dataclass(frozen=True)
class ExportValue:
    element: str
    value_type: str
    orgunit: str
    period: str
    value: float
    updated_at: datetime | None = None
    comment: str = ""
    combo: str = ""  # the category option combination ("" the default; decision 0013)


def format_value(value_type: str, value: float) -> str:
    """A stored value as text that reads back to the same float: collection's one rule for
    JSON exports (percent stays a fraction; booleans as DHIS2 writes them)."""
    return value_text(value_type, value)


def formats() -> dict[str, ModuleType]:
    # Not at the top: the format modules import ExportValue from this package.
    from xinglin.api.formats import adx, dhis2  # noqa: PLC0415

    return {"dhis2": dhis2, "adx": adx}
