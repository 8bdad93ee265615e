"""Care records (read only), scoped through their institution as on the web. Patients appear
only by their masked identifier: names and identifiers never leave through the API."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from xinglin.api.auth import caller
from xinglin.api.routes import PageQuery, orgunit_in_scope, page, responses
from xinglin.api.schemas import Page, Text
from xinglin.care.models import (
    ChildGuidance,
    ConstitutionAssessment,
    RehabCase,
    Visit,
)
from xinglin.care.referrals import referrals_for_user
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.lib import periods
from xinglin.network import access

router = Router(tags=["care records"])
CONSTITUTIONS = (
    "balanced", "qi_deficiency", "yang_deficiency", "yin_deficiency", "phlegm_dampness",
    "damp_heat", "blood_stasis", "qi_stagnation", "special_diathesis",
)  # fmt: skip


class CareFilters(Schema):
    orgunit: Text | None = Field(None, max_length=32, description="This unit and all beneath")
    period: Text | None = Field(None, max_length=8, description="A year, quarter or month")


class AssessmentOut(Schema):
    id: int
    institution: str
    resident: str = Field(description="Masked identifier")
    sex: str
    assessed_on: date
    scores: dict[str, int | None]
    results: dict[str, str]
    main_types: list[str]
    guidance: list[str]
    is_complete: bool


class ChildGuidanceOut(Schema):
    id: int
    institution: str
    child: str = Field(description="Masked identifier")
    visited_on: date
    age_months: int
    visit_month: int
    diet: bool
    daily_life: bool
    techniques: list[str]
    is_complete: bool


class VisitOut(Schema):
    id: int
    institution: str
    patient: str = Field(description="Masked identifier")
    visited_on: date
    month: str
    department: str
    has_tcm_diagnosis: bool
    has_technique: bool
    has_herbal: bool
    techniques: list[str]


class RehabCaseOut(Schema):
    id: int
    institution: str
    patient: str = Field(description="Masked identifier")
    condition: str
    admitted_on: date
    discharged_on: date | None
    scale: str
    score_admission: float
    score_discharge: float | None
    outcome: str
    has_tcm: bool


class ReferralOut(Schema):
    id: int
    from_institution: str
    to_institution: str
    direction: str
    referred_on: date
    status: str
    patient: str = Field(description="Masked identifier")
    received_on: date | None
    completed_on: date | None


class AssessmentPage(Page):
    items: list[AssessmentOut]


class ChildGuidancePage(Page):
    items: list[ChildGuidanceOut]


class VisitPage(Page):
    items: list[VisitOut]


class RehabCasePage(Page):
    items: list[RehabCaseOut]


class ReferralPage(Page):
    items: list[ReferralOut]


def _filtered(
    request: HttpRequest, rows: QuerySet, filters: CareFilters, day: str, unit: str
) -> QuerySet:
    """Within the caller's export scope (record-level personal data: the bureau administrator
    and the institution's own clerk, as for the CSV exports), beneath `orgunit`, with `day`
    inside `period` (a period code that does not parse is a 422 naming the field). Every call
    is a security event (PIPL)."""
    user = caller(request)
    rows = rows.filter(access.scope_q(user, "export", f"{unit}__path"))
    record_event(EventKind.PERSONAL_EXPORT, user=user, detail=f"api {request.path}")
    if filters.orgunit:
        path = orgunit_in_scope(request, filters.orgunit).path
        rows = rows.filter(**{f"{unit}__path__startswith": path})
    if filters.period:
        span = _period(filters.period)
        rows = rows.filter(**{f"{day}__gte": span.start, f"{day}__lte": span.end})
    return rows.select_related(unit).order_by(f"-{day}", "-id")


def _period(code: str) -> periods.Period:
    try:
        return periods.parse(code)
    except periods.PeriodError as error:
        raise ValidationError(
            [{"loc": ["query", "period"], "msg": str(error), "type": "value_error"}]
        ) from None


def _listed(rows: QuerySet, pages: PageQuery, out) -> dict:
    result = page(rows, pages)
    result["items"] = [out(row) for row in result["items"]]
    return result


def _assessment(a: ConstitutionAssessment) -> dict:
    return {
        "id": a.pk,
        "institution": a.institution.code,
        "resident": a.resident.id_masked,
        "sex": a.resident.sex,
        "assessed_on": a.assessed_on,
        "scores": {c: getattr(a, f"{c}_score") for c in CONSTITUTIONS},
        "results": {c: getattr(a, f"{c}_result") for c in CONSTITUTIONS},
        "main_types": a.main_types,
        "guidance": a.guidance,
        "is_complete": a.is_complete,
    }


@router.get("assessments", response=responses(AssessmentPage), summary="Constitution assessments")
def list_assessments(
    request: HttpRequest, filters: Query[CareFilters], pages: Query[PageQuery]
) -> dict:
    rows = ConstitutionAssessment.objects.select_related("resident")
    return _listed(
        _filtered(request, rows, filters, "assessed_on", "institution"), pages, _assessment
    )


def _guidance(g: ChildGuidance) -> dict:
    return {
        "id": g.pk,
        "institution": g.institution.code,
        "child": g.child.id_masked,
        "visited_on": g.visited_on,
        "age_months": g.age_months,
        "visit_month": g.visit_month,
        "diet": g.diet,
        "daily_life": g.daily_life,
        "techniques": g.techniques,
        "is_complete": g.is_complete,
    }


@router.get("child-guidance", response=responses(ChildGuidancePage), summary="Child guidance")
def list_child_guidance(
    request: HttpRequest, filters: Query[CareFilters], pages: Query[PageQuery]
) -> dict:
    rows = ChildGuidance.objects.select_related("child")
    return _listed(_filtered(request, rows, filters, "visited_on", "institution"), pages, _guidance)


def _visit(v: Visit) -> dict:
    return {
        "id": v.pk,
        "institution": v.institution.code,
        "patient": v.patient_masked,
        "visited_on": v.visited_on,
        "month": v.month,
        "department": v.department,
        "has_tcm_diagnosis": v.has_tcm_diagnosis,
        "has_technique": v.has_technique,
        "has_herbal": v.has_herbal,
        "techniques": [t for t in v.techniques.split(";") if t],
    }


@router.get("visits", response=responses(VisitPage), summary="Visits from HIS exports")
def list_visits(request: HttpRequest, filters: Query[CareFilters], pages: Query[PageQuery]) -> dict:
    rows = _filtered(request, Visit.objects.all(), filters, "visited_on", "institution")
    return _listed(rows, pages, _visit)


def _rehab(r: RehabCase) -> dict:
    return {
        "id": r.pk,
        "institution": r.institution.code,
        "patient": r.patient_masked,
        "condition": r.condition,
        "admitted_on": r.admitted_on,
        "discharged_on": r.discharged_on,
        "scale": r.scale,
        "score_admission": r.score_admission,
        "score_discharge": r.score_discharge,
        "outcome": r.outcome,
        "has_tcm": r.has_tcm,
    }


@router.get("rehab-cases", response=responses(RehabCasePage), summary="Rehabilitation cases")
def list_rehab_cases(
    request: HttpRequest, filters: Query[CareFilters], pages: Query[PageQuery]
) -> dict:
    rows = _filtered(request, RehabCase.objects.all(), filters, "admitted_on", "institution")
    return _listed(rows, pages, _rehab)


def _referral(r) -> dict:
    return {
        "id": r.pk,
        "from_institution": r.from_institution.code,
        "to_institution": r.to_institution.code,
        "direction": r.direction,
        "referred_on": r.referred_on,
        "status": r.status,
        "patient": r.patient_masked,
        "received_on": r.received_on,
        "completed_on": r.completed_on,
    }


@router.get("referrals", response=responses(ReferralPage), summary="Two-way referrals")
def list_referrals(
    request: HttpRequest, filters: Query[CareFilters], pages: Query[PageQuery]
) -> dict:
    """A referral is visible when either end is within the caller's scope (as on the web)."""
    rows = referrals_for_user(caller(request))
    if filters.orgunit:
        path = orgunit_in_scope(request, filters.orgunit).path
        rows = rows.filter(
            Q(from_institution__path__startswith=path) | Q(to_institution__path__startswith=path)
        )
    if filters.period:
        span = _period(filters.period)
        rows = rows.filter(referred_on__gte=span.start, referred_on__lte=span.end)
    return _listed(rows.order_by("-referred_on", "-id"), pages, _referral)
