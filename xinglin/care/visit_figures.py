"""Figures derived from HIS visits for the engine: total_visits and tcm_visits per institution
and month, and the techniques delivered (from the operational database, or from the visit
warehouse's Parquet copy for large volumes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q

from xinglin.care import visit_warehouse as stored
from xinglin.care.models import Visit, VisitTechnique
from xinglin.care.visit_rules import tcm_definition, tcm_q
from xinglin.collection.actions import replace_record_techniques
from xinglin.evaluation.actions import replace_derived_values

SOURCE = "care.visits"  # the engine's name for figures derived here
Row = tuple[str, str, str, float]


def year_months(year: int) -> list[str]:
    return [f"{year}{m:02d}" for m in range(1, 13)]


def visit_figures(
    months: list[str], units: Q | None = None, rules: dict | None = None
) -> list[tuple[str, str, int, int]]:
    """(institution code, month, total visits, TCM visits) from the operational database,
    under `rules` (tcm_rules() when None)."""
    visits = Visit.objects.filter(month__in=months)
    if units is not None:
        visits = visits.filter(units)
    departments = None
    if tcm_definition(rules).department is not None:
        departments = visits.values_list("department", flat=True).distinct()
    grouped = (
        visits.values("institution__code", "month")
        .annotate(total=Count("id"), tcm=Count("id", filter=tcm_q(rules, departments)))
        .order_by("institution__code", "month")
    )
    return [(g["institution__code"], g["month"], g["total"], g["tcm"]) for g in grouped]


def delivered_techniques(months: list[str]) -> list[tuple[str, str, str]]:
    """Distinct (institution code, month, item code) from the operational database."""
    grouped = (
        VisitTechnique.objects.filter(month__in=months)
        .values_list("institution__code", "month", "item__code")
        .distinct()
        .order_by("institution__code", "month", "item__code")
    )
    return list(grouped)


def engine_rows(figures: Iterable[tuple[str, str, int, int]]) -> list[Row]:
    rows: list[Row] = []
    for code, month, total, tcm in figures:
        rows += [
            ("total_visits", code, month, float(total)),
            ("tcm_visits", code, month, float(tcm)),
        ]
    return rows


@dataclass
class Derived:
    figures: int  # engine rows written
    techniques: int  # DeliveredTechnique rows written
    engine: str


def derive_visit_figures(year: int, *, warehouse=None) -> Derived:
    """Hand the year's record-derived total_visits / tcm_visits (per institution and month) to
    the engine and replace the techniques delivered with source "records". With `warehouse`
    (an xinglin.warehouse.Warehouse), the figures come from its Parquet copy instead of the
    operational database."""

    months = year_months(year)
    if warehouse is None:
        figures, delivered = visit_figures(months), delivered_techniques(months)
    else:
        figures = stored.visit_figures(warehouse, months)
        delivered = stored.delivered_techniques(warehouse, months)
    with transaction.atomic():
        written = replace_derived_values(SOURCE, engine_rows(figures), months)
        replace_record_techniques(delivered, months)
    return Derived(written, len(delivered), "warehouse" if warehouse else "database")
