"""Request and response shapes of the API (pydantic, through ninja)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator


def _without_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: a query with one fails in the database (a 500).
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_without_nul)]


class Message(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int] = Field(
        description="Where: e.g. ['body', 'values', 0, 'value'] or ['query', 'period']"
    )
    msg: str
    type: str = "value_error"


class ValidationErrors(Schema):
    """422: every problem names its field."""

    detail: list[FieldError]


class Page(Schema):
    count: int
    limit: int
    offset: int


class OrgUnitOut(Schema):
    code: str
    name: str
    kind: str
    division_level: str
    institution_type: str
    parent: str | None
    path: str
    depth: int
    opened_on: date | None
    closed_on: date | None
    ownership: str = Field(description="public | private (所有制)")
    roles: list[str] = Field(description="designations (机构定位), e.g. county_tcm_hospital")


class OrgUnitPage(Page):
    items: list[OrgUnitOut]


class DataElementOut(Schema):
    code: str
    name_zh: str
    name_en: str
    value_type: str
    unit_zh: str
    unit_en: str
    period_type: str
    level: str
    institution_types: list[str]
    aggregation: str


class DataElementPage(Page):
    items: list[DataElementOut]


class IndicatorOut(Schema):
    id: str
    item: int | None
    section: str
    name_zh: str
    name_en: str
    kind: str
    over: list[str]
    value: str
    target: str
    unit: str
    deadline: int | None
    veto: bool
    points: float
    source: str
    elements: list[str]


class PackOut(Schema):
    code: str
    title_zh: str
    title_en: str
    source: str
    indicators: int


class PackDetail(PackOut):
    items: list[IndicatorOut]


class DataValueOut(Schema):
    element: str
    category_option_combo: str = Field(
        "",
        description="The category option combination (e.g. F); empty for an element without"
        " categories",
    )
    orgunit: str
    period: str
    value: float
    comment: str
    channel: str
    updated_at: datetime


class DataValuePage(Page):
    items: list[DataValueOut]


class DataValueIn(Schema):
    element: Text = Field(min_length=1, max_length=64)
    category_option_combo: Text | None = Field(
        None,
        max_length=32,
        description="The category option combination of a categorised"
        " element's value (e.g. F); none for an element without categories",
    )
    orgunit: Text = Field(min_length=1, max_length=32)
    period: Text = Field(min_length=1, max_length=8)
    value: float | bool | Text = Field(
        description="The stored value: percentages as fractions (0.35), booleans 1/0"
    )
    comment: Text | None = Field(
        None, max_length=500, description="The value's comment (replaces the stored one)"
    )


class DataValuesIn(Schema):
    values: list[DataValueIn] = Field(min_length=1, max_length=10000)
    confirm: bool = Field(False, description="Accept warnings (e.g. a 5× jump on last year)")
    dryRun: bool = Field(False, description="Check everything and write nothing")


class Problem(Schema):
    loc: list[str | int]
    msg: str
    type: str
    rule: str = ""


class WriteOut(Schema):
    added: int
    changed: int
    unchanged: int
    deleted: int = Field(0, description="Values removed (importStrategy=DELETE, deleted: true)")
    warnings: list[Problem]
    dryRun: bool = Field(False, description="Checked only: nothing was written")


class WriteRefused(Schema):
    """422 of a write: nothing was stored. `type` is `value_error` or `warning` (send again
    with `confirm` to accept warnings)."""

    detail: list[Problem]


class EvaluationRow(Schema):
    """One result, as `xinglin evaluate --format json` prints it (percentages as fractions)."""

    pack: str
    indicator: str
    item: int | None
    name: str
    orgunit: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: str
    status: str
    gap: float | None
    failing: list[str]
    orgunit_name: str
    level: str
    unit: str
    included: int | None
    missing: int | None
    due: bool
    veto: bool
    points: float
    sources: list[str]
    kind: str
    why: dict[str, str]


class EvaluationPage(Page):
    verdict: str
    items: list[EvaluationRow]
