"""One router per resource; shared helpers for scope, filters and pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema

from xinglin.api.auth import caller
from xinglin.api.schemas import Message, ValidationErrors, WriteRefused
from xinglin.network import access
from xinglin.network.models import OrgUnit

MAX_LIMIT = 1000


class PageQuery(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10**9)


def page(queryset: QuerySet, query: PageQuery) -> dict:
    return {
        "count": queryset.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(queryset[query.offset : query.offset + query.limit]),
    }


def orgunit_in_scope(request: HttpRequest, code: str, action: access.Action = "view") -> OrgUnit:
    """The org unit (404 outside the caller's view scope, 403 when not allowed to `action`)."""
    return access.get_orgunit_for_user(caller(request), code, action)


def responses(ok: object, *, write: bool = False) -> dict:
    """The documented responses of an endpoint: `ok` for 200 (None when the endpoint answers
    a document itself) and the JSON error shapes; a write adds 403 (no CSRF token, for the
    session) and its own 422 (every refused value)."""

    shapes: dict = {401: Message, 404: Message, 422: ValidationErrors}
    if ok is not None:
        shapes[200] = ok
    if write:
        shapes[403] = Message
        shapes[422] = WriteRefused
    return shapes


def document(media_type: str, schema: dict | None = None) -> dict:
    """openapi_extra for an endpoint answering a document (XML, FHIR JSON) itself."""
    content = {media_type: {"schema": schema or {"type": "string"}}}
    return {"responses": {"200": {"description": "OK", "content": content}}}
