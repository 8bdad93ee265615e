"""Retention of care records (PIPL art. 19: personal information is kept no longer than the
purpose needs). Records dated before the cut-off are deleted, then the residents' and
children's health records that no longer have any service record and are themselves older
than the cut-off. XINGLIN_CARE_RETENTION_YEARS sets the period (docs/configuration.md)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from xinglin.care.models import (
    Child,
    ChildGuidance,
    ConstitutionAssessment,
    Referral,
    RehabCase,
    Resident,
    Visit,
    VisitTechnique,
)


def cutoff(today: date | None = None, years: int | None = None) -> date:
    """The first day still kept: `years` before today (29 February falls back to the 28th)."""
    today = today or date.today()
    years = settings.CARE_RETENTION_YEARS if years is None else years
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _expired(before: date) -> dict[str, QuerySet]:
    """In deletion order: records first, then the health records they hang on."""
    return {
        "assessments": ConstitutionAssessment.objects.filter(assessed_on__lt=before),
        "child_guidance": ChildGuidance.objects.filter(visited_on__lt=before),
        "visit_techniques": VisitTechnique.objects.filter(month__lt=f"{before:%Y%m}"),
        "visits": Visit.objects.filter(visited_on__lt=before),
        "rehab_cases": RehabCase.objects.filter(admitted_on__lt=before),
        "referrals": Referral.objects.filter(referred_on__lt=before),
        "residents": Resident.objects.filter(created_at__date__lt=before),
        "children": Child.objects.filter(birth_date__lt=before),
    }


def _without_records(name: str, rows: QuerySet, before: date) -> QuerySet:
    if name == "residents":
        return rows.exclude(assessments__assessed_on__gte=before)
    if name == "children":
        return rows.exclude(visits__visited_on__gte=before)
    return rows


@transaction.atomic
def purge_care_records(*, before: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete care records dated before `before` (default: the retention cut-off); returns the
    count per kind. With dry_run nothing is deleted. One transaction: all or nothing."""
    before = before or cutoff()
    counts = {}
    for name, expired in _expired(before).items():
        rows = _without_records(name, expired, before)
        counts[name] = rows.count()
        if not dry_run and counts[name]:
            # Residents/children are deleted by id: their exclusion joins records already gone.
            rows.model.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).delete()
    return counts
