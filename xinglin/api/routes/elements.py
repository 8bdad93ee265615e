"""Data elements: the catalogue every pack draws on (the same for every user)."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from xinglin.api.routes import PageQuery, page, responses
from xinglin.api.schemas import DataElementOut, DataElementPage, Text
from xinglin.standards.models import DataElement

router = Router(tags=["data elements"])


class ElementFilters(Schema):
    period_type: Text | None = Field(
        None, max_length=10, description="monthly | quarterly | yearly"
    )
    level: Text | None = Field(None, max_length=12, description="institution | division")
    institution_type: Text | None = Field(None, max_length=32)


@router.get("", response=responses(DataElementPage), summary="List data elements")
def list_elements(
    request: HttpRequest, filters: Query[ElementFilters], pages: Query[PageQuery]
) -> dict:
    elements = DataElement.objects.order_by("code")
    if filters.period_type:
        elements = elements.filter(period_type=filters.period_type)
    if filters.level:
        elements = elements.filter(level=filters.level)
    if not filters.institution_type:
        return page(elements, pages)
    # institution_types is a JSON list; filtering it in SQL differs between SQLite and
    # PostgreSQL, and the catalogue is small.
    matching = [e for e in elements if filters.institution_type in (e.institution_types or [])]
    return page_list(matching, pages)


def page_list(items: list, pages: PageQuery) -> dict:
    return {
        "count": len(items),
        "limit": pages.limit,
        "offset": pages.offset,
        "items": items[pages.offset : pages.offset + pages.limit],
    }


@router.get("/{code}", response=responses(DataElementOut), summary="One data element")
def get_element(request: HttpRequest, code: Text) -> DataElement:
    element = DataElement.objects.filter(code=code).first()
    if element is None:
        raise Http404(code)
    return element
