"""Evaluations: the engine's results (the JSON of `xinglin evaluate`). The same results as
FHIR resources are in `routes.fhir`."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from xinglin.api.routes import PageQuery, orgunit_in_scope, responses
from xinglin.api.routes.packs import pack_or_404
from xinglin.api.schemas import EvaluationPage, Text
from xinglin.evaluation import exports
from xinglin.evaluation.engine import Evaluation, EvaluationError, evaluate

router = Router(tags=["evaluations"])


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
