"""Interchange formats over HTTP: DHIS2 dataValueSets (JSON) and IHE ADX (XML), both ways.
Reads use the same scope and filters as /values; writes go through the same checks."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from xinglin.api.actions import WriteResult, write_values
from xinglin.api.auth import caller
from xinglin.api.formats import ExportValue, adx, dhis2
from xinglin.api.mapping import CodeMap
from xinglin.api.routes import document, responses
from xinglin.api.routes.packs import pack_elements, pack_or_404
from xinglin.api.routes.values import ValueFilters, values_in_scope, written
from xinglin.api.schemas import Text, WriteOut
from xinglin.collection.importers import Parsed, UnreadableFile
from xinglin.lib import uploads
from xinglin.standards.models import DataElement

router = Router(tags=["interchange"])

# An export holds at most this many values; narrow the filters for more.
MAX_EXPORT = 200_000
# A request body larger than this, or than XINGLIN_UPLOAD_MAX_MB, is refused (lib/uploads.py).
MAX_BODY = 16 * 1024 * 1024


class ExportOptions(Schema):
    idScheme: Literal["code", "uid"] = Field(
        "code", description="code: Xinglin codes; uid: the DHIS2 code mapping"
    )


class ImportOptions(ExportOptions):
    confirm: bool = Field(False, description="Accept warnings")
    dryRun: bool = Field(False, description="Check everything and write nothing")
    importStrategy: Literal["CREATE_AND_UPDATE", "DELETE"] = Field(
        "CREATE_AND_UPDATE",
        description="DELETE: remove the stored values the document names (as `deleted: true` "
        "on each); audited; refused on an approved form",
    )


class AdxOptions(Schema):
    pack: Text | None = Field(
        None, max_length=64, description="Limit to a pack's data elements (its schema)"
    )
    idScheme: Literal["code", "uid"] = "code"


class AdxImportOptions(AdxOptions):
    confirm: bool = False
    dryRun: bool = Field(False, description="Check everything and write nothing")


def _codes(id_scheme: str) -> CodeMap:
    return CodeMap.load("dhis2") if id_scheme == "uid" else CodeMap()


class TooMany(Exception):
    """An export over MAX_EXPORT values: answered with a 422 asking for narrower filters."""


def _export_values(request: HttpRequest, filters: ValueFilters) -> list[ExportValue]:
    # values_list: an export of 100,000 values would spend most of its time building models.
    rows = values_in_scope(request, filters).values_list(
        "element__code", "element__value_type", "orgunit__code", "period", "value",
        "updated_at", "comment", "combo",
    )  # fmt: skip
    values = [ExportValue(*row) for row in rows[: MAX_EXPORT + 1]]
    if len(values) > MAX_EXPORT:
        raise TooMany
    return values


def _problem(message: str, where: str = "body") -> Status:
    return Status(
        422, {"detail": [{"loc": [where], "msg": message, "type": "value_error", "rule": ""}]}
    )


TOO_MANY = f"more than {MAX_EXPORT} values: narrow the filters (orgunit, period, element)"


def _import(request: HttpRequest, parsed: Parsed, container: str, options) -> Status:
    """Parsing problems refuse the whole request, as validation problems do."""
    if parsed.problems:
        return written(WriteResult(problems=parsed.problems, is_stored=False), container)
    try:  # one value an entry: the entries are the body's rows
        uploads.Bounds(_("the request body")).add(parsed.count)
    except uploads.TooLarge as error:
        return _problem(str(error))
    result = write_values(
        parsed.candidates, caller(request), confirmed=options.confirm, dry_run=options.dryRun
    )
    return written(result, container)


JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "properties": {
            "dataValues": {"type": "array", "items": {"type": "object", "properties": {
                "dataElement": {"type": "string"}, "period": {"type": "string"},
                "orgUnit": {"type": "string"}, "value": {"type": "string"},
                "comment": {"type": "string"}}}}}}}},
    }
}  # fmt: skip

XML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/adx+xml": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "dataValueSets",
    response=responses(dict),
    summary="Export data values as DHIS2 dataValueSets JSON",
)
def get_data_value_sets(
    request: HttpRequest, filters: Query[ValueFilters], options: Query[ExportOptions]
) -> HttpResponse:
    try:
        values = _export_values(request, filters)
    except TooMany:
        return _problem(TOO_MANY, "query")
    return HttpResponse(
        dhis2.export(values, _codes(options.idScheme)), content_type=dhis2.MEDIA_TYPE
    )


@router.post(
    "dataValueSets",
    response=responses(WriteOut, write=True),
    summary="Import DHIS2 dataValueSets JSON (all or nothing)",
    openapi_extra=JSON_BODY,
)
def post_data_value_sets(request: HttpRequest, options: Query[ImportOptions]):
    try:
        body = uploads.body(request, limit=MAX_BODY)
        deleting = options.importStrategy == "DELETE"
        parsed = dhis2.parse(body, _codes(options.idScheme), delete=deleting)
    except (UnreadableFile, uploads.TooLarge) as error:
        return _problem(str(error))
    return _import(request, parsed, "dataValues", options)


def _adx_elements(pack: str | None) -> tuple[str, list[str]]:
    """(data set name, element codes) of an ADX exchange: a pack's, or the whole catalogue."""
    known = set(DataElement.objects.values_list("code", flat=True))
    if pack is None:
        return "core", sorted(known)
    return pack, [c for c in pack_elements(pack_or_404(pack)) if c in known]


@router.get(
    "adx",
    response=responses(None),
    summary="Export data values as IHE ADX XML",
    openapi_extra=document(adx.MEDIA_TYPE),
)
def get_adx(
    request: HttpRequest, filters: Query[ValueFilters], options: Query[AdxOptions]
) -> HttpResponse:
    data_set, elements = _adx_elements(options.pack)
    wanted = set(elements)
    # Only the elements the schema knows; none left means an empty (valid) document.
    filters.element = [e for e in filters.element if e in wanted] if filters.element else elements
    try:
        values = _export_values(request, filters) if filters.element else []
    except TooMany:
        return _problem(TOO_MANY, "query")
    body = adx.export(values, _codes(options.idScheme), data_set=data_set, element_codes=elements)
    return HttpResponse(body, content_type=adx.MEDIA_TYPE)


@router.get(
    "adx/schema",
    response=responses(None),
    summary="The ADX XSD for a pack's elements",
    openapi_extra=document("application/xml"),
)
def get_adx_schema(request: HttpRequest, options: Query[AdxOptions]) -> HttpResponse:
    _data_set, elements = _adx_elements(options.pack)
    codes = _codes(options.idScheme)
    external = tuple(sorted({codes.element_out(c) for c in elements}))
    return HttpResponse(adx.schema_document(external), content_type="application/xml")


@router.post(
    "adx",
    response=responses(WriteOut, write=True),
    summary="Import IHE ADX XML (validated against the schema; all or nothing)",
    openapi_extra=XML_BODY,
)
def post_adx(request: HttpRequest, options: Query[AdxImportOptions]):
    try:
        body = uploads.body(request, limit=MAX_BODY)
    except uploads.TooLarge as error:
        return _problem(str(error))
    _data_set, elements = _adx_elements(options.pack)
    parsed = adx.parse(body, _codes(options.idScheme), element_codes=elements)
    return _import(request, parsed, "adx", options)
