"""Registers (issue 24): read and import, scoped as on the web, derived from each register's
declaration (`xinglin.registers.registry`). A register holding personal data (complaints)
answers only records in the caller's `export` scope, and each call is a security event."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from xinglin.api.auth import caller
from xinglin.api.routes import PageQuery, responses
from xinglin.api.schemas import Page
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.network import access
from xinglin.registers import actions, exchange
from xinglin.registers.access import records_for_user
from xinglin.registers.registry import REGISTERS, Register

router = Router(tags=["registers"])


class RegisterOut(Schema):
    code: str
    name: str
    fields: list[str]
    source: str
    elements: list[str] = Field(description="Data elements this register feeds the engine")


class RecordPage(Page):
    items: list[dict[str, Any]]


class RecordsIn(Schema):
    items: list[dict[str, Any]] = Field(
        description="Objects keyed by field code, as the GET answers them"
    )


class ImportOut(Schema):
    added: int


def _register(code: str) -> Register:
    if code not in REGISTERS:
        raise Http404(code)
    return REGISTERS[code]


@router.get("", response=list[RegisterOut], summary="The registers and their fields")
def list_registers(request: HttpRequest):
    return [
        {
            "code": r.code,
            "name": str(r.label),
            "fields": list(r.fields),
            "source": r.source,
            "elements": list(r.elements),
        }  # fmt: skip
        for r in REGISTERS.values()
    ]


@router.get("/{code}", response=responses(RecordPage), summary="A register's records in scope")
def list_records(request: HttpRequest, code: str, query: Query[PageQuery]):
    register = _register(code)
    user = caller(request)
    records = records_for_user(register, user)
    if register.personal:
        records = records.filter(access.scope_q(user, "export", "orgunit__path"))
        record_event(EventKind.PERSONAL_EXPORT, user=user, detail=f"api {request.path}")
    records = records.order_by("pk")
    chunk = records[query.offset : query.offset + query.limit]
    return {"count": records.count(), "limit": query.limit, "offset": query.offset,
            "items": exchange.json_items(register, chunk)}  # fmt: skip


@router.post(
    "/{code}", response=responses(ImportOut, write=True), summary="Add records (all or nothing)"
)
def post_records(request: HttpRequest, code: str, payload: RecordsIn):
    register = _register(code)
    unknown = [
        {"loc": ["body", "items", i, key], "msg": f"unknown field; fields: {', '.join(register.fields)}",
         "type": "value_error", "rule": ""}
        for i, item in enumerate(payload.items) for key in item if key not in register.fields
    ]  # fmt: skip
    if unknown:
        return Status(422, {"detail": unknown})
    rows = [exchange.Row(i, _texts(item)) for i, item in enumerate(payload.items)]
    result = actions.import_rows(register, rows, user=caller(request), file="api", channel="api")
    if not result.ok:
        problems = [{"loc": ["body", "items", e.row, e.field], "msg": e.message, "type": "value_error",
                     "rule": ""} for e in result.errors]  # fmt: skip
        return Status(422, {"detail": problems})
    return Status(200, {"added": result.added})


def _texts(item: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in item.items()}
