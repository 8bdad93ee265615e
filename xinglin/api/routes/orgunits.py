"""Org units (divisions and institutions) within the caller's view scope."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinglin.api.auth import caller
from xinglin.api.routes import PageQuery, orgunit_in_scope, page, responses
from xinglin.api.schemas import OrgUnitOut, OrgUnitPage, Text
from xinglin.network import access
from xinglin.network.models import OrgUnit

router = Router(tags=["org units"])


class OrgUnitFilters(Schema):
    under: Text | None = Field(None, max_length=32, description="This unit and everything beneath")
    kind: Text | None = Field(None, max_length=12, description="division | institution")
    institution_type: Text | None = Field(None, max_length=32)


def _out(unit: OrgUnit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "division_level": unit.division_level,
        "institution_type": unit.institution_type,
        "parent": unit.parent.code if unit.parent_id else None,
        "path": unit.path,
        "depth": unit.depth,
        "opened_on": unit.opened_on,
        "closed_on": unit.closed_on,
        "ownership": unit.ownership or "public",
        "roles": unit.role_list,
    }


@router.get("", response=responses(OrgUnitPage), summary="List org units")
def list_orgunits(
    request: HttpRequest, filters: Query[OrgUnitFilters], pages: Query[PageQuery]
) -> dict:
    units = access.orgunits_for_user(caller(request), "view").select_related("parent")
    if filters.under:
        units = units.filter(path__startswith=orgunit_in_scope(request, filters.under).path)
    if filters.kind:
        units = units.filter(kind=filters.kind)
    if filters.institution_type:
        units = units.filter(institution_type=filters.institution_type)
    result = page(units.order_by("path", "id"), pages)
    result["items"] = [_out(u) for u in result["items"]]
    return result


@router.get("/{code}", response=responses(OrgUnitOut), summary="One org unit")
def get_orgunit(request: HttpRequest, code: Text) -> dict:
    return _out(orgunit_in_scope(request, code))
