"""Yearly figures derived from the care records, per institution, for the engine.

Set-based queries (DESIGN.md: never loop over rows to compute an indicator). Rules, with their
sources, are in data/rates.yaml. Each function returns engine rows
(element_code, orgunit_code, period, value); an institution with any record in the year gets a
row, 0 when nothing counted, so the engine knows the figure comes from records.
"""

from __future__ import annotations

from datetime import date
from functools import reduce
from operator import and_, or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from xinglin.care.children import add_months, month_bounds, rate_rules, visit_months
from xinglin.care.models import Child, ChildGuidance, ConstitutionAssessment

Row = tuple[str, str, str, float]
ELDERLY_SOURCE = "care.constitution"
CHILD_SOURCE = "care.child_guidance"
ELDERLY_ELEMENT = "elderly_tcm_managed"
CHILD_ELEMENT = "children_tcm_managed"


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def managed_elderly(year: int) -> QuerySet[ConstitutionAssessment]:
    """The one assessment per person that counts in `year`: their first complete one, if they
    are min_age or older by the year's end (data/rates.yaml)."""
    rule = rate_rules()["elderly_tcm_managed"]
    qualifying = ConstitutionAssessment.objects.filter(
        is_complete=True,
        assessed_on__range=_year(year),
        resident__birth_date__lte=date(year - rule["min_age"], 12, 31),
    )
    first = qualifying.filter(resident=OuterRef("resident")).order_by("assessed_on", "id")
    return qualifying.filter(id=Subquery(first.values("id")[:1]))


def elderly_managed_rows(year: int) -> list[Row]:
    counted = managed_elderly(year).values("institution__code").annotate(n=Count("resident"))
    return _rows(ELDERLY_ELEMENT, year, _institutions_with(ConstitutionAssessment, year), counted)


def _due_in_year(year: int, month: int) -> Q:
    start, end = _year(year)
    return Q(
        birth_date__range=(add_months(start, -month), month_bounds(add_months(end, -month))[1])
    )


def _children_every_due_visit(year: int) -> QuerySet[Child]:
    months = visit_months()
    done = {
        f"done_{m}": Exists(
            ChildGuidance.objects.filter(child=OuterRef("pk"), visit_month=m, is_complete=True)
        )
        for m in months
    }
    any_due = reduce(or_, (_due_in_year(year, m) for m in months))
    all_done = reduce(and_, (~_due_in_year(year, m) | Q(**{f"done_{m}": True}) for m in months))
    return Child.objects.annotate(**done).filter(any_due & all_done)


def managed_children(year: int) -> QuerySet[ChildGuidance]:
    """The one visit per child that counts in `year` (its first complete visit that year),
    under the counting rule of data/rates.yaml."""
    rule = rate_rules()["children_tcm_managed"]["counting_rule"]
    qualifying = ChildGuidance.objects.filter(is_complete=True, visited_on__range=_year(year))
    if rule == "every_due_visit":
        qualifying = qualifying.filter(child__in=_children_every_due_visit(year).values("pk"))
    elif rule != "any_due_visit":
        raise ValueError(f"data/rates.yaml: unknown children counting_rule {rule!r}")
    first = qualifying.filter(child=OuterRef("child")).order_by("visited_on", "id")
    return qualifying.filter(id=Subquery(first.values("id")[:1]))


def children_managed_rows(year: int) -> list[Row]:
    counted = managed_children(year).values("institution__code").annotate(n=Count("child"))
    return _rows(CHILD_ELEMENT, year, _institutions_with(ChildGuidance, year), counted)


def _institutions_with(model, year: int) -> set[str]:
    field = "assessed_on" if model is ConstitutionAssessment else "visited_on"
    records = model.objects.filter(**{f"{field}__range": _year(year)})
    return set(records.values_list("institution__code", flat=True).distinct())


def _rows(element: str, year: int, institutions: set[str], counted) -> list[Row]:
    values = dict.fromkeys(institutions, 0)
    values.update({row["institution__code"]: row["n"] for row in counted})
    return [(element, code, str(year), float(n)) for code, n in sorted(values.items())]
