"""Reported figures next to the figures derived from visit records: a check no spreadsheet
gives the bureau. Only institutions that have visit records in the year are compared (a
village clinic without an HIS export has nothing to disagree with)."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from xinglin.care.models import Visit, VisitTechnique
from xinglin.care.visit_figures import year_months
from xinglin.care.visit_rules import tcm_q, tolerance
from xinglin.collection.models import DataValue, DeliveredTechnique, TechniqueSource
from xinglin.network.models import Kind, OrgUnit

ELEMENTS = ("total_visits", "tcm_visits")
TECHNIQUE_FIGURES = ("technique_categories", "technique_items")
LABELS = {
    "total_visits": "Total visits",
    "tcm_visits": "TCM visits",
    "technique_categories": "Technique categories delivered",
    "technique_items": "Technique items delivered",
}


def _units(orgunit: OrgUnit) -> Q:
    if orgunit.kind == Kind.INSTITUTION:
        return Q(pk=orgunit.pk)
    return Q(path__startswith=orgunit.path, kind=Kind.INSTITUTION)


def institutions_with_records(orgunit: OrgUnit, year: int) -> list[int]:
    months = year_months(year)
    within = OrgUnit.objects.filter(_units(orgunit)).values("pk")
    visits = Visit.objects.filter(month__in=months, institution__in=within)
    return sorted(set(visits.values_list("institution_id", flat=True).distinct()))


def _records_by_month(units: list[int], months: list[str]) -> dict[str, dict[str, int]]:
    grouped = (
        Visit.objects.filter(institution_id__in=units, month__in=months)
        .values("month")
        .annotate(total=Count("id"), tcm=Count("id", filter=tcm_q()))
    )
    return {
        "total_visits": {g["month"]: g["total"] for g in grouped},
        "tcm_visits": {g["month"]: g["tcm"] for g in grouped},
    }


def _reported_by_month(units: list[int], months: list[str]) -> dict[str, dict[str, float]]:
    grouped = (
        DataValue.objects.filter(
            orgunit_id__in=units, period__in=months, element__code__in=ELEMENTS
        )
        .values("element__code", "period")
        .annotate(value=Sum("value"))
    )
    result: dict[str, dict[str, float]] = {code: {} for code in ELEMENTS}
    for g in grouped:
        result[g["element__code"]][g["period"]] = g["value"]
    return result


def _techniques(units: list[int], year: int) -> dict[str, tuple[set, set]]:
    """(categories, items) delivered: reported (any period of the year) and from records."""

    months = year_months(year)
    reported = DeliveredTechnique.objects.filter(
        orgunit_id__in=units, period__in=[str(year), *months], source=TechniqueSource.REPORTED
    ).values_list("item__category__code", "item__code")
    records = (
        VisitTechnique.objects.filter(institution_id__in=units, month__in=months)
        .values_list("item__category__code", "item__code")
        .distinct()
    )
    return {
        "reported": ({c for c, _ in reported}, {i for _, i in reported}),
        "records": ({c for c, _ in records}, {i for _, i in records}),
    }


def _row(code: str, reported: float | None, records: float | None, limit: float) -> dict:
    difference = None if reported is None or records is None else reported - records
    relative = None
    if difference is not None:
        relative = difference / records if records else (0.0 if not difference else None)
    flagged = difference is not None and (relative is None or abs(relative) > limit)
    return {
        "code": code,
        "label": LABELS[code],
        "reported": reported,
        "records": records,
        "difference": difference,
        "relative": relative,
        "is_flagged": flagged,
        "tolerance": limit,
    }


def compare_reported_with_records(orgunit: OrgUnit, year: int) -> list[dict]:
    """One dict per figure (total_visits, tcm_visits, technique_categories, technique_items):
    code, label (English msgid), reported, records, difference (reported − records), relative
    (difference / records), is_flagged (|relative| beyond the tolerance of
    data/tcm_visit_rules.yaml), tolerance, and for visits `monthly` [{period, reported,
    records}]. Over the institutions in `orgunit` that have visit records in `year`; an empty
    list when none has. Scope is the caller's check."""
    units = institutions_with_records(orgunit, year)
    if not units:
        return []
    months = year_months(year)
    limit = tolerance()
    records, reported = _records_by_month(units, months), _reported_by_month(units, months)
    result = []
    for code in ELEMENTS:
        total_reported = sum(reported[code].values()) if reported[code] else None
        row = _row(code, total_reported, float(sum(records[code].values())), limit)
        row["monthly"] = [
            {"period": m, "reported": reported[code].get(m), "records": records[code].get(m, 0)}
            for m in months
        ]
        result.append(row)
    techniques = _techniques(units, year)
    for position, code in enumerate(TECHNIQUE_FIGURES):
        have_reported = bool(techniques["reported"][1])
        row = _row(
            code,
            float(len(techniques["reported"][position])) if have_reported else None,
            float(len(techniques["records"][position])),
            limit,
        )
        row["only_reported"] = sorted(
            techniques["reported"][position] - techniques["records"][position]
        )
        row["only_records"] = sorted(
            techniques["records"][position] - techniques["reported"][position]
        )
        result.append(row)
    return result
