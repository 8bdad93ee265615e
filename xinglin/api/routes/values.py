"""Data values: read within the caller's view scope, write within their reporting scope."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from xinglin.api.actions import WriteResult, write_values
from xinglin.api.auth import caller
from xinglin.api.routes import PageQuery, orgunit_in_scope, page, responses
from xinglin.api.schemas import DataValuePage, DataValuesIn, Text, WriteOut
from xinglin.collection.batch import Candidate, Location
from xinglin.collection.models import DataValue
from xinglin.network import access
from xinglin.standards.categories import operand

router = Router(tags=["data values"])


class ValueFilters(Schema):
    orgunit: Text | None = Field(
        None, max_length=32, description="This org unit and everything beneath it"
    )
    period: list[Text] = Field([], description="Period codes (2024, 2024Q1, 202401); repeatable")
    element: list[Text] = Field([], description="Data element codes; repeatable")


def values_in_scope(request: HttpRequest, filters: ValueFilters) -> QuerySet[DataValue]:
    """The caller's visible values matching the filters, in a stable order."""
    rows = DataValue.objects.filter(access.scope_q(caller(request), "view", "orgunit__path"))
    if filters.orgunit:
        rows = rows.filter(
            orgunit__path__startswith=orgunit_in_scope(request, filters.orgunit).path
        )
    if filters.period:
        rows = rows.filter(period__in=filters.period)
    if filters.element:
        rows = rows.filter(element__code__in=filters.element)
    return rows.select_related("element", "orgunit").order_by(
        "orgunit__path", "period", "element__code", "id"
    )


def _out(row: DataValue) -> dict:
    return {
        "element": row.element.code,
        "category_option_combo": row.combo,
        "orgunit": row.orgunit.code,
        "period": row.period,
        "value": row.value,
        "comment": row.comment,
        "channel": row.channel,
        "updated_at": row.updated_at,
    }


@router.get("", response=responses(DataValuePage), summary="List data values")
def list_values(
    request: HttpRequest, filters: Query[ValueFilters], pages: Query[PageQuery]
) -> dict:
    result = page(values_in_scope(request, filters), pages)
    result["items"] = [_out(row) for row in result["items"]]
    return result


@router.post(
    "", response=responses(WriteOut, write=True), summary="Store data values (all or nothing)"
)
def post_values(request: HttpRequest, payload: DataValuesIn):
    candidates = [
        Candidate(
            v.orgunit,
            v.period,
            operand(v.element, v.category_option_combo or ""),
            v.value,
            Location(i, "value"),
            comment=v.comment,
        )
        for i, v in enumerate(payload.values)
    ]
    result = write_values(
        candidates, caller(request), confirmed=payload.confirm, dry_run=payload.dryRun
    )
    return written(result, "values")


# The interchange formats' own names for our fields (DHIS2 JSON and ADX attributes).
INTERCHANGE_FIELDS = {
    "element": "dataElement",
    "orgunit": "orgUnit",
    "category_option_combo": "categoryOptionCombo",
}


def _field(name: str, container: str) -> str:
    if container == "values":
        return name or "value"
    return INTERCHANGE_FIELDS.get(name, name or "value")


def written(result: WriteResult, container: str) -> Status:
    """200 with the counts, or 422 naming each refused value's place in the request."""
    problems = [
        {
            "loc": ["body", container, p.location.row, _field(p.location.field, container)],
            "msg": p.message,
            "type": "value_error" if p.is_error else "warning",
            "rule": p.rule,
        }
        for p in result.problems
    ]
    if not result.is_stored:
        return Status(422, {"detail": problems})
    counts = {
        "added": result.added,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "deleted": result.deleted,
    }
    return Status(200, {**counts, "warnings": problems, "dryRun": result.dry_run})
