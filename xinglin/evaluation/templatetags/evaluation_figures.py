"""Figures the evaluation adds to other apps' pages, so that those apps need not call the engine:
`{% timely_reporting user period %}` on collection's completeness page (seeds/001 item 21)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.contrib.auth.models import User

from xinglin.collection.completeness import ON_TIME
from xinglin.evaluation.engine import evaluate
from xinglin.lib import periods
from xinglin.network import access
from xinglin.standards.adoption import adopted_pack_codes
from xinglin.standards.expressions import element_codes
from xinglin.standards.loader import all_packs

register = template.Library()


@register.inclusion_tag("evaluation/_timely_reporting.html")
def timely_reporting(user: User, period_code: str) -> dict[str, object]:
    """The engine's timely-reporting figure of the year, as the scorecard shows it."""
    return {"year_figure": year_figure(user, period_code)}


@dataclass
class YearFigure:
    """The engine's timely-reporting result for the user's scope and the year (what the
    scorecard and the documents show), for the completeness page."""

    pack: str
    indicator: str
    result: object  # evaluation.results.Result


def year_figure(user: User, period_code: str) -> YearFigure | None:
    """The figure of the first adopted pack that computes timely reporting, for the top unit
    of the user's view scope and the period's year; None when no pack computes it."""
    roots = access.scope_roots(user)
    if len(roots) != 1:
        return None
    root, packs = roots[0], all_packs()
    for code in adopted_pack_codes(root):
        for indicator in packs[code].indicators:
            if indicator.expression and ON_TIME in element_codes(indicator.expression):
                year = str(periods.parse(period_code).start.year)
                found = evaluate(code, root, year).at(root.code)
                result = next((r for r in found if r.indicator == indicator.id), None)
                return YearFigure(code, indicator.id, result) if result else None
    return None
