"""Evaluations: the engine's results (the JSON of `xinglin evaluate`) and the same results as
FHIR Measure / MeasureReport resources."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from xinglin.api.formats import fhir
from xinglin.api.routes import PageQuery, document, orgunit_in_scope, responses
from xinglin.api.routes.packs import pack_or_404
from xinglin.api.schemas import EvaluationPage, Text
from xinglin.evaluation import exports
from xinglin.evaluation.engine import Evaluation, EvaluationError, evaluate

router = Router(tags=["evaluations"])
FHIR_DOCUMENT = document(fhir.FHIR_JSON, {"type": "object"})


class EvaluationQuery(Schema):
    pack: Text = Field(max_length=64, description="Pack code", examples=["demo-county-2022"])
    orgunit: Text = Field(
        max_length=32, description="The evaluated org unit (and all beneath)", examples=["640323"]
    )
    period: Text = Field(max_length=8, description="A year", examples=["2024"])
    indicator: Text | None = Field(None, max_length=100)
    at: Text | None = Field(None, max_length=32, description="Only the results of this org unit")


def run(request: HttpRequest, query: EvaluationQuery) -> tuple[Evaluation, list[dict]]:
    """The evaluation (404 outside scope or for an unknown pack or period) and its rows,
    filtered by indicator and org unit."""
    unit = orgunit_in_scope(request, query.orgunit)
    pack_or_404(query.pack)
    try:
        evaluation = evaluate(query.pack, unit, query.period, language=_language())
    except EvaluationError as error:
        raise Http404(str(error)) from None
    rows = exports.as_rows(evaluation.results)
    if query.indicator:
        rows = [r for r in rows if r["indicator"] == query.indicator]
    if query.at:
        rows = [r for r in rows if r["orgunit"] == query.at]
    return evaluation, rows


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


@router.get("evaluations", response=responses(EvaluationPage), summary="Evaluate a pack")
def get_evaluations(
    request: HttpRequest, query: Query[EvaluationQuery], pages: Query[PageQuery]
) -> dict:
    evaluation, rows = run(request, query)
    return {
        "count": len(rows),
        "limit": pages.limit,
        "offset": pages.offset,
        "verdict": evaluation.verdict.status,
        "items": rows[pages.offset : pages.offset + pages.limit],
    }


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/fhir/")


def _fhir(resource: dict) -> HttpResponse:
    return HttpResponse(json.dumps(resource, ensure_ascii=False), content_type=fhir.FHIR_JSON)


class MeasureQuery(Schema):
    pack: Text = Field(max_length=64, examples=["demo-county-2022"])


@router.get(
    "fhir/Measure",
    response=responses(None),
    summary="FHIR Measures of a pack (Bundle)",
    openapi_extra=FHIR_DOCUMENT,
)
def get_measures(request: HttpRequest, query: Query[MeasureQuery]) -> HttpResponse:
    pack = pack_or_404(query.pack)
    base = _base(request)
    measures = [fhir.measure(pack, i, base) for i in pack.indicators if i.is_computed]
    return _fhir(fhir.bundle(measures))


@router.get(
    "fhir/Measure/{measure_id}",
    response=responses(None),
    summary="One FHIR Measure",
    openapi_extra=FHIR_DOCUMENT,
)
def get_measure(request: HttpRequest, measure_id: Text) -> HttpResponse:
    from xinglin.standards.loader import all_packs

    for pack in all_packs().values():
        for indicator in pack.indicators:
            if indicator.is_computed and fhir.measure_id(pack.code, indicator.id) == measure_id:
                return _fhir(fhir.measure(pack, indicator, _base(request)))
    raise Http404(measure_id)


@router.get(
    "fhir/MeasureReport",
    response=responses(None),
    openapi_extra=FHIR_DOCUMENT,
    summary="FHIR MeasureReports of an evaluation (Bundle: one per indicator and org unit)",
)
def get_measure_reports(request: HttpRequest, query: Query[EvaluationQuery]) -> HttpResponse:
    evaluation, rows = run(request, query)
    indicators = {i.id: i for i in evaluation.pack.indicators if i.is_computed}
    base = _base(request)
    reports = [
        fhir.measure_report(row, evaluation.pack, indicators[row["indicator"]], base)
        for row in rows
        if row["indicator"] in indicators
    ]
    return _fhir(fhir.bundle(reports))
