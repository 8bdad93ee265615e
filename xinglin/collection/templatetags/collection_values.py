"""Sections that collection adds to other apps' pages, so that those apps need not read values:
`{% populations unit %}` on the division page (network/orgunit.html)."""

from __future__ import annotations

from django import template

from xinglin.collection.models import DataValue

register = template.Library()

POPULATION_ELEMENTS = ("residents", "residents_65_plus", "children_0_36_months")


@register.inclusion_tag("collection/populations.html")
def populations(unit) -> dict:
    """Population figures of a division by year: {year, residents, residents_65_plus, ...}."""
    rows: dict[str, dict] = {}
    values = DataValue.objects.filter(orgunit=unit, element__code__in=POPULATION_ELEMENTS)
    for period, code, value in values.values_list("period", "element__code", "value"):
        rows.setdefault(period, {"year": period})[code] = value
    return {"populations": [rows[year] for year in sorted(rows)]}
